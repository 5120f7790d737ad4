"""Column types of a schema written for another dialect (`[env.X.db] schema_dialect`), mapped
to SQL Server's: `boolean` -> `bit`, `timestamp` (which means rowversion to SQL Server) ->
`datetime2`, `text` -> `nvarchar(max)` (with a note: it is Unicode and not the deprecated
`text`)... A type with no SQL Server meaning is an error naming the column."""

from __future__ import annotations

import re
from dataclasses import replace

from pathlib import Path

from deploy.db.desired import from_directory
from deploy.db.model import Schema
from deploy.errors import UsageError

_TO_TSQL = {
    "boolean": "bit", "bool": "bit", "integer": "int", "int4": "int", "int8": "bigint", "int2": "smallint",
    "serial": "int", "bigserial": "bigint", "smallserial": "smallint", "double precision": "float", "float8": "float",
    "float4": "real", "timestamp": "datetime2", "timestamp without time zone": "datetime2",
    "timestamp with time zone": "datetimeoffset", "timestamptz": "datetimeoffset", "time without time zone": "time",
    "bytea": "varbinary(max)", "blob": "varbinary(max)", "uuid": "uniqueidentifier", "numeric": "numeric",
    "character varying": "varchar", "character": "char", "clob": "nvarchar(max)",
}
_NOTED = {"text": "nvarchar(max)", "json": "nvarchar(max)", "jsonb": "nvarchar(max)", "citext": "nvarchar(max)"}
TSQL_TYPES = {
    "bigint", "int", "smallint", "tinyint", "bit", "decimal", "numeric", "money", "smallmoney", "float", "real",
    "date", "time", "datetime2", "datetimeoffset", "datetime", "smalldatetime", "char", "varchar", "nchar", "nvarchar",
    "binary", "varbinary", "uniqueidentifier", "xml", "sql_variant", "hierarchyid", "geometry", "geography", "image",
    "ntext", "rowversion", "sysname",
}
_SERIAL = {"serial", "bigserial", "smallserial"}


def _split(sql_type: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*([a-z_][a-z0-9_ ]*?)\s*(\(.*\))?\s*", sql_type.lower())
    return (m.group(1), m.group(2) or "") if m else (sql_type.lower(), "")


def map_type(sql_type: str, where: str, notes: list[str]) -> tuple[str, bool]:
    """(SQL Server type, whether it implies an identity). Raises on a type SQL Server lacks."""
    base, args = _split(sql_type)
    if base in _NOTED:
        notes.append(f"{where}: {sql_type} read as {_NOTED[base]} (Unicode, no length limit)")
        return _NOTED[base], False
    if base in _TO_TSQL:
        mapped = _TO_TSQL[base]
        return (mapped if "(" in mapped or not args else f"{mapped}{args}"), base in _SERIAL
    if base in TSQL_TYPES:
        return sql_type.lower(), False
    raise UsageError(f"{where}: type {sql_type!r} has no SQL Server equivalent; write the column for SQL Server")


def schema_to_tsql(schema: Schema) -> list[str]:
    """Map every column of `schema` (read from another dialect's files) in place; returns notes."""
    notes: list[str] = []
    for key, table in list(schema.tables.items()):
        columns = []
        for col in table.columns:
            if col.computed:
                columns.append(col)
                continue
            typ, identity = map_type(col.type, f"{table.name}.{col.name}", notes)
            columns.append(replace(col, type=typ, identity=col.identity or identity))
        schema.tables[key] = replace(table, columns=tuple(columns))
    return notes


def read_desired(directory: Path, dialect: str, written_for: str | None = None) -> tuple[Schema, list[str]]:
    """The `sql/schema` tree for `dialect`; files written for another dialect get SQL Server types."""
    schema = from_directory(directory, dialect)
    if dialect == "tsql" and written_for not in (None, "tsql"):
        return schema, schema_to_tsql(schema)
    return schema, []
