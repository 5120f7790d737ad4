"""COMMENT ON statements: every comment of an object that is created or re-created, and the
comments that differ on objects kept in place (IS NULL for a removed one)."""

from __future__ import annotations

from deploy.db.postgres.model import Catalog, Key, PgObject, literal, q, qn


def comment_statements(cur: Catalog, des: Catalog, created: dict[Key, PgObject], dropped: dict[Key, PgObject]) -> list[str]:
    out = []
    for key, obj in des.objects.items():
        old = {} if key in created else cur.objects[key].comments if key in cur.objects else {}
        if not old and not obj.comments:
            continue
        for target, text in obj.comments.items():
            if old.get(target) != text:
                out.append(f"COMMENT ON {target} IS {literal(text)}")
        gone = [t for t in old if t not in obj.comments]
        if gone:
            valid = _targets_that_exist(obj)
            out += [f"COMMENT ON {t} IS NULL" for t in gone if t in valid or not t.startswith(_PARTS)]
    return out


_PARTS = ("COLUMN ", "CONSTRAINT ")  # comments on parts of an object: only while the part exists


def _targets_that_exist(obj: PgObject) -> set[str]:
    """Targets of the desired object's parts (a dropped column's comment goes with it)."""
    if obj.kind == "constraint":
        return set(obj.comments) | {f"CONSTRAINT {q(obj.key[3])} ON {qn(*obj.key[1:3])}"}
    name = qn(*obj.key[1:3]) if len(obj.key) >= 3 else ""
    cols = obj.data.get("columns") or {}
    names = list(cols) if isinstance(cols, dict) else [c[0] for c in cols]
    names += [a[0] for a in obj.data.get("attributes", [])]
    out = {f"COLUMN {name}.{q(c)}" for c in names}
    return out | {f"CONSTRAINT {q(c)} ON DOMAIN {name}" for c, _ in obj.data.get("constraints", [])}
