"""A DataDiff as statements in foreign-key-safe order, as reviewable text (streamed: a
big table's script is never built whole) and applied in one transaction. Every statement
is parsed back before it is printed or run (deploy/db/render/verify.py): a value that
escaped its quotes would be an extra statement, and fails."""

from __future__ import annotations

from itertools import groupby, islice
from typing import Any, Callable, Iterator

from deploy.db.data.compare import DataDiff, TableSpec
from deploy.db.data.render import ROWS_PER_STATEMENT, DataRenderer
from deploy.db.errors import StatementFailed
from deploy.db.render.tsql_script import GUARD, header, terminated
from deploy.db.render.verify import Expected, check_batch, check_statements
from deploy.db.tsql_target import resolve


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    items = iter(items)
    while chunk := list(islice(items, size)):
        yield chunk


def statements(diff: DataDiff, dialect: str, merge: bool = False) -> Iterator[str]:
    """Inserts and updates parents first, then deletes children first."""
    r = DataRenderer(dialect)
    for spec in diff.specs:
        yield from _upserts(r, diff, spec, dialect, merge)
    for spec in reversed(diff.specs):
        for keys in _chunks((k for k, _ in diff.changes(spec, "delete")), ROWS_PER_STATEMENT):
            yield r.delete(spec.table.name, keys, spec.kinds)


def _upserts(r: DataRenderer, diff: DataDiff, spec: TableSpec, dialect: str, merge: bool) -> Iterator[str]:
    name, identity = spec.table.name, _identity_column(spec)
    explicit = dialect == "tsql" and identity is not None and diff.counts[str(name)].insert > 0
    if explicit:
        yield r.identity_insert(name, True)
    inserts = (values for _, values in diff.changes(spec, "insert"))
    for columns, group in groupby(inserts, key=lambda row: tuple(row)):
        for rows in _chunks(group, ROWS_PER_STATEMENT):
            yield r.merge(name, spec.key, rows, spec.kinds) if merge else r.insert(name, rows, spec.kinds)
    if explicit:
        yield r.identity_insert(name, False)
    updates = (({**key, **values}, key, values) for key, values in diff.changes(spec, "update"))
    if merge:
        for columns, group in groupby(updates, key=lambda u: tuple(u[0])):
            for rows in _chunks((full for full, _, _ in group), ROWS_PER_STATEMENT):
                yield r.merge(name, spec.key, rows, spec.kinds)
        return
    for _, key, values in updates:
        yield r.update(name, key, values, spec.kinds)


def _identity_column(spec: TableSpec) -> str | None:
    return next((c.name for c in spec.table.columns if c.identity), None)


def checked(sql: str, dialect: str) -> str:
    """The statement as printed and run, once parsed back as exactly one statement."""
    if dialect == "tsql":
        text = terminated(sql)
        check_batch(text, Expected(text), "tsql", "data statement")
        return text
    check_statements(sql + ";", [Expected(sql)], dialect)
    return sql + ";"


def text_chunks(diff: DataDiff, dialect: str, merge: bool = False, server_version: str | None = None) -> Iterator[str]:
    """The reviewable script, a statement at a time (T-SQL: the same guarded layout as schema scripts)."""
    if dialect == "tsql":
        yield header(resolve(server_version, None)) + "SET XACT_ABORT ON;\nGO\nBEGIN TRANSACTION;\nGO\n"
        for sql in statements(diff, dialect, merge):
            yield f"{checked(sql, dialect)}\nGO\n{GUARD}\nGO\n"
        yield "COMMIT TRANSACTION;\nGO\nSET NOEXEC OFF;\nGO\n"
        return
    yield "BEGIN;\n"
    for sql in statements(diff, dialect, merge):
        yield checked(sql, dialect) + "\n"
    yield "COMMIT;\n"


def apply(conn: Any, diff: DataDiff, dialect: str, merge: bool = False, log: Callable[[str], None] = lambda _: None) -> int:
    """All statements in one transaction; the first failure rolls everything back."""
    import pyodbc

    conn.autocommit = False
    count = 0
    try:
        cursor = conn.cursor()
        if dialect == "sqlite":
            cursor.execute("PRAGMA defer_foreign_keys = ON")  # rows of a self-referencing table in any order
        for sql in statements(diff, dialect, merge):
            text = checked(sql, dialect)
            count += 1
            try:
                cursor.execute(text)
            except pyodbc.Error as e:
                raise StatementFailed(text, count, " ".join(str(a) for a in e.args), "data sync") from None
        try:
            conn.commit()
        except pyodbc.Error as e:
            raise StatementFailed("COMMIT", count, " ".join(str(a) for a in e.args), "data sync") from None
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.autocommit = True
    log(f"data: {count} statement(s) applied")
    return count
