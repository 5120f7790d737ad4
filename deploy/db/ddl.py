"""Read one DDL statement into the model: CREATE TABLE / INDEX / SCHEMA / SEQUENCE,
ALTER TABLE ... ADD, and programmable objects (kept whole, as text).

The same reader serves the `sql/` tree and introspection (SQLite's own CREATE text,
PostgreSQL's pg_get_indexdef / pg_get_constraintdef), so both sides normalise alike."""

from __future__ import annotations

from deploy.db import normal
from deploy.db.cursor import Cursor
from deploy.db.ddl_table import (
    TABLE_CONSTRAINT_STARTS, TableParts, column, create_table, if_not_exists, index_part, skip_words, table_constraint,
)
from deploy.db.model import Index, Routine, Schema, Sequence, qualify
from deploy.db.mysql.reader import read_mysql_statement
from deploy.db.sqltext import PROGRAMMABLE


def read_statement(schema: Schema, text: str, line: int) -> None:
    """Add what one statement declares to `schema`; anything else is a syntax error."""
    if schema.dialect == "mysql":
        return read_mysql_statement(schema, text, line)
    if PROGRAMMABLE.match(text):
        schema.add_routine(_routine(text, line, schema.dialect))
        return
    cur = Cursor(text, line, schema.dialect)
    if cur.accept("CREATE"):
        cur.accept("TEMP") or cur.accept("TEMPORARY")
        if cur.accept("TABLE"):
            inline: list[Index] = []
            schema.add_table(create_table(cur, inline))
            for ix in inline:
                schema.add_index(ix)
            return None
        if cur.at("SCHEMA"):
            cur.next()
            return schema.schemas.add(cur.ident())
        if cur.accept("SEQUENCE"):
            return _create_sequence(cur, schema)
        return schema.add_index(_create_index(cur))
    if cur.accept("ALTER", "TABLE"):
        return _alter_table(cur, schema)
    if cur.at("USE") or cur.at("SET"):
        return None  # session settings in a schema file (USE db; SET ANSI_NULLS ON) change no object
    cur.fail("not a schema statement (CREATE TABLE/INDEX/VIEW/..., ALTER TABLE ... ADD)")


def _create_index(cur: Cursor) -> Index:
    unique = cur.accept("UNIQUE")
    method = _index_kind(cur)
    cur.expect("INDEX")
    if_not_exists(cur)
    _, name = cur.qualified()
    cur.expect("ON")
    cur.accept("ONLY")
    table = cur.name()
    if cur.accept("USING"):
        used = cur.next().text.lower()
        method = None if used == "btree" else used
    columns = []
    if cur.accept("("):  # a clustered columnstore index has no column list
        columns = [index_part(cur)]
        while cur.accept(","):
            columns.append(index_part(cur))
        cur.expect(")")
    if cur.accept("INCLUDE"):
        cur.ident_list()
    where = None
    if cur.accept("WHERE"):
        where = cur.until_depth_zero(stop=set())
        where = where[1:-1] if where.startswith("(") and normal.wrapped(where) else where
    return Index(name, table, tuple(columns), unique, where, method)


def _index_kind(cur: Cursor) -> str | None:
    """T-SQL's CLUSTERED / COLUMNSTORE words; None is the dialect's ordinary index."""
    clustered = cur.accept("CLUSTERED")
    cur.accept("NONCLUSTERED")
    if cur.accept("COLUMNSTORE"):
        return "clustered columnstore" if clustered else "columnstore"
    return "clustered" if clustered else None


def _create_sequence(cur: Cursor, schema: Schema) -> None:
    if_not_exists(cur)
    name = cur.name()
    start = increment = 1
    skip_words(cur, "AS")
    while cur.peek() is not None:
        if cur.accept("START"):
            cur.accept("WITH")
            start = int(_signed_number(cur))
        elif cur.accept("INCREMENT"):
            cur.accept("BY")
            increment = int(_signed_number(cur))
        else:
            cur.next()
    schema.add_sequence(Sequence(name, start, increment))


def _signed_number(cur: Cursor) -> str:
    sign = "-" if cur.accept("-") else ""
    return sign + cur.next().text


def _alter_table(cur: Cursor, schema: Schema) -> None:
    name = cur.name()
    table = schema.table(name)
    if table is None:
        cur.fail(f"ALTER TABLE {name}: the table is not declared before this statement")
    cur.expect("ADD")
    parts = TableParts()
    parts.primary_key = table.primary_key
    parts.uniques, parts.checks = list(table.uniques), list(table.checks)
    parts.foreign_keys = list(table.foreign_keys)
    if cur.peek() is not None and cur.peek().upper in TABLE_CONSTRAINT_STARTS:
        table_constraint(cur, parts)
        columns = list(table.columns)
    else:
        cur.accept("COLUMN")
        columns = [*table.columns, column(cur, parts)]
    schema.add_table(parts.table(table.name, columns, schema.dialect))


def _routine(text: str, line: int, dialect: str) -> Routine:
    kind = PROGRAMMABLE.match(text).group("kind").upper().split()[-1]
    kind = {"PROC": "procedure"}.get(kind, kind.lower())
    cur = Cursor(text, line, dialect)
    while cur.peek() is not None and cur.peek().upper not in ("VIEW", "PROC", "PROCEDURE", "FUNCTION", "TRIGGER"):
        cur.next()
    cur.next()
    if_not_exists(cur)
    schema, short = cur.qualified()
    table = None
    if kind == "trigger":
        while cur.peek() is not None and not cur.accept("ON"):
            cur.next()
        table = cur.name() if cur.peek() is not None else None
        schema = schema or (table.schema if table else None)  # a trigger lives in its table's schema
    return Routine(kind, qualify(short, schema, dialect), text.strip().rstrip(";").rstrip(), table)
