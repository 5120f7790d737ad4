"""PostgreSQL tables in the generic model's shape (columns, keys, foreign keys): what the
reference-data compare reads on every dialect. The schema compare uses the catalog model
instead; data compare needs only names, types and keys, so two set-based queries give them."""

from __future__ import annotations

import json
from typing import Any

from deploy.db.model import Column, ForeignKey, Key, QName, Schema, Table
from deploy.db.postgres.model import truthy
from deploy.db.postgres.queries import JOURNAL, USER_NS

_ATTNAMES = """(SELECT array_to_json(array_agg(a.attname ORDER BY u.ord))
 FROM unnest({keys}) WITH ORDINALITY u(attnum, ord) JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = u.attnum)::text"""

COLUMNS = f"""SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
a.attidentity <> '' OR a.attgenerated <> ''
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {USER_NS} AND c.relname <> '{JOURNAL}'
ORDER BY n.nspname, c.relname, a.attnum"""

KEYS = f"""SELECT n.nspname, c.relname, k.conname, k.contype, {_ATTNAMES.format(keys='k.conkey', rel='k.conrelid')},
fn.nspname, fc.relname, {_ATTNAMES.format(keys='k.confkey', rel='k.confrelid')}
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE k.contype IN ('p', 'u', 'f') AND {USER_NS} ORDER BY k.conname"""


def table_shapes(conn: Any) -> Schema:
    cur = conn.cursor()
    columns: dict[QName, list[Column]] = {}
    for ns, table, name, type_, notnull, generated in cur.execute(COLUMNS).fetchall():
        columns.setdefault(QName(ns, table), []).append(
            Column(name, type_, nullable=not truthy(notnull), identity=truthy(generated)))
    parts: dict[QName, dict[str, list]] = {t: {"p": [], "u": [], "f": []} for t in columns}
    for ns, table, con, kind, cols, ref_ns, ref_table, ref_cols in cur.execute(KEYS).fetchall():
        owner = parts.get(QName(ns, table))
        if owner is None:
            continue
        names = tuple(json.loads(cols or "[]"))
        if kind == "f":
            owner["f"].append(ForeignKey(con, names, QName(ref_ns, ref_table), tuple(json.loads(ref_cols or "[]"))))
        else:
            owner[kind].append(Key(con, names))
    conn.rollback()
    schema = Schema("postgres")
    for qname, cols in columns.items():
        p = parts[qname]
        schema.add_table(Table(qname, tuple(cols), primary_key=p["p"][0] if p["p"] else None,
                               uniques=tuple(p["u"]), foreign_keys=tuple(p["f"])))
    return schema

