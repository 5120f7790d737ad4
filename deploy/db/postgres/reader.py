"""The bookkeeping the catalog readers share: which catalog row (classid, oid) is which
object key, which objects an extension owns (never compared: the extension is), and — once
every object is known — comments and the dependency graph from pg_depend. Columns arrive
by number in pg_depend and are named from each relation's column names."""

from __future__ import annotations

import json
from typing import Any

from deploy.db.postgres.model import Catalog, Key, PgObject, q, qn

PG_CLASS, PG_ATTRDEF, PG_CONSTRAINT = 1259, 2604, 2606
_OWNED_BY = "a"  # a sequence's OWNED BY column: ownership, not a creation order
_WORDS = {"table": "TABLE", "view": "VIEW", "matview": "MATERIALIZED VIEW", "type": "TYPE", "index": "INDEX"}


class Reader:
    def __init__(self, extension_members: set[tuple[int, int]]):
        self.cat = Catalog()
        self.keys: dict[tuple[int, int], Key] = {}
        self.extension_members = extension_members
        self.rel: dict[int, Key] = {}  # pg_class oid -> key of a relation with columns
        self.columns: dict[int, list[str] | dict[int, str]] = {}  # its column names (by attnum when some were dropped)
        self.relations: list[PgObject] = []  # read first, added to the catalog once the rest is known
        self.domains: dict[int, dict] = {}  # pg_type oid -> a domain being read
        self.targets: dict[Key, str] = {}  # object key -> its COMMENT ON target (other than default_target's)
        self.clone_tables: dict[int, Key] = {}  # pg_constraint oid of a partition's clone -> that partition

    def map(self, classid: int, oid: Any, key: Key) -> None:
        if oid is not None:
            self.keys[(classid, oid)] = key

    def key_of(self, classid: int, oid: int) -> Key | None:
        return self.keys.get((classid, oid))

    def in_extension(self, classid: int, oid: Any) -> bool:
        return (classid, oid) in self.extension_members

    def comments(self, rows: list) -> None:
        objects = self.cat.objects
        for classid, oid, column, index_ns, index_name, subid, text in rows:
            if subid:
                rel = self.rel.get(oid) if column is not None else None
                owner = objects.get(rel) if rel else None
                if owner is not None:
                    owner.comments[f"COLUMN {qn(*rel[1:])}.{q(column)}"] = text
                continue
            key = self.key_of(classid, oid)
            if key is None or (classid == PG_CONSTRAINT and key[0] not in ("constraint", "domain-constraint")):
                continue  # an inherited or cloned constraint is read as its table's
            if key[0] == "domain-constraint":
                owner = objects.get(key[1])
                if owner is not None:
                    owner.comments[f"CONSTRAINT {q(key[2])} ON DOMAIN {qn(*key[1][1:])}"] = text
                continue
            obj = objects.get(key)
            target = f"INDEX {qn(index_ns, index_name)}" if index_name is not None else self.targets.get(key) or default_target(key)
            if obj is not None and target:
                obj.comments[target] = text

    def column_name(self, relid: int, attnum: int) -> str | None:
        names = self.columns.get(relid, ())
        if isinstance(names, dict):
            return names.get(attnum)
        return names[attnum - 1] if 0 < attnum <= len(names) else None

    def resolve(self, classid: int, oid: int, subid: int) -> Key | None:
        """A pg_depend end as a key: a column (objsubid on pg_class) or a column's default
        (pg_attrdef, given as its table and column number) by its relation and name."""
        if subid and classid in (PG_CLASS, PG_ATTRDEF):
            rel, column = self.rel.get(oid), self.column_name(oid, subid)
            if rel is not None and column is not None:
                return ("default" if classid == PG_ATTRDEF else "column", rel, column)
        return None if classid == PG_ATTRDEF else self.keys.get((classid, oid))

    def owners(self, rows: list) -> None:
        """Who owns each object read; the row of catalog 0 is the login reading them."""
        objects, owners, keys = self.cat.objects, self.cat.owners, self.keys
        for classid, role, oids in rows:
            if classid == 0:
                self.cat.login = role
            for oid in oids:
                key = keys.get((classid, oid))
                if key is not None and key in objects:
                    owners[key] = role

    def dependencies(self, rows: list) -> None:
        deps, keys, resolve = self.cat.deps, self.keys, self.resolve
        for classid, oid, subid, refclassid, refoid, refsubid, deptype in rows:  # ~12,000 for 2,000 tables
            source = resolve(classid, oid, subid) if subid else keys.get((classid, oid))
            if source is None:
                continue
            target = resolve(refclassid, refoid, refsubid) if refsubid else keys.get((refclassid, refoid))
            if target is None or source == target:
                continue
            if classid == PG_CONSTRAINT and self.clone_tables.get(oid) == node(target):
                continue  # a clone on its own partition: read as its parent key, which does not need the partition
            if deptype == _OWNED_BY and source[0] == "sequence" and target[0] == "column":
                continue
            if node(source) == node(target):
                continue
            deps.setdefault(source, set()).add(target)


def default_target(key: Key) -> str | None:
    """COMMENT ON targets of the kinds read in bulk, worked out only for commented objects."""
    if key[0] == "constraint":
        return f"CONSTRAINT {q(key[3])} ON {qn(key[1], key[2])}"
    word = _WORDS.get(key[0])
    return f"{word} {qn(key[1], key[2])}" if word else None


def add_acl(obj: PgObject, target: str, acl: Any) -> None:
    items = json.loads(acl) if isinstance(acl, str) else acl
    if items:
        obj.acl[target] = sorted(items)


def node(key: Key) -> Key:
    """The object a column or default key belongs to."""
    return key[1] if key[0] in ("column", "default", "domain-constraint") else key
