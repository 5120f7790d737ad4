"""One MySQL statement into the model: CREATE TABLE / INDEX, ALTER TABLE ... ADD, and views,
triggers, procedures, functions and events (kept whole, as text, with a comparison key)."""

from __future__ import annotations

import re
from dataclasses import replace

from deploy.db.cursor import Cursor
from deploy.db.ddl_table import TableParts
from deploy.db.model import Index, QName, Routine, Schema
from deploy.db.mysql.ddl import create_table, index_parts, table_item
from deploy.db.sqltext import fingerprint

PROGRAMMABLE = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:ALGORITHM\s*=\s*\w+\s+)?(?:DEFINER\s*=\s*(?:`[^`]*`|'[^']*'|\w+)"
    r"(?:\s*@\s*(?:`[^`]*`|'[^']*'|[\w.%-]+))?(?:\s*\(\s*\))?\s+)?(?:SQL\s+SECURITY\s+\w+\s+)?(?:AGGREGATE\s+)?"
    r"(?P<kind>VIEW|PROCEDURE|FUNCTION|TRIGGER|EVENT)\b",
    re.IGNORECASE,
)
_STARTS = re.compile(r"\s+STARTS\s+'[^']*'", re.IGNORECASE)
SKIPPED = ("USE", "SET", "LOCK", "UNLOCK", "INSERT", "REPLACE", "DELETE", "UPDATE", "START", "COMMIT", "BEGIN", "DROP")


def read_mysql_statement(schema: Schema, text: str, line: int) -> None:
    if PROGRAMMABLE.match(text):
        schema.add_routine(routine(text, line))
        return
    cur = Cursor(text, line, "mysql")
    if cur.accept("CREATE"):
        cur.accept("TEMPORARY")
        if cur.accept("TABLE"):
            declared = create_table(cur)
            schema.add_table(declared.table)
            for ix in declared.indexes:
                schema.add_index(ix)
            return
        cur.accept("OR", "REPLACE")
        return schema.add_index(_create_index(cur))
    if cur.accept("ALTER", "TABLE"):
        return _alter_table(cur, schema)
    if cur.peek() is not None and cur.peek().upper in SKIPPED:
        return None  # session settings and data in a schema file change no object
    cur.fail("not a schema statement (CREATE TABLE/INDEX/VIEW/..., ALTER TABLE ... ADD)")


def routine(text: str, line: int) -> Routine:
    kind = PROGRAMMABLE.match(text).group("kind").lower()
    cur = Cursor(text, line, "mysql")
    while cur.peek() is not None and cur.peek().upper != kind.upper():
        cur.next()
    cur.next()
    cur.accept("IF", "NOT", "EXISTS")
    _, name = cur.qualified()
    table = None
    if kind == "trigger":
        while cur.peek() is not None and not cur.accept("ON"):
            cur.next()
        table = QName(None, cur.qualified()[1]) if cur.peek() is not None else None
    definition = text.strip().rstrip(";").rstrip()
    return Routine(kind, QName(None, name), definition, table, comparison_key(kind, definition))


def comparison_key(kind: str, definition: str) -> str:
    """An event's STARTS is when it was created unless declared, so it is never compared."""
    text = _STARTS.sub("", definition) if kind == "event" else definition
    return fingerprint(text, "mysql")


def _create_index(cur: Cursor) -> Index:
    """CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX n [USING t] ON tbl (parts) [options], as the
    KEY line SHOW CREATE TABLE would print inside the table."""
    words = []
    while cur.peek() is not None and cur.peek().upper != "INDEX":
        words.append(cur.next().upper)
    cur.expect("INDEX")
    name = cur.ident()
    if cur.accept("USING"):
        cur.next()
    cur.expect("ON")
    table = cur.name()
    parts_at = cur.pos
    parts = index_parts(cur)
    kind = " ".join(w for w in words if w in ("UNIQUE", "FULLTEXT", "SPATIAL", "VECTOR"))
    listed = cur.text[cur.tokens[parts_at].start:].strip()
    return Index(name, table, parts, "UNIQUE" in words,
                 method=next((w.lower() for w in words if w in ("FULLTEXT", "SPATIAL", "VECTOR")), None),
                 source=f"{kind + ' ' if kind else ''}KEY `{name.replace('`', '``')}` {listed}")


def _alter_table(cur: Cursor, schema: Schema) -> None:
    """ALTER TABLE t ADD ... in a schema file: columns, keys, indexes, checks, foreign keys."""
    name = cur.name()
    table = schema.table(name)
    if table is None:
        cur.fail(f"ALTER TABLE {name}: the table is not declared before this statement")
    parts = TableParts()
    parts.primary_key, parts.checks, parts.foreign_keys = table.primary_key, list(table.checks), list(table.foreign_keys)
    columns, indexes = list(table.columns), []
    while True:
        cur.expect("ADD")
        cur.accept("COLUMN")
        table_item(cur, name, parts, columns, indexes)
        if not cur.accept(","):
            break
    new = parts.table(name, columns, "mysql")
    schema.add_table(replace(new, options=table.options, partition=table.partition))
    for ix in indexes:
        schema.add_index(ix)
