"""ALTER ... OWNER TO, only with --with-owners (pg-schema-diff syncs owners; migra does not):
each table, view, materialized view, sequence, type, domain, function, procedure, schema,
collation and event trigger whose owner differs (an event trigger's must be a superuser: the
server says so if not). An object the script creates is owned by the login that runs it (the
one that read the live database), so it is given its owner only when that is someone else.
A sequence a column owns (a serial's) follows its table, as the server insists."""

from __future__ import annotations

from deploy.db.postgres.model import Catalog, Key, PgObject, q, qn

_WORDS = {"table": "TABLE", "view": "VIEW", "matview": "MATERIALIZED VIEW", "sequence": "SEQUENCE"}


def owner_statements(cur: Catalog, des: Catalog, created: dict[Key, PgObject]) -> list[str]:
    out = []
    for key, role in des.owners.items():
        obj = des.objects.get(key)
        if obj is None or (obj.kind == "sequence" and obj.data.get("owned_by")):
            continue
        old = cur.login if key in created or key not in cur.owners else cur.owners[key]
        if old != role and (target := _target(obj)):
            out.append(f"ALTER {target} OWNER TO {q(role)}")
    return out


def _target(obj: PgObject) -> str | None:
    key = obj.key
    if obj.kind in _WORDS:
        return f"{_WORDS[obj.kind]} {qn(*key[1:3])}"
    if obj.kind == "type":
        return f"{'DOMAIN' if obj.data.get('typtype') == 'd' else 'TYPE'} {qn(*key[1:3])}"
    if obj.kind == "function":
        return f"ROUTINE {qn(key[1], key[2])}({key[3]})"
    if obj.kind == "schema":
        return f"SCHEMA {q(key[1])}"
    if obj.kind == "collation":
        return f"COLLATION {qn(key[1], key[2])}"
    if obj.kind == "event_trigger":
        return f"EVENT TRIGGER {q(key[1])}"
    return None
