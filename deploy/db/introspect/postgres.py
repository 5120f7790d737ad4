"""PostgreSQL catalog -> model (structured rows; expressions as the server prints them). Views, functions, procedures and triggers
come back in the server's own rendering, so their comparison key is the fingerprint
Shipyard stored in the object's comment when it created it, trusted only while the
server's rendering still hashes to what it was then (anything else is drift)."""

from __future__ import annotations

import hashlib
from typing import Any

from deploy.db.ddl_table import TableParts, index_part_from_text
from deploy.db.introspect import JOURNAL_TABLE
from deploy.db.model import Check, Column, ForeignKey, Index, Key, QName, Routine, Schema, Sequence
from deploy.db.render.postgres import COMMENT_PREFIX

SYSTEM = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"

SCHEMAS = f"SELECT n.nspname FROM pg_namespace n WHERE {SYSTEM} AND n.nspname <> 'public'"
TABLES = f"""SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND {SYSTEM} AND c.relname <> '{JOURNAL_TABLE}' AND {NOT_EXTENSION.format(oid='c.oid')}
ORDER BY n.nspname, c.relname"""
COLUMNS = f"""SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
CASE WHEN a.attcollation <> t.typcollation THEN co.collname END
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p') JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attnum > 0 AND NOT a.attisdropped AND {SYSTEM} ORDER BY a.attrelid, a.attnum"""
SEP = "\x1f"  # joins name lists in one text column (no identifier contains it)
_NAMES = "(SELECT string_agg(a.attname, E'\\x1f' ORDER BY u.i) FROM unnest({arr}) WITH ORDINALITY u(n, i) " \
         "JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = u.n)"
CONSTRAINTS = f"""SELECT k.conrelid, k.conname, k.contype, {_NAMES.format(arr='k.conkey', rel='k.conrelid')},
pg_get_expr(k.conbin, k.conrelid), rn.nspname, r.relname, {_NAMES.format(arr='k.confkey', rel='k.confrelid')},
k.confdeltype, k.confupdtype
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class r ON r.oid = k.confrelid LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE k.contype IN ('p', 'u', 'c', 'f') AND {SYSTEM} ORDER BY k.conrelid, k.contype, k.conname"""
INDEXES = f"""SELECT n.nspname, t.relname, c.relname, i.indisunique, pg_get_expr(i.indpred, i.indrelid),
NULLIF(am.amname, 'btree'),
(SELECT string_agg(pg_get_indexdef(i.indexrelid, k, true) || CASE WHEN (i.indoption[k - 1] & 1) = 1
 THEN ' DESC' ELSE '' END, E'\\x1f' ORDER BY k) FROM generate_series(1, i.indnkeyatts) k)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class t ON t.oid = i.indrelid
WHERE {SYSTEM} AND t.relname <> '{JOURNAL_TABLE}' AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
AND {NOT_EXTENSION.format(oid='i.indrelid')} ORDER BY 1, 2, 3"""
_ACTIONS = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
VIEWS = f"""SELECT n.nspname, c.relname, pg_get_viewdef(c.oid), obj_description(c.oid, 'pg_class')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'v' AND {SYSTEM} AND {NOT_EXTENSION.format(oid='c.oid')}"""
ROUTINES = f"""SELECT n.nspname, p.proname, CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
pg_get_functiondef(p.oid), obj_description(p.oid, 'pg_proc')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p') AND {SYSTEM} AND {NOT_EXTENSION.format(oid='p.oid')}"""
TRIGGERS = f"""SELECT n.nspname, t.tgname, c.relname, pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger')
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND {SYSTEM}"""
SEQUENCES = f"""SELECT n.nspname, c.relname, s.seqstart, s.seqincrement FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {SYSTEM} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))"""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def introspect_postgres(conn: Any) -> Schema:
    cur = conn.cursor()
    schema = Schema("postgres", {r[0] for r in cur.execute(SCHEMAS).fetchall()})
    tables = {oid: QName(ns, name) for oid, ns, name in cur.execute(TABLES).fetchall()}
    columns: dict[int, list[Column]] = {oid: [] for oid in tables}
    parts = {oid: TableParts() for oid in tables}
    for oid, *row in cur.execute(COLUMNS).fetchall():
        if oid in columns:
            columns[oid].append(_column(*row))
    for oid, *row in cur.execute(CONSTRAINTS).fetchall():
        if oid in parts:
            _add_constraint(parts[oid], *row)
    for oid, qualified in tables.items():
        schema.add_table(parts[oid].table(qualified, columns[oid], "postgres"))
    for ns, table, name, unique, where, method, keys in cur.execute(INDEXES).fetchall():
        cols = tuple(index_part_from_text(k, "postgres") for k in (keys or "").split(SEP))
        schema.add_index(Index(name, QName(ns, table), cols, truthy(unique), where, method))
    _routines(cur, schema)
    for ns, name, start, increment in cur.execute(SEQUENCES).fetchall():
        schema.add_sequence(Sequence(QName(ns, name), int(start), int(increment)))
    return schema


def _add_constraint(parts: TableParts, name: str, kind: str, cols: str | None, check: str | None,
                    ref_ns: str | None, ref: str | None, ref_cols: str | None, on_delete: str, on_update: str) -> None:
    names = tuple((cols or "").split(SEP))
    if kind == "p":
        parts.primary_key = Key(name, names)
    elif kind == "u":
        parts.uniques.append(Key(name, names))
    elif kind == "c":
        parts.checks.append(Check(name, check or ""))
    else:
        parts.foreign_keys.append(ForeignKey(name, names, QName(ref_ns, ref), tuple((ref_cols or "").split(SEP)),
                                             _ACTIONS.get(on_delete), _ACTIONS.get(on_update)))


def _column(name: str, typ: str, notnull: Any, default: str | None, identity: str, generated: str,
            collation: str | None) -> Column:
    computed = default if generated == "s" else None
    return Column(name, typ, nullable=not truthy(notnull), default=None if computed else default,
                  identity=bool(identity), computed=computed, collation=_q(collation) if collation else None,
                  stored=computed is not None)


def truthy(value: Any) -> bool:
    """psqlODBC returns booleans as '1'/'0' strings unless BoolsAsChar is off."""
    return value in (True, 1, "1", "t", "true")


def _routines(cur: Any, schema: Schema) -> None:
    for ns, name, definition, comment in cur.execute(VIEWS).fetchall():
        text = f"CREATE VIEW {_q(ns)}.{_q(name)} AS {definition}"
        schema.add_routine(Routine("view", QName(ns, name), text, None, _fingerprint(comment, definition)))
    for ns, name, kind, definition, comment in cur.execute(ROUTINES).fetchall():
        schema.add_routine(Routine(kind, QName(ns, name), definition, None, _fingerprint(comment, definition)))
    for ns, name, table, definition, comment in cur.execute(TRIGGERS).fetchall():
        schema.add_routine(Routine("trigger", QName(ns, name), definition, QName(ns, table), _fingerprint(comment, definition)))


def _fingerprint(comment: str | None, definition: str) -> str:
    """The stored fingerprint while the definition is unchanged since Shipyard made it;
    otherwise a key no source text can match, so the object is re-created."""
    current = hashlib.md5(definition.encode()).hexdigest()
    if comment and comment.startswith(COMMENT_PREFIX):
        stored, _, digest = comment[len(COMMENT_PREFIX):].partition(":")
        if digest == current:
            return stored
    return f"live:{current}"
