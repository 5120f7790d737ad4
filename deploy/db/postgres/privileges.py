"""GRANT / REVOKE, only with --with-privileges (as migra's option): the aclitem lists of
each object compared grantee by grantee, and default privileges (ALTER DEFAULT PRIVILEGES,
pg_default_acl) the same way, per role, schema and kind of object."""

from __future__ import annotations

import json
from typing import Any

from deploy.db.postgres.model import Catalog, Key, PgObject, q

_WORDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "D": "TRUNCATE", "x": "REFERENCES",
          "t": "TRIGGER", "X": "EXECUTE", "U": "USAGE", "C": "CREATE", "c": "CONNECT", "T": "TEMPORARY",
          "m": "MAINTAIN"}


def parse_acl(items: list[str]) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """aclitem texts (`grantee=privs/grantor`) -> grantee -> (privileges, with grant option)."""
    out: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for item in items:
        grantee, _, rest = item.rpartition("=")
        privs = rest.split("/", 1)[0]
        plain = {_WORDS[c] for c in privs if c in _WORDS}
        granted = {_WORDS[privs[i - 1]] for i, c in enumerate(privs) if c == "*" and i}
        old_plain, old_granted = out.get(grantee or "PUBLIC", (frozenset(), frozenset()))
        out[grantee or "PUBLIC"] = (old_plain | plain, old_granted | granted)
    return out


def _grant_target(target: str) -> tuple[str, str]:
    """(what GRANT names, the column list to put after each privilege)."""
    if target.startswith("COLUMN "):
        column, _, table = target[len("COLUMN "):].partition(" ON ")
        return table, f" ({column})"
    return target, ""


_DEFAULT_KINDS = {"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS"}


def acl_statements(target: str, old: list[str] | None, new: list[str] | None) -> list[str]:
    before, after = parse_acl(old or []), parse_acl(new or [])
    on, cols = _grant_target(target)
    out = []
    for grantee in sorted(set(before) | set(after)):
        if before.get(grantee) == after.get(grantee):
            continue
        who = "PUBLIC" if grantee == "PUBLIC" else grantee
        if grantee in before:
            privs = ", ".join(f"{p}{cols}" for p in sorted(before[grantee][0])) if cols else "ALL"
            out.append(f"REVOKE {privs} ON {on} FROM {who}")
        plain, granted = after.get(grantee, (frozenset(), frozenset()))
        if plain - granted:
            out.append(f"GRANT {', '.join(f'{p}{cols}' for p in sorted(plain - granted))} ON {on} TO {who}")
        if granted:
            out.append(f"GRANT {', '.join(f'{p}{cols}' for p in sorted(granted))} ON {on} TO {who} WITH GRANT OPTION")
    return out


def privilege_statements(cur: Catalog, des: Catalog, created: dict[Key, PgObject]) -> list[str]:
    out = []
    for key, obj in des.objects.items():
        old = {} if key in created or key not in cur.objects else cur.objects[key].acl
        for target in sorted(set(old) | set(obj.acl)):
            if old.get(target) != obj.acl.get(target):
                out += acl_statements(target, old.get(target), obj.acl.get(target))
    return out


def default_privilege_statements(cur: Catalog, des: Catalog) -> list[str]:
    """ALTER DEFAULT PRIVILEGES for each (role, schema, kind) whose entries differ. A role's
    own defaults without a row are what the server grants by itself (acldefault, read beside
    the row on the side that has one); a schema's without a row grant nothing more."""
    before, after = _default_acls(cur), _default_acls(des)
    out = []
    for key in sorted(set(before) | set(after), key=lambda k: (k[0], k[1] or "", k[2])):
        role, schema, kind = key
        old, builtin = before.get(key, (None, None))
        new, builtin_new = after.get(key, (None, None))
        builtin = builtin or builtin_new or []
        old, new = builtin if old is None else old, builtin if new is None else new
        if sorted(old) == sorted(new) or kind not in _DEFAULT_KINDS:
            continue
        where = f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(role)}" + (f" IN SCHEMA {q(schema)}" if schema else "")
        out += [f"{where} {s}" for s in acl_statements(_DEFAULT_KINDS[kind], old, new)]
    return out


def _default_acls(cat: Catalog) -> dict[tuple, tuple[list[str], Any]]:
    out = {}
    for row in cat.default_acls:
        role, schema, kind, acl = row[:4]
        builtin = row[4] if len(row) > 4 else None  # a snapshot by an older Shipyard has none
        out[(role, schema, kind)] = (_items(acl), [] if schema else None if builtin is None else _items(builtin))
    return out


def _items(value: Any) -> list[str]:
    return list(json.loads(value) if isinstance(value, str) else value or [])
