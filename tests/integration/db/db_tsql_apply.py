"""Apply Shipyard's own T-SQL output to a model in memory (no SQL Server here): enough of
T-SQL's DDL semantics to re-diff a generated script against the schema it should reach."""

from __future__ import annotations

import re
from dataclasses import replace

from deploy.db.cursor import Cursor
from deploy.db.ddl import read_statement
from deploy.db.model import QName, Schema, Table
from deploy.db.render.verify import without_sqlcmd
from deploy.db.sqltext import go_batches, split_statements, unquote

_SKIP = re.compile(r"^(SET \w+ (ON|OFF)|BEGIN TRANSACTION|COMMIT TRANSACTION|IF @@.*|UPDATE .*"
                   r"|IF OBJECT_ID\(N'[^']*'\) IS NULL EXEC\(.*\))$", re.I | re.S)
_GUARDED_DROP = re.compile(r"^IF (?:OBJECT_ID\(N'[^']*'(?:, N'\w+')?\) IS NOT NULL|EXISTS \(SELECT 1 FROM sys\.indexes .*?\)) "
                           r"(DROP .*)$", re.I | re.S)


def apply_tsql(schema: Schema, script: str) -> Schema:
    """The script's batches as SQL Server would run them, minus the guards and placeholders."""
    out = Schema.from_json(schema.to_json())
    for batch in go_batches(without_sqlcmd(script)):
        if batch.strip().startswith("IF @@"):
            continue  # the guard after each batch
        for stmt in split_statements(batch, "tsql"):
            _apply(out, stmt.text.strip().rstrip(";").rstrip())
    return out


def _name(text: str) -> QName:
    cur = Cursor(text, 1, "tsql")
    return cur.name()


def _literal(text: str) -> str:
    return text.replace("''", "'")


def _apply(schema: Schema, sql: str) -> None:
    text = sql.strip()
    if _SKIP.match(text):
        return
    if m := _GUARDED_DROP.match(text):
        text = m.group(1)
    text = re.sub(r"^DROP (\w+) IF EXISTS ", r"DROP \1 ", text, flags=re.I)
    text = re.sub(r"^ALTER (VIEW|PROCEDURE|PROC|FUNCTION|TRIGGER)\b", r"CREATE \1", text, flags=re.I)
    if m := re.match(r"^DROP (VIEW|PROCEDURE|FUNCTION|TRIGGER) (.+)$", text, re.I):
        del schema.routines[(m.group(1).lower(), _name(m.group(2)).key)]
    elif m := re.match(r"^DROP TABLE (.+)$", text, re.I):
        table = _name(m.group(1)).key
        del schema.tables[table]
        for key in [k for k, ix in schema.indexes.items() if ix.table.key == table]:
            del schema.indexes[key]
    elif m := re.match(r"^DROP INDEX (\S+) ON (.+)$", text, re.I):
        del schema.indexes[(_name(m.group(2)).key, unquote(m.group(1)).lower())]
    elif m := re.match(r"^DROP SEQUENCE (.+)$", text, re.I):
        del schema.sequences[_name(m.group(1)).key]
    elif m := re.match(r"^ALTER TABLE (\S+) (DROP CONSTRAINT|DROP COLUMN|ALTER COLUMN) (\S+)(.*)$", text, re.I | re.S):
        table = schema.table(_name(m.group(1)))
        schema.add_table(_alter(table, m.group(2).upper(), unquote(m.group(3)), m.group(4).strip()))
    elif m := re.match(r"^ALTER TABLE (\S+) ADD CONSTRAINT (\S+) DEFAULT \((.*)\) FOR (\S+)$", text, re.I | re.S):
        table = schema.table(_name(m.group(1)))
        col = unquote(m.group(4))
        schema.add_table(replace(table, columns=tuple(
            replace(c, default=m.group(3), default_name=unquote(m.group(2))) if c.name.lower() == col.lower() else c
            for c in table.columns)))
    elif m := re.match(r"^EXEC sp_rename N'((?:[^']|'')+)', N'((?:[^']|'')+)'(, N'COLUMN')?$", text, re.I):
        _rename(schema, _literal(m.group(1)), _literal(m.group(2)), bool(m.group(3)))
    else:
        read_statement(schema, text, 1)


def _alter(table: Table, action: str, name: str, rest: str) -> Table:
    lower = name.lower()
    if action == "DROP COLUMN":
        return replace(table, columns=tuple(c for c in table.columns if c.name.lower() != lower))
    if action == "ALTER COLUMN":
        typ, collation, null = re.match(r"^(.*?)(?:\s+COLLATE\s+(\S+))?\s+(NULL|NOT NULL)$", rest, re.I).groups()
        return replace(table, columns=tuple(
            replace(c, type=typ.lower(), nullable=null.upper() == "NULL", collation=collation)
            if c.name.lower() == lower else c for c in table.columns))
    keep = lambda xs: tuple(x for x in xs if (x.name or "").lower() != lower)  # noqa: E731
    pk = None if table.primary_key and (table.primary_key.name or "").lower() == lower else table.primary_key
    short = table.name.name  # a default read from files has no name: Shipyard's own is DF_<table>_<col>
    columns = tuple(replace(c, default=None, default_name=None)
                    if (c.default_name or f"DF_{short}_{c.name}").lower() == lower else c for c in table.columns)
    return replace(table, columns=columns, primary_key=pk, uniques=keep(table.uniques), checks=keep(table.checks),
                   foreign_keys=keep(table.foreign_keys))


def _rename(schema: Schema, old: str, new: str, column: bool) -> None:
    if column:
        *table_parts, col = Cursor(old, 1, "tsql").dotted()
        table = schema.table(QName(*table_parts[-2:]) if len(table_parts) > 1 else QName("dbo", table_parts[0]))
        schema.add_table(replace(table, columns=tuple(
            replace(c, name=new) if c.name.lower() == col.lower() else c for c in table.columns)))
        return
    table = schema.tables.pop(_name(old).key)
    schema.add_table(replace(table, name=QName(table.name.schema, new)))
