"""render(plan, dialect) -> Script. Rendering is all-or-nothing: a change a dialect cannot
express raises RenderError before anything runs."""

from __future__ import annotations

from deploy.db.plan import Plan
from deploy.db.render.base import Script, Step


def renderer(dialect: str, server_version: str | None = None):
    """Only the dialect's own renderer is imported (the CLI's start-up time)."""
    if dialect == "tsql":
        from deploy.db.render.tsql import TsqlRenderer

        return TsqlRenderer(server_version)
    if dialect == "postgres":
        from deploy.db.render.postgres import PostgresRenderer

        return PostgresRenderer()
    if dialect == "mysql":
        from deploy.db.mysql.render import MysqlRenderer

        return MysqlRenderer()
    if dialect == "sqlite":
        from deploy.db.render.sqlite import SqliteRenderer

        return SqliteRenderer()
    raise ValueError(f"no renderer for dialect {dialect!r}")


def render(plan: Plan, dialect: str | None = None, server_version: str | None = None) -> Script:
    """`server_version`: T-SQL only, the declared target (else what introspection recorded, else 2016)."""
    return renderer(dialect or plan.desired.dialect, server_version).render(plan)


__all__ = ["render", "renderer", "Script", "Step"]
