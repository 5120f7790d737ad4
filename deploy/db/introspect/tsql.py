"""SQL Server catalog (sys.*) -> DDL text -> model. NOT run against a real SQL Server (none
can run here): the queries are parsed by a T-SQL parser and the row assembly is tested
with rows shaped like the catalog's; see docs/database.md."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from deploy.db.ddl import read_statement
from deploy.db.introspect import JOURNAL_TABLE
from deploy.db.model import QName, Routine, Schema, Sequence
from deploy.db.tsql_target import SqlServerTarget, from_product_version

SCHEMAS = "SELECT name FROM sys.schemas WHERE schema_id BETWEEN 5 AND 16383"
TABLES = f"""SELECT t.object_id, s.name, t.name FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id
WHERE t.is_ms_shipped = 0 AND t.name <> '{JOURNAL_TABLE}' ORDER BY s.name, t.name"""
COLUMNS = """SELECT c.object_id, c.name, TYPE_NAME(c.user_type_id), c.max_length, c.precision, c.scale, c.is_nullable,
c.is_identity, cc.definition, dc.name, dc.definition, c.collation_name
FROM sys.columns c JOIN sys.tables t ON t.object_id = c.object_id
LEFT JOIN sys.computed_columns cc ON cc.object_id = c.object_id AND cc.column_id = c.column_id
LEFT JOIN sys.default_constraints dc ON dc.parent_object_id = c.object_id AND dc.parent_column_id = c.column_id
WHERE t.is_ms_shipped = 0 ORDER BY c.object_id, c.column_id"""
KEYS = """SELECT kc.parent_object_id, kc.name, kc.type, COL_NAME(ic.object_id, ic.column_id)
FROM sys.key_constraints kc JOIN sys.index_columns ic ON ic.object_id = kc.parent_object_id AND ic.index_id = kc.unique_index_id
ORDER BY kc.parent_object_id, kc.name, ic.key_ordinal"""
CHECKS = "SELECT parent_object_id, name, definition FROM sys.check_constraints ORDER BY parent_object_id, name"
FOREIGN_KEYS = """SELECT fk.parent_object_id, fk.name, SCHEMA_NAME(rt.schema_id), rt.name,
COL_NAME(fkc.parent_object_id, fkc.parent_column_id), COL_NAME(fkc.referenced_object_id, fkc.referenced_column_id),
fk.delete_referential_action_desc, fk.update_referential_action_desc
FROM sys.foreign_keys fk JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id
JOIN sys.tables rt ON rt.object_id = fk.referenced_object_id
ORDER BY fk.parent_object_id, fk.name, fkc.constraint_column_id"""
INDEXES = """SELECT SCHEMA_NAME(t.schema_id), t.name, i.name, i.is_unique, i.filter_definition, i.type,
COL_NAME(ic.object_id, ic.column_id), ic.is_descending_key
FROM sys.indexes i JOIN sys.tables t ON t.object_id = i.object_id
LEFT JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND i.type <> 5
AND (ic.is_included_column = 0 OR i.type = 6)
WHERE i.is_primary_key = 0 AND i.is_unique_constraint = 0 AND i.type IN (1, 2, 5, 6)
AND t.is_ms_shipped = 0 ORDER BY t.schema_id, t.name, i.name, ic.key_ordinal, ic.index_column_id"""
MODULES = """SELECT o.type, SCHEMA_NAME(o.schema_id), o.name, m.definition, OBJECT_SCHEMA_NAME(o.parent_object_id),
OBJECT_NAME(o.parent_object_id)
FROM sys.sql_modules m JOIN sys.objects o ON o.object_id = m.object_id
WHERE o.is_ms_shipped = 0 AND o.type IN ('V', 'P', 'FN', 'IF', 'TF', 'TR')"""
SEQUENCES = "SELECT SCHEMA_NAME(schema_id), name, start_value, increment FROM sys.sequences"  # 2012+
VERSION = """SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)), d.compatibility_level
FROM sys.databases d WHERE d.database_id = DB_ID()"""
QUERIES = (SCHEMAS, TABLES, COLUMNS, KEYS, CHECKS, FOREIGN_KEYS, INDEXES, MODULES, SEQUENCES, VERSION)

_KINDS = {"V": "view", "P": "procedure", "FN": "function", "IF": "function", "TF": "function", "TR": "trigger"}
_SIZED = {"varchar", "char", "varbinary", "binary"}


def _q(name: str) -> str:
    return "[" + name.replace("]", "]]") + "]"


def type_text(name: str, max_length: int, precision: int, scale: int) -> str:
    """sys.columns' sizes back to a declared type (nvarchar lengths are in bytes there)."""
    if name in _SIZED | {"nvarchar", "nchar"}:
        if max_length == -1:
            return f"{name}(max)"
        return f"{name}({max_length // 2 if name.startswith('n') else max_length})"
    if name in ("decimal", "numeric"):
        return f"{name}({precision},{scale})"
    if name in ("datetime2", "time", "datetimeoffset") and scale != 7:
        return f"{name}({scale})"
    return name


def server_target(cur: Any) -> SqlServerTarget:
    """The oldest of the server's version and the database's compatibility level."""
    product, level = cur.execute(VERSION).fetchall()[0]
    return from_product_version(str(product), int(level) if level is not None else None)


def introspect_tsql(conn: Any) -> Schema:
    cur = conn.cursor()
    target = server_target(cur)
    queries = [q for q in QUERIES if q is not VERSION and (q is not SEQUENCES or target.sequences)]
    rows = {q: cur.execute(q).fetchall() for q in queries}
    rows.setdefault(SEQUENCES, [])  # sys.sequences does not exist before 2012
    schema = Schema("tsql", {r[0] for r in rows[SCHEMAS]}, server_version=target.label)
    tables = {oid: f"{_q(ns)}.{_q(name)}" for oid, ns, name in rows[TABLES]}
    body: dict[Any, list[str]] = defaultdict(list)
    for oid, *col in rows[COLUMNS]:
        if oid in tables:
            body[oid].append(_column_ddl(*col))
    _constraints(rows, tables, body)
    for oid, qualified in tables.items():
        read_statement(schema, f"CREATE TABLE {qualified} ({', '.join(body[oid])})", 1)
    for statement in _index_ddl(rows[INDEXES]):
        read_statement(schema, statement, 1)
    for kind, ns, name, definition, parent_ns, parent in rows[MODULES]:
        table = QName(parent_ns, parent) if parent else None
        schema.add_routine(Routine(_KINDS[kind.strip()], QName(ns, name), definition.strip(), table))
    for ns, name, start, increment in rows[SEQUENCES]:
        schema.add_sequence(Sequence(QName(ns, name), int(start), int(increment)))
    return schema


def _column_ddl(name: str, typ: str, max_length: int, precision: int, scale: int, nullable: Any, identity: Any,
                computed: str | None, default_name: str | None, default: str | None, collation: str | None) -> str:
    if computed:
        return f"{_q(name)} AS {computed}"
    out = f"{_q(name)} {type_text(typ, max_length, precision, scale)}"
    out += f" COLLATE {collation}" if collation else ""  # kept, so ALTER COLUMN can keep it too
    out += " IDENTITY" if identity else ""
    out += " NULL" if nullable else " NOT NULL"
    if default is not None:
        out += f" CONSTRAINT {_q(default_name)} DEFAULT {default}"
    return out


def _constraints(rows: dict, tables: dict, body: dict) -> None:
    keys: dict[tuple, list[str]] = defaultdict(list)
    for oid, name, kind, column in rows[KEYS]:
        keys[(oid, name, kind.strip())].append(_q(column))
    for (oid, name, kind), cols in keys.items():
        word = "PRIMARY KEY" if kind == "PK" else "UNIQUE"
        body[oid].append(f"CONSTRAINT {_q(name)} {word} ({', '.join(cols)})")
    for oid, name, definition in rows[CHECKS]:
        body[oid].append(f"CONSTRAINT {_q(name)} CHECK {definition}")
    fks: dict[tuple, list[tuple]] = defaultdict(list)
    for oid, name, ref_ns, ref, column, ref_column, on_delete, on_update in rows[FOREIGN_KEYS]:
        fks[(oid, name, ref_ns, ref, on_delete, on_update)].append((column, ref_column))
    for (oid, name, ref_ns, ref, on_delete, on_update), pairs in fks.items():
        cols = ", ".join(_q(a) for a, _ in pairs)
        ref_cols = ", ".join(_q(b) for _, b in pairs)
        text = f"CONSTRAINT {_q(name)} FOREIGN KEY ({cols}) REFERENCES {_q(ref_ns)}.{_q(ref)} ({ref_cols})"
        text += "".join(f" ON {verb} {action.replace('_', ' ')}" for verb, action in (("DELETE", on_delete), ("UPDATE", on_update))
                        if action and action != "NO_ACTION")
        body[oid].append(text)


def _index_ddl(rows: list) -> list[str]:
    """A clustered columnstore index covers the whole table: it has no column rows."""
    words = {1: "CLUSTERED ", 5: "CLUSTERED COLUMNSTORE ", 6: "NONCLUSTERED COLUMNSTORE "}
    grouped: dict[tuple, list[str]] = defaultdict(list)
    for ns, table, name, unique, where, kind, column, descending in rows:
        cols = grouped[(ns, table, name, bool(unique), where, int(kind))]
        if column is not None:
            cols.append(_q(column) + (" DESC" if descending else ""))
    out = []
    for (ns, table, name, unique, where, kind), cols in grouped.items():
        listed = f" ({', '.join(cols)})" if cols else ""
        text = f"CREATE {'UNIQUE ' if unique else ''}{words.get(kind, '')}INDEX {_q(name)} ON {_q(ns)}.{_q(table)}{listed}"
        out.append(text + (f" WHERE {where}" if where else ""))
    return out
