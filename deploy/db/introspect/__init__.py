"""introspect(conn, dialect) -> Schema. Each dialect turns its catalog into DDL text and
reads it with the same reader as the `sql/` tree, so both sides normalise alike.
PostgreSQL returns its own catalog model instead (deploy/db/postgres)."""

from __future__ import annotations

from typing import Any


JOURNAL_TABLE = "shipyard_migrations"  # Shipyard's own; never part of a compare


def introspect(conn: Any, dialect: str, with_owners: bool = True) -> Any:
    """The live schema; `with_owners=False` (PostgreSQL) skips reading who owns what, for a
    compare that does not sync owners."""
    if dialect == "postgres":
        from deploy.db.postgres.introspect import introspect_catalog

        return introspect_catalog(conn, with_owners)
    if dialect == "sqlite":
        from deploy.db.introspect.sqlite import introspect_sqlite as run
    elif dialect == "mysql":
        from deploy.db.introspect.mysql import introspect_mysql as run
    else:
        from deploy.db.introspect.tsql import introspect_tsql as run
    return run(conn)
