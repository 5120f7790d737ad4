"""The entry points the tasks and the deploy step use, whatever the engine: PostgreSQL is
compared catalog to catalog (deploy/db/postgres, the desired state loaded into a shadow
database); SQLite and T-SQL through the generic model (deploy/db/model.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def is_catalog(side: Any) -> bool:
    from deploy.db.postgres.model import Catalog

    return isinstance(side, Catalog)


def plan(current: Any, desired: Any, renames: list | None = None, with_privileges: bool = False,
         skip_destructive: bool = False, concurrently: bool = False, with_owners: bool = False,
         lock_timeout: str | None = None) -> Any:
    """The ordered plan from `current` to `desired` (a Plan; a PgPlan for PostgreSQL). With
    `skip_destructive`, what would lose data is left out (and listed in `plan.withheld`); with
    `concurrently` (PostgreSQL), indexes on tables that stay are built and dropped online;
    with `with_owners` (PostgreSQL), owners are synced too; `lock_timeout` (PostgreSQL) bounds
    each statement's wait for a lock (3s by default with `concurrently`)."""
    if is_catalog(current) != is_catalog(desired):
        from deploy.errors import UsageError

        raise UsageError("cannot compare a PostgreSQL catalog with a schema of another format "
                         "(a snapshot written by an older Shipyard, or another engine)")
    if is_catalog(current):
        from deploy.db.postgres.diff import diff_catalogs
        from deploy.db.postgres.renames import apply_renames

        current, statements, changes = apply_renames(current, desired, renames or [])
        withheld: list[str] = []
        if skip_destructive:
            from deploy.db.postgres.withhold import keep_data

            desired, withheld = keep_data(current, desired)
        result = diff_catalogs(current, desired, with_privileges, concurrently, with_owners, lock_timeout)
        result.statements[:0] = statements
        result.changes[:0] = changes
        result.withheld = withheld
        return result
    from deploy.db.diff import diff

    result = diff(current, desired, renames)
    if skip_destructive and result.destructive:  # put the live objects back, never render half a plan
        from deploy.db.withhold import withheld_desired

        kept, withheld = withheld_desired(result)
        result = diff(current, kept, renames)
        result.withheld = [c.describe() for c in withheld]
    return result


def from_json(data: dict) -> Any:
    from deploy.db.model import Schema
    from deploy.db.postgres.model import Catalog, is_catalog_json

    return Catalog.from_json(data) if is_catalog_json(data) else Schema.from_json(data)


def desired(directory: Path, dialect: str, shadow: Any = None) -> Any:
    """The `sql/schema` tree as the engine sees it (PostgreSQL: through a shadow database)."""
    if dialect == "postgres":
        from deploy.db.postgres.shadow import ShadowSource, desired_catalog, schema_files

        return desired_catalog(schema_files(directory), shadow or ShadowSource())
    from deploy.db.desired import from_directory

    return from_directory(directory, dialect)
