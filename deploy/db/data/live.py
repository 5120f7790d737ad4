"""Live rows of one table in keyed pages (keyset pagination: `WHERE key > last ORDER BY key`),
so a big table is never read whole: psqlODBC, for one, would otherwise buffer the whole
result in the client. Instants are read as UTC, so every dialect hands over the same form."""

from __future__ import annotations

from typing import Any, Iterator

from deploy.db.data.values import kind_of
from deploy.db.model import Table


def quoter(dialect: str) -> Any:
    from deploy.db.render import renderer

    return renderer(dialect)


def _read_expr(q: Any, dialect: str, name: str, sql_type: str) -> str:
    col = q.q(name)
    if kind_of(sql_type) == "timestamptz":
        if dialect == "postgres":
            return f"({col} AT TIME ZONE 'UTC') AS {col}"
        if dialect == "tsql":
            return f"CONVERT(datetime2, SWITCHOFFSET({col}, '+00:00')) AS {col}"
    return col


def _after(q: Any, key: tuple[str, ...]) -> str:
    """(k1, k2) > (?, ?) spelled out: SQL Server has no row-value comparison."""
    terms = []
    for i, k in enumerate(key):
        equal = [f"{q.q(p)} = ?" for p in key[:i]]
        terms.append("(" + " AND ".join([*equal, f"{q.q(k)} > ?"]) + ")")
    return " OR ".join(terms)


def _params(last: tuple, key: tuple[str, ...]) -> list[Any]:
    out: list[Any] = []
    for i in range(len(key)):
        out += [*last[:i], last[i]]
    return out


def pages(conn: Any, dialect: str, table: Table, key: tuple[str, ...], columns: list[str],
          batch: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """Pages of {column: value} ordered by `key`; `columns` are the ones compared."""
    q = quoter(dialect)
    wanted = [*key, *[c for c in columns if c not in key]]
    types = {c.name: c.type for c in table.columns}
    select = ", ".join(_read_expr(q, dialect, c, types[c]) for c in wanted)
    order = ", ".join(q.q(k) for k in key)
    top, limit = (f"TOP ({batch}) ", "") if dialect == "tsql" else ("", f" LIMIT {batch}")
    first = f"SELECT {top}{select} FROM {q.qn(table.name)} ORDER BY {order}{limit}"
    following = f"SELECT {top}{select} FROM {q.qn(table.name)} WHERE {_after(q, key)} ORDER BY {order}{limit}"
    cursor = conn.cursor()
    last: tuple | None = None
    while True:
        rows = (cursor.execute(first) if last is None else cursor.execute(following, *_params(last, key))).fetchall()
        if not rows:
            return
        page = [dict(zip(wanted, row)) for row in rows]
        yield page
        if len(rows) < batch:
            return
        last = tuple(page[-1][k] for k in key)
