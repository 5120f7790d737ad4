"""Catalog rows -> schemas, extensions, enums, domains, ranges, functions and procedures,
triggers, policies, rules, extended statistics, event triggers and collations."""

from __future__ import annotations

from deploy.db.postgres.model import PgObject, literal, q, qn, truthy
from deploy.db.postgres.reader import Reader, add_acl

PG_TYPE, PG_PROC, PG_TRIGGER, PG_REWRITE, PG_NAMESPACE = 1247, 1255, 2620, 2618, 2615
PG_EXTENSION, PG_POLICY, PG_COLLATION, PG_EVENT_TRIGGER, PG_STATISTIC_EXT = 3079, 3256, 3456, 3466, 3381
_ENABLED = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}
_POLICY_CMD = {"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


def read_schemas(r: Reader, rows: list) -> None:
    for oid, name, acl in rows:
        if r.in_extension(PG_NAMESPACE, oid):
            continue
        key = ("schema", name)
        r.map(PG_NAMESPACE, oid, key)
        obj = r.cat.add(PgObject("schema", key, name, [f"CREATE SCHEMA {q(name)}"], [f"DROP SCHEMA {q(name)}"], compare=name))
        add_acl(obj, "SCHEMA " + q(name), acl)
        r.targets[key] = "SCHEMA " + q(name)


def read_extensions(r: Reader, rows: list) -> None:
    for oid, name, version, ns in rows:
        key = ("extension", name)
        r.map(PG_EXTENSION, oid, key)
        create = f"CREATE EXTENSION IF NOT EXISTS {q(name)} WITH SCHEMA {q(ns)} VERSION {literal(version)}"
        r.cat.add(PgObject("extension", key, name, [create], [f"DROP EXTENSION {q(name)}"],
                           compare=[ns, version], data={"schema": ns, "version": version}))
        r.targets[key] = "EXTENSION " + q(name)


def read_types(r: Reader, rows: list) -> None:
    for (oid, ns, name, typtype, relid, labels, base, notnull, default, collation, range_opts, acl, array) in rows:
        if r.in_extension(PG_TYPE, oid):
            continue
        key = ("type", ns, name)
        r.map(PG_TYPE, oid, key)
        r.map(PG_TYPE, array, key)
        if typtype == "c":
            r.map(1259, relid, key)
            continue  # composite: read with the relations (its attributes are columns)
        target = qn(ns, name)
        if typtype == "e":
            values = labels or []
            data = {"typtype": "e", "labels": values}
            create = f"CREATE TYPE {target} AS ENUM ({', '.join(literal(v) for v in values)})"
            obj = PgObject("type", key, f"{ns}.{name}", [create], [f"DROP TYPE {target}"], compare=data, data=data)
        elif typtype == "r":
            data = {"typtype": "r", "options": range_opts}
            obj = PgObject("type", key, f"{ns}.{name}", [f"CREATE TYPE {target} AS RANGE ({range_opts})"],
                           [f"DROP TYPE {target}"], compare=data, data=data)
        else:
            data = {"typtype": "d", "base": base, "notnull": truthy(notnull), "default": default,
                    "collation": collation, "constraints": []}
            r.domains[int(oid)] = {"key": key, "constraints": data["constraints"]}
            obj = PgObject("type", key, f"{ns}.{name}", [], [f"DROP DOMAIN {target}"], compare=data, data=data)
        add_acl(obj, "TYPE " + target, acl)
        r.cat.add(obj)
        r.targets[key] = ("DOMAIN " if typtype == "d" else "TYPE ") + target


def finish_domains(r: Reader) -> None:
    """A domain's CREATE needs its constraints, which the constraint query brings later."""
    for info in r.domains.values():
        obj = r.cat.objects[info["key"]]
        info["constraints"].sort()
        obj.create = [create_domain(obj)]


def create_domain(obj: PgObject) -> str:
    d = obj.data
    out = f"CREATE DOMAIN {qn(*obj.key[1:])} AS {d['base']}"
    out += f" COLLATE {d['collation']}" if d["collation"] else ""
    out += f" DEFAULT {d['default']}" if d["default"] is not None else ""
    out += " NOT NULL" if d["notnull"] else ""
    return out + "".join(f" CONSTRAINT {q(n)} {definition}" for n, definition in d["constraints"])


def read_functions(r: Reader, rows: list) -> None:
    for oid, ns, name, kind, args, definition, result, arguments, acl, language in rows:
        if r.in_extension(PG_PROC, oid) or definition is None:
            continue
        key = ("function", ns, name, args)
        r.map(PG_PROC, oid, key)
        word = "PROCEDURE" if kind == "p" else "FUNCTION"
        signature = f"{qn(ns, name)}({args})"
        data = {"kind": kind, "result": result, "arguments": arguments}
        obj = PgObject("function", key, f"{ns}.{name}({args})", [definition.strip()], [f"DROP {word} {signature}"],
                       compare=definition.strip(), data=data)
        add_acl(obj, f"{word} {signature}", acl)
        r.cat.add(obj)
        r.targets[key] = f"{word} {signature}"


def read_triggers(r: Reader, rows: list) -> None:
    for oid, rel, name, definition, enabled in rows:
        owner = r.rel.get(rel)
        if owner is None or r.in_extension(PG_TRIGGER, oid):
            continue
        _, ns, table = owner
        key = ("trigger", ns, table, name)
        r.map(PG_TRIGGER, oid, key)
        on = f"{q(name)} ON {qn(ns, table)}"
        create = [definition] + ([f"ALTER TABLE {qn(ns, table)} {_ENABLED[enabled]} TRIGGER {q(name)}"] if enabled in _ENABLED else [])
        r.cat.add(PgObject("trigger", key, f"{ns}.{table}.{name}", create, [f"DROP TRIGGER {on}"],
                           compare=[definition, enabled], parent=owner, data={"enabled": enabled}))
        r.targets[key] = f"TRIGGER {on}"


def read_policies(r: Reader, rows: list) -> None:
    for oid, rel, name, cmd, permissive, roles, qual, check in rows:
        owner = r.rel.get(rel)
        if owner is None:
            continue
        _, ns, table = owner
        key = ("policy", ns, table, name)
        r.map(PG_POLICY, oid, key)
        on = f"{q(name)} ON {qn(ns, table)}"
        create = (f"CREATE POLICY {on} AS {'PERMISSIVE' if truthy(permissive) else 'RESTRICTIVE'} "
                  f"FOR {_POLICY_CMD[cmd]} TO {', '.join(roles)}")
        create += f" USING ({qual})" if qual is not None else ""
        create += f" WITH CHECK ({check})" if check is not None else ""
        r.cat.add(PgObject("policy", key, f"{ns}.{table}.{name}", [create], [f"DROP POLICY {on}"], compare=create,
                           parent=owner))
        r.targets[key] = f"POLICY {on}"


def read_rules(r: Reader, rows: list) -> None:
    for oid, rel, name, definition, enabled in rows:
        owner = r.rel.get(rel)
        if owner is None:
            continue
        if name == "_RETURN":
            r.map(PG_REWRITE, oid, owner)  # a view's query: its dependencies are the view's
            continue
        _, ns, table = owner
        key = ("rule", ns, table, name)
        r.map(PG_REWRITE, oid, key)
        on = f"{q(name)} ON {qn(ns, table)}"
        create = [definition.strip().rstrip(";")]
        create += [f"ALTER TABLE {qn(ns, table)} {_ENABLED[enabled]} RULE {q(name)}"] if enabled in _ENABLED else []
        r.cat.add(PgObject("rule", key, f"{ns}.{table}.{name}", create, [f"DROP RULE {on}"], compare=create,
                           parent=owner))
        r.targets[key] = f"RULE {on}"


def read_statistics(r: Reader, rows: list) -> None:
    for oid, ns, name, definition, target, rel in rows:
        if r.in_extension(PG_STATISTIC_EXT, oid):
            continue
        key = ("statistics", ns, name)
        r.map(PG_STATISTIC_EXT, oid, key)
        create = [definition] + ([f"ALTER STATISTICS {qn(ns, name)} SET STATISTICS {target}"] if int(target) >= 0 else [])
        parent = r.rel.get(rel)
        r.cat.add(PgObject("statistics", key, f"{ns}.{name}", create, [f"DROP STATISTICS {qn(ns, name)}"],
                           compare=create, parent=parent))
        r.targets[key] = "STATISTICS " + qn(ns, name)


def read_event_triggers(r: Reader, rows: list) -> None:
    for oid, name, event, function, tags, enabled in rows:
        if r.in_extension(PG_EVENT_TRIGGER, oid):
            continue
        key = ("event_trigger", name)
        r.map(PG_EVENT_TRIGGER, oid, key)
        values = tags
        when = f" WHEN TAG IN ({', '.join(literal(t) for t in values)})" if values else ""
        create = [f"CREATE EVENT TRIGGER {q(name)} ON {event}{when} EXECUTE FUNCTION {function}"]
        create += [f"ALTER EVENT TRIGGER {q(name)} {_ENABLED[enabled]}"] if enabled in _ENABLED else []
        r.cat.add(PgObject("event_trigger", key, name, create, [f"DROP EVENT TRIGGER {q(name)}"], compare=create))
        r.targets[key] = "EVENT TRIGGER " + q(name)


def read_collations(r: Reader, rows: list) -> None:
    for oid, ns, name, provider, collate, ctype, icu_locale, deterministic in rows:
        if r.in_extension(PG_COLLATION, oid):
            continue
        key = ("collation", ns, name)
        r.map(PG_COLLATION, oid, key)
        if provider == "i":
            opts = f"provider = icu, locale = {literal(icu_locale or '')}"
        else:
            opts = f"provider = libc, lc_collate = {literal(collate or '')}, lc_ctype = {literal(ctype or '')}"
        opts += "" if truthy(deterministic) else ", deterministic = false"
        create = [f"CREATE COLLATION {qn(ns, name)} ({opts})"]
        r.cat.add(PgObject("collation", key, f"{ns}.{name}", create, [f"DROP COLLATION {qn(ns, name)}"], compare=create))
        r.targets[key] = "COLLATION " + qn(ns, name)
