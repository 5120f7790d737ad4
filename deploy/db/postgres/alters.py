"""How an object that exists on both sides but differs is changed in place, per kind.
`alter(a, b)` returns None when only dropping and re-creating it will do (its dependents
are then re-created too)."""

from __future__ import annotations

from deploy.db.widening import widening
from deploy.db.postgres.model import PgObject, literal, q, qn
from deploy.db.postgres.read_relations import owned_by_sql, sequence_options
from deploy.db.postgres.tables import Alter, alter_table, narrower


def alter(a: PgObject, b: PgObject) -> Alter | None:
    handler = _HANDLERS.get(a.kind)
    return handler(a, b) if handler else None


def _table(a: PgObject, b: PgObject) -> Alter | None:
    return alter_table(a.data, b.data, widening)


def _sequence(a: PgObject, b: PgObject) -> Alter:
    out = Alter()
    old, new = a.data["options"], b.data["options"]
    if old != new:
        restart = f" RESTART WITH {new['start']}" if narrower(old, new) else ""
        out.now.append(f"ALTER SEQUENCE {qn(*b.key[1:])} {sequence_options(new)}{restart}")
    if a.data["owned_by"] != b.data["owned_by"]:
        out.late += owned_by_sql(b) or [f"ALTER SEQUENCE {qn(*b.key[1:])} OWNED BY NONE"]
    return out


def _type(a: PgObject, b: PgObject) -> Alter | None:
    kind = a.data.get("typtype")
    if kind != b.data.get("typtype"):
        return None
    if kind == "e":
        return _enum(a, b)
    if kind == "d":
        return _domain(a, b)
    if kind == "c":
        return _composite(a, b)
    return None


def _enum(a: PgObject, b: PgObject) -> Alter | None:
    old, new = a.data["labels"], b.data["labels"]
    if [v for v in new if v in old] != old:  # a value removed or moved: only a new type will do
        return recreate_enum(a, b)
    out, target = Alter(), qn(*b.key[1:])
    for i, value in enumerate(new):
        if value in old:
            continue
        where = f" AFTER {literal(new[i - 1])}" if i else f" BEFORE {literal(new[1])}" if len(new) > 1 else ""
        out.now.append(f"ALTER TYPE {target} ADD VALUE {literal(value)}{where}")
    return out


def recreate_enum(a: PgObject, b: PgObject) -> Alter:
    """The enum made anew under its own name (the old one parked, dropped last); the diff
    converts every column of it through text."""
    old, new = a.data["labels"], b.data["labels"]
    out, target = Alter(), qn(*b.key[1:])
    parked = qn(b.key[1], f"{b.key[2][:40]}__shipyard_old")
    out.early.append(f"ALTER TYPE {target} RENAME TO {q(b.key[2][:40] + '__shipyard_old')}")
    out.now.append(b.create[0])
    out.late.append(f"DROP TYPE {parked}")
    out.retype = True
    if set(old) - set(new):
        out.destructive.add(f"{b.name} (values {', '.join(sorted(set(old) - set(new)))} go)")
        out.changes.append(("alter_type", f"{b.name} (values {', '.join(sorted(set(old) - set(new)))} go)"))
    return out


def _domain(a: PgObject, b: PgObject) -> Alter | None:
    x, y = a.data, b.data
    if (x["base"], x["collation"]) != (y["base"], y["collation"]):
        return None
    out, target = Alter(), f"ALTER DOMAIN {qn(*b.key[1:])}"
    if x["default"] != y["default"]:
        out.now.append(f"{target} SET DEFAULT {y['default']}" if y["default"] is not None else f"{target} DROP DEFAULT")
    if x["notnull"] != y["notnull"]:
        out.now.append(f"{target} {'SET' if y['notnull'] else 'DROP'} NOT NULL")
    old, new = {n: d for n, d in x["constraints"]}, {n: d for n, d in y["constraints"]}
    out.early += [f"{target} DROP CONSTRAINT {q(n)}" for n, d in old.items() if new.get(n) != d]
    out.now += [f"{target} ADD CONSTRAINT {q(n)} {d}" for n, d in new.items() if old.get(n) != d]
    return out


def _composite(a: PgObject, b: PgObject) -> Alter:
    out, target = Alter(), f"ALTER TYPE {qn(*b.key[1:])}"
    old = {n: (t, c) for n, t, c in a.data["attributes"]}
    new = {n: (t, c) for n, t, c in b.data["attributes"]}
    for name, (typ, coll) in new.items():
        collate = f" COLLATE {coll}" if coll else ""
        if name not in old:
            out.now.append(f"{target} ADD ATTRIBUTE {q(name)} {typ}{collate}")
        elif old[name] != (typ, coll):
            out.now.append(f"{target} ALTER ATTRIBUTE {q(name)} TYPE {typ}{collate}")
    out.now[:0] = [f"{target} DROP ATTRIBUTE {q(name)}" for name in old if name not in new]
    return out


def _function(a: PgObject, b: PgObject) -> Alter | None:
    """CREATE OR REPLACE keeps dependents, privileges and comments; it cannot change the
    result type, argument names or defaults, or a function into a procedure."""
    if a.data != b.data:
        return None
    return Alter(now=list(b.create))


def _extension(a: PgObject, b: PgObject) -> Alter:
    out, name = Alter(), q(b.key[1])
    if a.data["schema"] != b.data["schema"]:
        out.now.append(f"ALTER EXTENSION {name} SET SCHEMA {q(b.data['schema'])}")
    if a.data["version"] != b.data["version"]:
        out.now.append(f"ALTER EXTENSION {name} UPDATE TO {literal(b.data['version'])}")
    return out


def _trigger(a: PgObject, b: PgObject) -> Alter | None:
    if a.compare[0] != b.compare[0]:
        return None
    words = {"O": "ENABLE", "D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}
    return Alter(now=[f"ALTER TABLE {qn(*b.key[1:3])} {words[b.data['enabled']]} TRIGGER {q(b.key[3])}"])


def _constraint(a: PgObject, b: PgObject) -> Alter | None:
    if a.compare == f"{b.compare} NOT VALID" and b.data["validated"]:
        return Alter(now=[f"ALTER TABLE {qn(*b.key[1:3])} VALIDATE CONSTRAINT {q(b.key[3])}"])
    return None


_HANDLERS = {"table": _table, "sequence": _sequence, "type": _type, "function": _function, "extension": _extension,
             "trigger": _trigger, "constraint": _constraint}
