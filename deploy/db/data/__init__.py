"""Reference-data compare (what RedGate Data Compare did): the tables named in
`[env.X.db] data` are kept equal to `sql/data/<table>.csv|.json|.sql`, by key, with
INSERT / UPDATE (changed columns only) / DELETE in foreign-key-safe order. Deletes are
destructive: refused without --allow-destructive, like schema drops.

`diff_data(conn, dialect, settings, sql_dir)` -> DataDiff; `sync_data(...)` prints the
script (streamed) and applies it when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from deploy.db.data import script
from deploy.db.data.compare import DataDiff, compare, resolve_specs
from deploy.db.errors import DestructiveRefused
from deploy.errors import UsageError

_NOT_YET = {"mysql": "MySQL/MariaDB (backslashes in string literals and `timestamp` time zones are not handled yet)"}


def diff_data(conn: Any, dialect: str, settings: Any, sql_dir: Path, schema: Any = None) -> DataDiff:
    """Compare every configured table; `schema` (the live tables) is read when not given."""
    refuse_unsupported(dialect)
    specs = resolve_specs(schema or live_tables(conn, dialect), settings.data, sql_dir / "data")
    return compare(conn, dialect, specs, settings.data_batch)


def refuse_unsupported(dialect: str) -> None:
    """Before anything is read or written (a deploy calls it before its first database step)."""
    if dialect in _NOT_YET:
        raise UsageError(f"reference-data compare ([[env.X.db.data]]) is not available on {_NOT_YET[dialect]}; "
                         "use sql/migrations for reference rows there")


def live_tables(conn: Any, dialect: str) -> Any:
    """The live tables in the generic model. PostgreSQL's schema compare reads a catalog
    model of its own, so its table shapes come from their own small reader."""
    if dialect == "postgres":
        from deploy.db.postgres.table_shapes import table_shapes

        return table_shapes(conn)
    from deploy.db.introspect import introspect

    return introspect(conn, dialect)


def refuse_deletes(diff: DataDiff, allowed: bool) -> None:
    if diff.deletes and not allowed:
        raise DestructiveRefused([f"delete {c.delete} row(s) from {t}" for t, c in diff.counts.items() if c.delete])


def sync_data(conn: Any, dialect: str, settings: Any, sql_dir: Path, *, apply_it: bool, allow_destructive: bool,
              write: Callable[[str], None] = print, schema: Any = None) -> DataDiff:
    """Print the data script; with `apply_it`, run it in one transaction (deletes refused
    unless allowed, before anything runs). Returns the diff (closed)."""
    diff = diff_data(conn, dialect, settings, sql_dir, schema)
    try:
        if apply_it:
            refuse_deletes(diff, allowed=allow_destructive or settings.allow_destructive)
        if diff.total:
            for chunk in script.text_chunks(diff, dialect, settings.data_merge, settings.server_version):
                write(chunk.rstrip("\n"))
        for table, counts in diff.counts.items():
            write(f"-- {table}: {counts}")
        if apply_it and diff.total:
            script.apply(conn, diff, dialect, settings.data_merge)
        return diff
    finally:
        diff.close()


def preview(conn: Any, dialect: str, settings: Any, sql_dir: Path, limit: int = 200) -> str | None:
    """The first `limit` lines of the data script, for `invoke plan`; None when in sync."""
    diff = diff_data(conn, dialect, settings, sql_dir)
    try:
        if not diff.total:
            return None
        lines: list[str] = []
        for chunk in script.text_chunks(diff, dialect, settings.data_merge, settings.server_version):
            lines += chunk.rstrip("\n").splitlines()
            if len(lines) > limit:
                lines = lines[:limit] + [f"-- ... ({diff.total} row change(s) in all)"]
                break
        return "\n".join([*lines, *(f"-- {t}: {c}" for t, c in diff.counts.items())])
    finally:
        diff.close()


__all__ = ["DataDiff", "diff_data", "refuse_unsupported", "live_tables", "sync_data", "preview", "refuse_deletes"]
