"""The bookkeeping the catalog readers share: which catalog row (classid, objid, objsubid)
is which object key, which objects an extension owns (never compared: the extension is),
and — once every object is known — comments and the dependency graph from pg_depend."""

from __future__ import annotations

import json
from typing import Any

from deploy.db.postgres.model import Catalog, Key, PgObject, q, qn

PG_CLASS = 1259
_OWNED_BY = "a"  # a sequence's OWNED BY column: ownership, not a creation order


class Reader:
    def __init__(self, extension_members: set[tuple[int, int]]):
        self.cat = Catalog()
        self.keys: dict[tuple[int, int, int], Key] = {}
        self.extension_members = extension_members
        self.rel: dict[int, dict] = {}  # pg_class oid -> what the relation reader gathered
        self.domains: dict[int, dict] = {}  # pg_type oid -> a domain being read
        self.targets: dict[Key, str] = {}  # object key -> its COMMENT ON target
        self.index_targets: dict[int, str] = {}  # a constraint's own index -> its COMMENT ON target

    def map(self, classid: int, oid: Any, key: Key, subid: int = 0) -> None:
        if oid is not None:
            self.keys[(classid, int(oid), int(subid))] = key

    def key_of(self, classid: int, oid: int, subid: int = 0) -> Key | None:
        found = self.keys.get((classid, oid, subid))
        return self.keys.get((classid, oid, 0)) if found is None and subid else found

    def in_extension(self, classid: int, oid: Any) -> bool:
        return (classid, int(oid)) in self.extension_members

    def acl(self, obj: PgObject, target: str, acl: Any) -> None:
        items = json.loads(acl) if isinstance(acl, str) else acl
        if items:
            obj.acl[target] = sorted(items)

    def comments(self, rows: list) -> None:
        for classid, oid, subid, text in rows:
            key = self.key_of(int(classid), int(oid), int(subid))
            if key is None:
                continue
            if key[0] in ("column", "domain-constraint"):
                owner = self.cat.objects.get(key[1])
                if owner is not None:
                    target = (f"COLUMN {qn(*key[1][1:])}.{q(key[2])}" if key[0] == "column"
                              else f"CONSTRAINT {q(key[2])} ON DOMAIN {qn(*key[1][1:])}")
                    owner.comments[target] = text
                continue
            obj = self.cat.objects.get(key)
            target = self.index_targets.get(int(oid)) if int(classid) == PG_CLASS else None
            target = target or self.targets.get(key)
            if obj is not None and target and int(subid) == 0:
                obj.comments[target] = text

    def dependencies(self, rows: list) -> None:
        deps = self.cat.deps
        key_of = self.key_of
        for classid, oid, subid, refclassid, refoid, refsubid, deptype in rows:
            if deptype == "e":
                continue
            source = key_of(classid, oid, subid)
            target = key_of(refclassid, refoid, refsubid)
            if source is None or target is None or source == target:
                continue
            if deptype == _OWNED_BY and source[0] == "sequence" and target[0] == "column":
                continue
            if node(source) == node(target):
                continue
            deps.setdefault(source, set()).add(target)


def node(key: Key) -> Key:
    """The object a column or default key belongs to."""
    return key[1] if key[0] in ("column", "default", "domain-constraint") else key
