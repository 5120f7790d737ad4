"""Tables: what is compared (columns with every option, persistence, storage parameters,
partitioning, inheritance, row-level security, replica identity, CLUSTER ON), the CREATE
TABLE that builds one and the ALTER TABLE statements that turn one into another."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from deploy.db.postgres.model import q, qn

_IDENTITY = {"a": "ALWAYS", "d": "BY DEFAULT"}
_STORAGE = {"p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"}
_REPLIDENT = {"d": "DEFAULT", "n": "NOTHING", "f": "FULL"}
_COLUMN_FIELDS = ("type", "notnull", "default", "generated", "identity", "identity_options", "collation", "local",
                  "stattarget", "storage", "enum")


@dataclass
class Alter:
    """What turning one existing object into another takes: `early` runs with the drops,
    `now` in dependency order with the creates, `late` after everything exists."""

    early: list[str] = field(default_factory=list)
    now: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    breaking: set[str] = field(default_factory=set)  # columns whose dependents must be re-created
    changes: list[tuple[str, str]] = field(default_factory=list)  # (add_column, schema.table.column)...
    destructive: set[str] = field(default_factory=set)  # which of `changes` lose data
    contract: set[str] = field(default_factory=set)  # which of `changes` the previous release's code may trip on
    retype: bool = False  # a type re-made under its own name: every column of it is converted


def table_data(info: dict, parent_columns: dict[str, dict]) -> dict[str, Any]:
    """`parent_columns`: what each inherited column gets from its parents when the table is created."""
    columns = {c["name"]: {f: c[f] for f in _COLUMN_FIELDS} for c in info["columns"]}
    return {"name": [info["ns"], info["name"]], "relkind": info["relkind"], "persistence": info["persistence"],
            "options": sorted(info["options"]), "rls": info["rls"], "force_rls": info["force_rls"],
            "replident": info["replident"], "replident_index": info["replident_index"], "cluster": info["cluster"],
            "bound": info["bound"], "partkey": info["partkey"], "of_type": info["of_type"],
            "parents": [list(p[1:]) for p in info["parents"]], "columns": columns,
            "parent_columns": parent_columns}


def column_sql(name: str, c: dict) -> str:
    out = f"{q(name)} {c['type']}"
    if c["collation"]:
        out += f" COLLATE {c['collation']}"
    if c["generated"]:
        out += f" GENERATED ALWAYS AS ({c['generated']}) STORED"
    elif c["identity"]:
        out += f" GENERATED {_IDENTITY[c['identity']]} AS IDENTITY{identity_options(c.get('identity_options'))}"
    if c["default"] is not None:
        out += f" DEFAULT {c['default']}"
    return out + (" NOT NULL" if c["notnull"] else "")


def identity_options(opts: dict | None) -> str:
    if not opts:
        return ""
    return (f" (SEQUENCE NAME {qn(*opts['name'])} START WITH {opts['start']} INCREMENT BY {opts['increment']} "
            f"MINVALUE {opts['min']} MAXVALUE {opts['max']} CACHE {opts['cache']}{'' if opts['cycle'] else ' NO'} CYCLE)")


def create_table(d: dict) -> list[str]:
    ns, name = d["name"]
    target = qn(ns, name)
    unlogged = "UNLOGGED " if d["persistence"] == "u" else ""
    tail = f" PARTITION BY {d['partkey']}" if d["partkey"] else ""
    tail += f" WITH ({', '.join(d['options'])})" if d["options"] else ""
    if d["bound"] is not None:
        parent = qn(*d["parents"][0])
        out = [f"CREATE {unlogged}TABLE {target} PARTITION OF {parent} {d['bound']}{tail}"]
    elif d["of_type"]:
        out = [f"CREATE {unlogged}TABLE {target} OF {d['of_type']}{tail}"]
    else:
        local = [column_sql(n, c) for n, c in d["columns"].items() if c["local"] or not d["parents"]]
        inherits = f" INHERITS ({', '.join(qn(*p) for p in d['parents'])})" if d["parents"] else ""
        body = "(\n    " + ",\n    ".join(local) + "\n)" if local else "()"
        out = [f"CREATE {unlogged}TABLE {target} {body}{inherits}{tail}"]
    out += _inherited_column_fixes(d)
    out += [f"ALTER TABLE ONLY {target} ALTER COLUMN {q(n)} SET STATISTICS {c['stattarget']}"
            for n, c in d["columns"].items() if c["stattarget"] not in (-1, None)]
    out += [f"ALTER TABLE ONLY {target} ALTER COLUMN {q(n)} SET STORAGE {_STORAGE[c['storage']]}"
            for n, c in d["columns"].items() if c["storage"]]
    out += _security(d, {"rls": False, "force_rls": False, "replident": "d"})
    return out


def _inherited_column_fixes(d: dict) -> list[str]:
    """Inherited columns arrive with the parent's default and NOT NULL; set the table's own."""
    out, target = [], qn(*d["name"])
    for n, c in d["columns"].items():
        inherited = d["parent_columns"].get(n) if (not c["local"] or d["bound"] is not None or d["of_type"]) else None
        if inherited is None or c["generated"] or c["identity"]:
            continue
        if c["default"] != inherited["default"]:
            out.append(f"ALTER TABLE ONLY {target} ALTER COLUMN {q(n)} "
                       + (f"SET DEFAULT {c['default']}" if c["default"] is not None else "DROP DEFAULT"))
        if c["notnull"] and not inherited["notnull"]:
            out.append(f"ALTER TABLE ONLY {target} ALTER COLUMN {q(n)} SET NOT NULL")
    return out


def _security(d: dict, old: dict) -> list[str]:
    target, out = qn(*d["name"]), []
    if d["rls"] != old["rls"]:
        out.append(f"ALTER TABLE {target} {'ENABLE' if d['rls'] else 'DISABLE'} ROW LEVEL SECURITY")
    if d["force_rls"] != old["force_rls"]:
        out.append(f"ALTER TABLE {target} {'' if d['force_rls'] else 'NO '}FORCE ROW LEVEL SECURITY")
    if d["replident"] != old["replident"] and d["replident"] in _REPLIDENT:
        out.append(f"ALTER TABLE {target} REPLICA IDENTITY {_REPLIDENT[d['replident']]}")
    return out


def alter_table(a: dict, b: dict, widening: Callable[[str, str], bool]) -> Alter | None:
    """None when only a rebuild could do it (partition key or table kind changed)."""
    if a["relkind"] != b["relkind"] or a["partkey"] != b["partkey"] or a["of_type"] != b["of_type"]:
        return None
    out, target = Alter(), qn(*b["name"])
    _inheritance(a, b, out)
    for name, c in b["columns"].items():
        old = a["columns"].get(name)
        if old is None:
            if c["local"] or _gained_from_new_parent(a, b):
                label = f"{'.'.join(b['name'])}.{name}"
                out.now.append(f"ALTER TABLE {target} ADD COLUMN {column_sql(name, c)}")
                out.changes.append(("add_column", label))
                if c["notnull"] and c["default"] is None and not (c["identity"] or c["generated"]):
                    out.contract.add(label)
        elif old != c:
            out.changes.append(("alter_column", f"{'.'.join(b['name'])}.{name}"))
            _alter_column(target, name, old, c, out, widening, f"{'.'.join(b['name'])}.{name}")
    for name, old in a["columns"].items():
        if name not in b["columns"] and (old["local"] or not b["parents"]):
            out.now.insert(0, f"ALTER TABLE {target} DROP COLUMN {q(name)}")
            out.breaking.add(name)
            out.changes.append(("drop_column", f"{'.'.join(a['name'])}.{name}"))
            out.destructive.add(f"{'.'.join(a['name'])}.{name}")
    _rebuild_generated(a, b, out, target)
    if a["persistence"] != b["persistence"]:
        out.now.append(f"ALTER TABLE {target} SET {'UNLOGGED' if b['persistence'] == 'u' else 'LOGGED'}")
    _options(target, a["options"], b["options"], out.now)
    out.now += _security(b, a)
    if a["cluster"] and not b["cluster"]:
        out.now.append(f"ALTER TABLE {target} SET WITHOUT CLUSTER")
    if b["cluster"] and b["cluster"] != a["cluster"]:
        out.late.append(f"ALTER TABLE {target} CLUSTER ON {q(b['cluster'])}")
    if b["replident"] == "i" and (a["replident"], a["replident_index"]) != ("i", b["replident_index"]):
        out.late.append(f"ALTER TABLE {target} REPLICA IDENTITY USING INDEX {q(b['replident_index'])}")
    return out


def _rebuild_generated(a: dict, b: dict, out: Alter, target: str) -> None:
    """A column a generated column reads cannot change type: the generated ones (values
    computed, nothing lost) are dropped first and added back after."""
    retyped = {n for n in out.breaking if n in b["columns"] and n in a["columns"]}
    if not retyped:
        return
    for name, c in b["columns"].items():
        if c["generated"] and a["columns"].get(name, {}).get("generated") == c["generated"] and name not in retyped:
            out.now.insert(0, f"ALTER TABLE {target} DROP COLUMN {q(name)}")
            out.now.append(f"ALTER TABLE {target} ADD COLUMN {column_sql(name, c)}")
            out.breaking.add(name)


def _gained_from_new_parent(a: dict, b: dict) -> bool:
    """A column that arrives with a parent the table did not have must exist before INHERIT."""
    return any(p not in a["parents"] for p in b["parents"]) and b["bound"] is None


def _inheritance(a: dict, b: dict, out: Alter) -> None:
    target = qn(*b["name"])
    if a["bound"] is not None and (b["bound"] != a["bound"] or b["parents"][:1] != a["parents"][:1]):
        out.early.append(f"ALTER TABLE {qn(*a['parents'][0])} DETACH PARTITION {target}")
    if b["bound"] is not None and (a["bound"] != b["bound"] or b["parents"][:1] != a["parents"][:1]):
        out.late.append(f"ALTER TABLE {qn(*b['parents'][0])} ATTACH PARTITION {target} {b['bound']}")
    if a["bound"] is None and b["bound"] is None:
        out.early += [f"ALTER TABLE {target} NO INHERIT {qn(*p)}" for p in a["parents"] if p not in b["parents"]]
        out.late += [f"ALTER TABLE {target} INHERIT {qn(*p)}" for p in b["parents"] if p not in a["parents"]]


def _alter_column(target: str, name: str, old: dict, new: dict, out: Alter, widening: Callable[[str, str], bool],
                  label: str) -> None:
    col = f"ALTER TABLE {target} ALTER COLUMN {q(name)}"
    only = f"ALTER TABLE ONLY {target} ALTER COLUMN {q(name)}"
    if old["generated"] != new["generated"] and new["generated"]:  # an expression cannot be altered in place
        out.now += [f"ALTER TABLE {target} DROP COLUMN {q(name)}", f"ALTER TABLE {target} ADD COLUMN {column_sql(name, new)}"]
        out.breaking.add(name)
        return
    if old["generated"] and not new["generated"]:
        out.now.append(f"{col} DROP EXPRESSION")
    retyped = (old["type"], old["collation"]) != (new["type"], new["collation"]) and (old["local"] or new["local"])
    if retyped:
        if old["default"] is not None:
            out.now.append(f"{only} DROP DEFAULT")
        collate = f" COLLATE {new['collation']}" if new["collation"] else ""
        via = ("::text[]" if old["type"].endswith("[]") else "::text") if old.get("enum") else ""  # enums cast only to text
        out.now.append(f"{col} TYPE {new['type']}{collate} USING {q(name)}{via}::{new['type']}")
        out.breaking.add(name)
        if old["type"] != new["type"] and not widening(old["type"], new["type"]):
            out.destructive.add(label)
    if retyped and new["default"] is not None or (old["default"] != new["default"] and not retyped):
        out.now.append(f"{only} SET DEFAULT {new['default']}" if new["default"] is not None else f"{only} DROP DEFAULT")
    if old["notnull"] != new["notnull"]:
        out.now.append(f"{col} {'SET' if new['notnull'] else 'DROP'} NOT NULL")
        if new["notnull"]:
            out.contract.add(label)
    _identity(col, old, new, out)
    if old["stattarget"] != new["stattarget"]:
        out.now.append(f"{only} SET STATISTICS {new['stattarget']}")
    if old["storage"] != new["storage"]:
        out.now.append(f"{col} SET STORAGE {_STORAGE.get(new['storage'] or '', 'DEFAULT')}")


def _identity(col: str, old: dict, new: dict, alter: Alter) -> None:
    out = alter.now
    if old["identity"] and not new["identity"]:
        alter.early.append(f"{col} DROP IDENTITY")  # frees its sequence's name before any create
    elif new["identity"] and not old["identity"]:
        out.append(f"{col} ADD GENERATED {_IDENTITY[new['identity']]} AS IDENTITY{identity_options(new.get('identity_options'))}")
    elif new["identity"]:
        sets = [] if old["identity"] == new["identity"] else [f"SET GENERATED {_IDENTITY[new['identity']]}"]
        a, b = old.get("identity_options") or {}, new.get("identity_options") or {}
        words = {"start": "START WITH", "increment": "INCREMENT BY", "min": "MINVALUE", "max": "MAXVALUE", "cache": "CACHE"}
        sets += [f"SET {w} {b[k]}" for k, w in words.items() if k in b and a.get(k) != b[k]]
        if "cycle" in b and a.get("cycle") != b["cycle"]:
            sets.append("SET CYCLE" if b["cycle"] else "SET NO CYCLE")
        if narrower(a, b):  # the sequence's position may fall outside the new bounds (as a sequence's)
            sets.append(f"RESTART WITH {b['start']}")
        if sets:
            out.append(f"{col} {' '.join(sets)}")


def narrower(old: dict, new: dict) -> bool:
    """Whether new sequence bounds may leave out the current value (ALTER then refuses)."""
    return "min" in new and "max" in new and (new["min"] > old.get("min", new["min"]) or new["max"] < old.get("max", new["max"]))


def _options(target: str, old: list[str], new: list[str], out: list[str]) -> None:
    gone = sorted({o.split("=", 1)[0] for o in old} - {o.split("=", 1)[0] for o in new})
    if gone:
        out.append(f"ALTER TABLE {target} RESET ({', '.join(gone)})")
    changed = [o for o in new if o not in old]
    if changed:
        out.append(f"ALTER TABLE {target} SET ({', '.join(changed)})")
