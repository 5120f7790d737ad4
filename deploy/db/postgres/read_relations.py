"""Catalog rows -> tables, views, materialized views, composite types, sequences, indexes
and constraints. Every definition is the server's own (format_type, pg_get_expr,
pg_get_viewdef, pg_get_indexdef, pg_get_constraintdef). Relations, indexes and constraints
are LazyObjects: their statements are worked out only for the few that differ."""

from __future__ import annotations

import functools
import json
from typing import Any

from deploy.db.postgres.model import Catalog, LazyObject, PgObject, q, qn, truthy
from deploy.db.postgres.reader import PG_CLASS, PG_CONSTRAINT, Reader, add_acl
from deploy.db.postgres.tables import create_table, table_data

PG_TYPE = 1247
REL_KINDS = {"r": "table", "p": "table", "v": "view", "m": "matview", "c": "type"}
# the rest of a column the relations query sends as [name, type, notnull, default]: no identity,
# not generated, the type's collation, local, default statistics target and storage, no ACL, no enum
_PLAIN = ("", "", None, True, -1, None, None, False, None)


def read_relations(r: Reader, rows: list) -> None:
    make = functools.partial(_make_relation, r.cat)
    for oid, ns, name, relkind, reltype, rowtype_array, payload, names, attnums in rows:
        if r.in_extension(PG_CLASS, oid):
            continue
        key = (REL_KINDS[relkind], ns, name)
        r.map(PG_CLASS, oid, key)
        r.map(PG_TYPE, reltype, key)
        r.map(PG_TYPE, rowtype_array, key)
        r.rel[oid] = key
        r.columns[oid] = names or [] if attnums is None else dict(zip(attnums, names))
        r.relations.append(LazyObject(key[0], key, f"{ns}.{name}", None, payload, make))


def build_relations(r: Reader) -> None:
    """The relations join the catalog after the sequences, indexes and constraints."""
    for obj in r.relations:
        r.cat.add(obj)


def relation_info(key: tuple, payload: str) -> dict[str, Any]:
    """A relation's payload (queries.RELATIONS) as the dict the builders read."""
    info = json.loads(payload)
    info.update(key=key, kind=key[0], ns=key[1], name=key[2], options=info["options"] or [],
                populated=truthy(info["populated"]), parents=[("table", *p) for p in info["parents"] or []])
    info["columns"] = [
        {"name": name, "type": typ, "notnull": notnull, "default": default if not generated else None,
         "generated": default if generated else None, "identity": identity or None, "collation": collation,
         "local": local, "stattarget": stattarget, "storage": storage, "acl": acl, "enum": enum,
         "identity_options": identity_options}
        for (name, typ, notnull, default, identity, generated, collation, local, stattarget, storage, acl, enum,
             identity_options) in (c if len(c) > 4 else (*c, *_PLAIN) for c in info["columns"] or [])]
    return info


def _make_relation(cat: Catalog, obj: LazyObject) -> None:
    info = relation_info(obj.key, obj.digest)
    ns, name = info["ns"], info["name"]
    obj.late, obj.acl = [], {}
    if info["kind"] == "table":
        data = table_data(info, _parent_columns(cat, info))
        obj.create, obj.drop, obj.data = create_table(data), [f"DROP TABLE {qn(ns, name)}"], data
        obj.compare = {k: v for k, v in data.items() if k != "parent_columns"}
        obj.late = table_late(data)
    elif info["kind"] == "type":
        cols = ", ".join(f"{q(c['name'])} {c['type']}" + (f" COLLATE {c['collation']}" if c["collation"] else "")
                         for c in info["columns"])
        data = {"attributes": [[c["name"], c["type"], c["collation"]] for c in info["columns"]]}
        obj.create, obj.drop = [f"CREATE TYPE {qn(ns, name)} AS ({cols})"], [f"DROP TYPE {qn(ns, name)}"]
        obj.compare, obj.data = data, dict(data, typtype="c")
    else:
        _view(obj, info)
    if info["acl"]:
        add_acl(obj, "TABLE " + qn(ns, name), info["acl"])
    for c in info["columns"]:
        if c["acl"]:
            add_acl(obj, f"COLUMN {q(c['name'])} ON TABLE {qn(ns, name)}", c["acl"])


def _parent_columns(cat: Catalog, info: dict) -> dict[str, dict]:
    """What each inherited column gets from its parents when the table is created."""
    out: dict[str, dict] = {}
    for parent in info["parents"]:
        columns = cat.objects[parent].data["columns"] if parent in cat.objects else {}
        for name, c in columns.items():
            out.setdefault(name, {"notnull": c["notnull"], "default": c["default"]})
    return out


def _view(obj: LazyObject, info: dict) -> None:
    ns, name, matview = info["ns"], info["name"], info["kind"] == "matview"
    word = "MATERIALIZED VIEW" if matview else "VIEW"
    body = (info["viewdef"] or "").strip().rstrip(";")
    options = f" WITH ({', '.join(info['options'])})" if info["options"] else ""
    create = [f"CREATE {word} {qn(ns, name)}{options} AS\n{body}" + ("" if not matview or info["populated"] else "\nWITH NO DATA")]
    defaults = {c["name"]: c["default"] for c in info["columns"] if c["default"] is not None}
    create += [f"ALTER VIEW {qn(ns, name)} ALTER COLUMN {q(col)} SET DEFAULT {d}" for col, d in defaults.items()]
    data = {"definition": body, "options": sorted(info["options"]), "defaults": defaults,
            "columns": [[c["name"], c["type"]] for c in info["columns"]], "populated": info["populated"]}
    obj.create, obj.drop, obj.data = create, [f"DROP {word} {qn(ns, name)}"], data
    obj.compare = {k: v for k, v in data.items() if k != "columns"}


def table_late(data: dict) -> list[str]:
    (ns, name), out = data["name"], []
    if data["cluster"]:
        out.append(f"ALTER TABLE {qn(ns, name)} CLUSTER ON {q(data['cluster'])}")
    if data["replident"] == "i" and data["replident_index"]:
        out.append(f"ALTER TABLE {qn(ns, name)} REPLICA IDENTITY USING INDEX {q(data['replident_index'])}")
    return out


def read_sequences(r: Reader, rows: list) -> None:
    for (oid, ns, name, typ, start, inc, maxv, minv, cache, cycle, acl, owner_rel, owner_column, internal) in rows:
        if r.in_extension(PG_CLASS, oid):
            continue
        owner = r.rel.get(owner_rel)
        if truthy(internal) and owner is not None:
            continue  # an identity column's sequence is part of the column (queries.RELATIONS)
        owned = owner_column if owner is not None else None
        opts = {"as": typ, "start": int(start), "increment": int(inc), "max": int(maxv), "min": int(minv),
                "cache": int(cache), "cycle": truthy(cycle)}
        key = ("sequence", ns, name)
        r.map(PG_CLASS, oid, key)
        data = {"options": opts, "owned_by": [list(owner), owned] if owner and owned else None}
        seq = PgObject("sequence", key, f"{ns}.{name}", [create_sequence(ns, name, opts)], [f"DROP SEQUENCE {qn(ns, name)}"],
                       compare=data, parent=owner if owner and owned else None, data=data)
        seq.late = owned_by_sql(seq)
        add_acl(seq, "SEQUENCE " + qn(ns, name), acl)
        r.cat.add(seq)
        r.targets[key] = "SEQUENCE " + qn(ns, name)


def sequence_options(opts: dict[str, Any]) -> str:
    return (f"AS {opts['as']} START WITH {opts['start']} INCREMENT BY {opts['increment']} MINVALUE {opts['min']} "
            f"MAXVALUE {opts['max']} CACHE {opts['cache']}{'' if opts['cycle'] else ' NO'} CYCLE")


def create_sequence(ns: str, name: str, opts: dict[str, Any]) -> str:
    return f"CREATE SEQUENCE {qn(ns, name)} {sequence_options(opts)}"


def owned_by_sql(seq: PgObject) -> list[str]:
    owned = seq.data.get("owned_by")
    if not owned:
        return []
    (_, ns, table), column = owned
    return [f"ALTER SEQUENCE {qn(*seq.key[1:])} OWNED BY {qn(ns, table)}.{q(column)}"]


def read_indexes(r: Reader, rows: list) -> None:
    for oid, rel, name, definition, valid, tree in rows:
        table = r.rel.get(rel)
        if table is None or r.in_extension(PG_CLASS, oid):
            continue
        key = ("index", table[1], name)
        r.map(PG_CLASS, oid, key)
        # an INVALID index (a failed CREATE INDEX CONCURRENTLY) serves no query: it never equals a valid one
        digest = definition if truthy(valid) else ["INVALID", definition]
        make = _make_index if tree is None else functools.partial(_make_index, tree=tree)
        r.cat.add(LazyObject("index", key, f"{table[1]}.{name}", table, digest, make))


def _make_index(obj: LazyObject, tree: list | None = None) -> None:
    """On a partitioned table: its definition ON ONLY the parent and its partitions' copies
    beside (what an online build makes one at a time); they are not compared."""
    definition = obj.digest if isinstance(obj.digest, str) else obj.digest[1]
    obj.create, obj.drop = [definition.replace(" ON ONLY ", " ON ", 1)], [f"DROP INDEX {qn(*obj.key[1:])}"]
    obj.compare, obj.late, obj.acl = obj.digest, [], {}
    obj.data = {} if isinstance(obj.digest, str) else {"invalid": True}
    if tree is not None:
        obj.data.update(only=definition, partitions=tree[0] or [], complete=truthy(tree[1]))


def read_constraints(r: Reader, rows: list) -> None:
    for oid, rel, typ, name, contype, definition, local, _inhcount, parent_id, index, validated in rows:
        if contype == "t" or r.in_extension(PG_CONSTRAINT, oid):
            continue  # a constraint trigger's entry: the trigger is the object
        if typ and typ in r.domains:
            r.domains[typ]["constraints"].append([name, definition])
            r.map(PG_CONSTRAINT, oid, ("domain-constraint", r.domains[typ]["key"], name))
            continue
        table = r.rel.get(rel)
        if table is None:
            continue
        if parent_id or not truthy(local):
            # cloned to a partition or inherited: the parent's does it. A clone's dependencies
            # (a foreign key to or from each partition) are its parent constraint's, not the
            # partition's: a partition does not wait for, nor go with, the tables its clones name
            r.map(PG_CONSTRAINT, oid, r.key_of(PG_CONSTRAINT, parent_id) or table if parent_id else table)
            if parent_id:
                r.clone_tables[oid] = table
            continue
        key = ("constraint", table[1], table[2], name)
        r.map(PG_CONSTRAINT, oid, key)
        if index and contype in ("p", "u", "x"):  # a foreign key's conindid is the referenced table's index
            r.map(PG_CLASS, index, key)
        r.cat.add(LazyObject("constraint", key, f"{table[1]}.{table[2]}.{name}", table,
                             (contype, truthy(validated), definition), _make_constraint))


def _make_constraint(obj: LazyObject) -> None:
    contype, validated, definition = obj.digest
    _, ns, table, name = obj.key
    alter = f"ALTER TABLE {qn(ns, table)}"
    obj.create, obj.drop = [f"{alter} ADD CONSTRAINT {q(name)} {definition}"], [f"{alter} DROP CONSTRAINT {q(name)}"]
    obj.compare, obj.late, obj.acl = definition, [], {}
    obj.data = {"type": contype, "validated": validated, "table": [ns, table]}
