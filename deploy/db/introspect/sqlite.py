"""SQLite keeps every object's CREATE statement in sqlite_master, exactly as written (and
rewritten by ALTER TABLE): that text is the most faithful catalog there is."""

from __future__ import annotations

from typing import Any

from deploy.db.ddl import read_statement
from deploy.db.introspect import JOURNAL_TABLE
from deploy.db.model import Schema

QUERY = (
    "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
    "AND tbl_name <> ? ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, name"
)


def introspect_sqlite(conn: Any) -> Schema:
    schema = Schema("sqlite")
    for _kind, _name, sql in conn.cursor().execute(QUERY, JOURNAL_TABLE).fetchall():
        read_statement(schema, sql, 1)
    return schema
