"""render(plan, dialect) -> Script. Rendering is all-or-nothing: a change a dialect cannot
express raises RenderError before anything runs."""

from __future__ import annotations

from deploy.db.plan import Plan
from deploy.db.render.base import Script, Step


def renderer(dialect: str):
    from deploy.db.render.postgres import PostgresRenderer
    from deploy.db.render.sqlite import SqliteRenderer
    from deploy.db.render.tsql import TsqlRenderer
    from deploy.db.mysql.render import MysqlRenderer

    renderers = {"postgres": PostgresRenderer, "sqlite": SqliteRenderer, "tsql": TsqlRenderer, "mysql": MysqlRenderer}
    return renderers[dialect]()


def render(plan: Plan, dialect: str | None = None) -> Script:
    return renderer(dialect or plan.desired.dialect).render(plan)


__all__ = ["render", "renderer", "Script", "Step"]
