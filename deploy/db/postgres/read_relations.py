"""Catalog rows -> tables, views, materialized views, composite types, sequences, indexes
and constraints. Every definition is the server's own (format_type, pg_get_expr,
pg_get_viewdef, pg_get_indexdef, pg_get_constraintdef)."""

from __future__ import annotations

import json
from typing import Any

from deploy.db.postgres.model import PgObject, q, qn, truthy
from deploy.db.postgres.tables import create_table, table_data
from deploy.db.postgres.reader import Reader

PG_CLASS, PG_TYPE, PG_CONSTRAINT, PG_ATTRDEF = 1259, 1247, 2606, 2604
REL_KINDS = {"r": "table", "p": "table", "v": "view", "m": "matview", "c": "type"}


def read_relations(r: Reader, rows: dict[str, list]) -> None:
    for (oid, ns, name, relkind, persistence, options, rls, force, replident, is_part, bound, partkey,
         viewdef, reltype, acl, populated, of_type, rowtype_array) in rows["relations"]:
        kind = REL_KINDS.get(relkind)
        if kind is None or r.in_extension(PG_CLASS, oid):
            continue
        key = (kind, ns, name)
        r.map(PG_CLASS, oid, key)
        r.map(PG_TYPE, reltype, key)
        r.map(PG_TYPE, rowtype_array, key)
        r.rel[oid] = {"key": key, "kind": kind, "relkind": relkind, "ns": ns, "name": name, "columns": [],
                      "persistence": persistence, "options": json.loads(options) if options else [], "rls": truthy(rls),
                      "force_rls": truthy(force), "replident": replident, "bound": bound if truthy(is_part) else None,
                      "partkey": partkey, "viewdef": viewdef, "acl": json.loads(acl) if acl else None, "of_type": of_type,
                      "populated": truthy(populated), "parents": [], "cluster": None, "replident_index": None}
    _read_columns(r, rows["columns"])
    for child, parent, _ in rows["inherits"]:
        if child in r.rel and parent in r.rel:
            r.rel[child]["parents"].append(r.rel[parent]["key"])


def _read_columns(r: Reader, rows: list) -> None:
    for (rel, num, name, typ, notnull, default, identity, generated, collation, local, inhcount, stattarget,
         storage, acl, attrdef, is_enum) in rows:
        info = r.rel.get(rel)
        if info is None:
            continue
        col_key = ("column", info["key"], name)
        r.map(PG_CLASS, rel, col_key, num)
        if attrdef is not None:
            r.map(PG_ATTRDEF, attrdef, ("default", info["key"], name))
        info["columns"].append({
            "name": name, "type": typ, "notnull": truthy(notnull), "default": default if not generated else None,
            "generated": default if generated else None, "identity": identity or None, "collation": collation,
            "local": truthy(local), "inherited": int(inhcount) > 0, "stattarget": int(stattarget),
            "storage": storage, "acl": json.loads(acl) if acl else None, "num": int(num), "enum": truthy(is_enum),
        })


def read_sequences(r: Reader, rows: list) -> None:
    for (oid, ns, name, typ, start, inc, maxv, minv, cache, cycle, acl, owner_rel, owner_col, internal) in rows:
        if r.in_extension(PG_CLASS, oid):
            continue
        owner = r.rel.get(owner_rel)
        owned = None
        if owner is not None:
            owned = next((c["name"] for c in owner["columns"] if c["num"] == int(owner_col)), None)
        opts = {"as": typ, "start": int(start), "increment": int(inc), "max": int(maxv), "min": int(minv),
                "cache": int(cache), "cycle": truthy(cycle)}
        if truthy(internal) and owner is not None:  # an identity column's sequence is part of the column
            column = next((c for c in owner["columns"] if c["name"] == owned), None)
            if column is not None:
                column["identity_options"] = dict(opts, name=[ns, name])
            continue
        key = ("sequence", ns, name)
        r.map(PG_CLASS, oid, key)
        data = {"options": opts, "owned_by": [list(owner["key"]), owned] if owner and owned else None}
        seq = PgObject("sequence", key, f"{ns}.{name}", [create_sequence(ns, name, opts)], [f"DROP SEQUENCE {qn(ns, name)}"],
                       compare=data, parent=owner["key"] if owner and owned else None, data=data)
        seq.late = owned_by_sql(seq)
        r.acl(seq, "SEQUENCE " + qn(ns, name), acl)
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


def build_relations(r: Reader) -> None:
    """The relation objects, once columns, constraints and indexes are known."""
    by_key = {info["key"]: info for info in r.rel.values()}
    for oid, info in r.rel.items():
        ns, name = info["ns"], info["name"]
        if info["kind"] == "table":
            data = table_data(info, by_key)
            compare = {k: v for k, v in data.items() if k != "parent_columns"}
            obj = PgObject("table", info["key"], f"{ns}.{name}", create_table(data), [f"DROP TABLE {qn(ns, name)}"],
                           compare=compare, data=data)
            obj.late = table_late(data)
            target = "TABLE " + qn(ns, name)
        elif info["kind"] == "type":
            cols = ", ".join(f"{q(c['name'])} {c['type']}" + (f" COLLATE {c['collation']}" if c["collation"] else "")
                             for c in info["columns"])
            data = {"attributes": [[c["name"], c["type"], c["collation"]] for c in info["columns"]]}
            obj = PgObject("type", info["key"], f"{ns}.{name}", [f"CREATE TYPE {qn(ns, name)} AS ({cols})"],
                           [f"DROP TYPE {qn(ns, name)}"], compare=data, data=dict(data, typtype="c"))
            target = "TYPE " + qn(ns, name)
        else:
            obj, target = _view(info)
        r.acl(obj, "TABLE " + qn(ns, name), info["acl"])
        for c in info["columns"]:
            r.acl(obj, f"COLUMN {q(c['name'])} ON TABLE {qn(ns, name)}", c["acl"])
        r.cat.add(obj)
        r.targets[info["key"]] = target


def _view(info: dict) -> tuple[PgObject, str]:
    ns, name, matview = info["ns"], info["name"], info["kind"] == "matview"
    word = "MATERIALIZED VIEW" if matview else "VIEW"
    body = (info["viewdef"] or "").strip().rstrip(";")
    options = f" WITH ({', '.join(info['options'])})" if info["options"] else ""
    create = [f"CREATE {word} {qn(ns, name)}{options} AS\n{body}" + ("" if not matview or info["populated"] else "\nWITH NO DATA")]
    defaults = {c["name"]: c["default"] for c in info["columns"] if c["default"] is not None}
    create += [f"ALTER VIEW {qn(ns, name)} ALTER COLUMN {q(col)} SET DEFAULT {d}" for col, d in defaults.items()]
    data = {"definition": body, "options": sorted(info["options"]), "defaults": defaults,
            "columns": [[c["name"], c["type"]] for c in info["columns"]], "populated": info["populated"]}
    compare = {k: v for k, v in data.items() if k != "columns"}
    return (PgObject(info["kind"], info["key"], f"{ns}.{name}", create, [f"DROP {word} {qn(ns, name)}"], compare=compare,
                     data=data), f"{word} {qn(ns, name)}")


def table_late(data: dict) -> list[str]:
    (ns, name), out = data["name"], []
    if data["cluster"]:
        out.append(f"ALTER TABLE {qn(ns, name)} CLUSTER ON {q(data['cluster'])}")
    if data["replident"] == "i" and data["replident_index"]:
        out.append(f"ALTER TABLE {qn(ns, name)} REPLICA IDENTITY USING INDEX {q(data['replident_index'])}")
    return out


def read_indexes(r: Reader, rows: list) -> None:
    for oid, rel, name, definition, clustered, replident, is_child, constraint in rows:
        info = r.rel.get(rel)
        if info is None or r.in_extension(PG_CLASS, oid):
            continue
        if truthy(clustered):
            info["cluster"] = name
        if truthy(replident):
            info["replident_index"] = name
        ns = info["ns"]
        if truthy(constraint):
            r.index_targets[int(oid)] = "INDEX " + qn(ns, name)
        if truthy(is_child) or truthy(constraint):
            continue  # a partition's copy of its parent's index, or a constraint's own index
        key = ("index", ns, name)
        r.map(PG_CLASS, oid, key)
        text = definition.replace(" ON ONLY ", " ON ", 1)
        obj = PgObject("index", key, f"{ns}.{name}", [text], [f"DROP INDEX {qn(ns, name)}"], compare=definition,
                       parent=info["key"])
        r.cat.add(obj)
        r.targets[key] = "INDEX " + qn(ns, name)


def read_constraints(r: Reader, rows: list) -> None:
    for oid, rel, typ, name, contype, definition, local, inhcount, parent_id, index, validated in rows:
        if contype == "t" or r.in_extension(PG_CONSTRAINT, oid):
            continue  # a constraint trigger's entry: the trigger is the object
        if typ and typ in r.domains:
            r.domains[typ]["constraints"].append([name, definition])
            r.map(PG_CONSTRAINT, oid, ("domain-constraint", r.domains[typ]["key"], name))
            continue
        info = r.rel.get(rel)
        if info is None:
            continue
        if int(parent_id or 0) or not truthy(local):
            r.map(PG_CONSTRAINT, oid, info["key"])  # cloned to a partition or inherited: the parent's does it
            continue
        ns, table = info["ns"], info["name"]
        key = ("constraint", ns, table, name)
        r.map(PG_CONSTRAINT, oid, key)
        if index:
            r.map(PG_CLASS, index, key)
        alter = f"ALTER TABLE {qn(ns, table)}"
        obj = PgObject("constraint", key, f"{ns}.{table}.{name}", [f"{alter} ADD CONSTRAINT {q(name)} {definition}"],
                       [f"{alter} DROP CONSTRAINT {q(name)}"], compare=definition, parent=info["key"],
                       data={"type": contype, "validated": truthy(validated), "table": [ns, table]})
        r.cat.add(obj)
        r.targets[key] = f"CONSTRAINT {q(name)} ON {qn(ns, table)}"
