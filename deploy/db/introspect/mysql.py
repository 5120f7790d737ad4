"""A live MySQL/MariaDB database -> model. information_schema lists the objects and gives each
column's effective character set and collation; SHOW CREATE gives each object as the server
itself renders it, read with the same reader as the `sql/` files. The connection's database
is the one read; objects are named without it (QName(None, name))."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from deploy.db.introspect import JOURNAL_TABLE
from deploy.db.model import QName, Routine, Schema
from deploy.db.mysql.reader import read_mysql_statement, routine

TABLES = ("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
          f"AND TABLE_TYPE <> 'VIEW' AND TABLE_NAME <> '{JOURNAL_TABLE}' ORDER BY TABLE_NAME")
MODELLED = ("BASE TABLE", "SYSTEM VERSIONED")
COLUMNS = ("SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS "
           "WHERE TABLE_SCHEMA = DATABASE() AND CHARACTER_SET_NAME IS NOT NULL")
# triggers in the order they fire (per table, timing and event): that order is part of them
OBJECTS = " UNION ALL ".join([
    "SELECT 'view', TABLE_NAME, '', 0 FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
    "SELECT 'trigger', TRIGGER_NAME, concat(EVENT_OBJECT_TABLE, ' ', ACTION_TIMING, ' ', EVENT_MANIPULATION), ACTION_ORDER "
    "FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
    "SELECT lower(ROUTINE_TYPE), ROUTINE_NAME, '', 0 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()",
    "SELECT 'event', EVENT_NAME, '', 0 FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()",
]) + " ORDER BY 1, 3, 4, 2"
# the column of each SHOW CREATE answer that holds the statement
_STATEMENT_COLUMN = {"table": "Create Table", "view": "Create View", "trigger": "SQL Original Statement",
                     "procedure": "Create Procedure", "function": "Create Function", "event": "Create Event"}


def q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def show_create(cur: Any, kind: str, name: str) -> str:
    cur.execute(f"SHOW CREATE {kind.upper()} {q(name)}")
    row = cur.fetchone()
    names = [d[0] for d in cur.description]
    return row[names.index(_STATEMENT_COLUMN[kind])]


def introspect_mysql(conn: Any) -> Schema:
    cur = conn.cursor()
    schema = Schema("mysql")
    schema.server_version = cur.execute("SELECT VERSION()").fetchone()[0]
    for name, kind in cur.execute(TABLES).fetchall():
        if kind in MODELLED:
            read_mysql_statement(schema, show_create(cur, "table", name), 1)
        else:  # MariaDB's SEQUENCE: neither compared nor ever dropped, and said so
            schema.unsupported.append(f"{kind.lower()} {name}")
    _column_charsets(cur, schema)
    for kind, name, _group, position in cur.execute(OBJECTS).fetchall():
        found = _routine(kind, show_create(cur, kind, name))
        if kind == "trigger":  # the same text firing in another place is another trigger
            found = replace(found, fingerprint=f"{found.fingerprint}#{position}")
        schema.add_routine(found)
    return schema


def _column_charsets(cur: Any, schema: Schema) -> None:
    """SHOW CREATE TABLE leaves out a column's character set when it is the table's default;
    the effective one (from information_schema) is what a change must keep."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for table, column, charset, collation in cur.execute(COLUMNS).fetchall():
        found[(table.lower(), column.lower())] = (charset, collation)
    for key, table in list(schema.tables.items()):
        columns = tuple(replace(c, charset=found[(key[1], c.name.lower())][0], collation=found[(key[1], c.name.lower())][1])
                        if (key[1], c.name.lower()) in found else c for c in table.columns)
        schema.add_table(replace(table, columns=columns))


def _routine(kind: str, text: str) -> Routine:
    found = routine(text, 1)
    return found if found.kind == kind else replace(found, kind=kind)


__all__ = ["introspect_mysql", "show_create", "q", "QName"]
