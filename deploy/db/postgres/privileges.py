"""GRANT / REVOKE, only with --with-privileges (as migra's option): the aclitem lists of
each object compared grantee by grantee; default privileges are reported, not changed."""

from __future__ import annotations

from deploy.db.postgres.model import Catalog, Key, PgObject

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
