"""The PostgreSQL catalog model: every object the catalog holds, keyed by a tuple of its
kind and raw (schema, name) parts — never a dotted string, so `"a.t"` beside `a.t` stays
two objects — with the engine's own rendering as what is compared, the statements that
create and drop it, and its dependencies from pg_depend."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable

Key = tuple  # ("table", "public", "t"), ("function", "public", "f", "integer, text"), ...
MAX_IDENTIFIER = 63  # bytes: NAMEDATALEN - 1


def q(name: str) -> str:
    """A quoted identifier (always quoted: case and keywords can never bite)."""
    return '"' + name.replace('"', '""') + '"'


def qn(schema: str, name: str) -> str:
    return f"{q(schema)}.{q(name)}"


def literal(text: str) -> str:
    """A string literal; standard_conforming_strings is on in every supported server."""
    return "'" + text.replace("'", "''") + "'"


def truthy(value: Any) -> bool:
    """psqlODBC returns booleans as '1'/'0' strings."""
    return value in (True, 1, "1", "t", "true")


@dataclass
class PgObject:
    """One catalog object. `compare` is what decides whether two sides differ (the server's
    own rendering plus the options that rendering leaves out); `parent` is the object it
    lives on (a table's index, constraint, trigger, policy, rule; an owned sequence)."""

    kind: str
    key: Key
    name: str  # how messages name it: schema.name (raw, unquoted parts)
    create: list[str]
    drop: list[str]
    compare: Any = None
    parent: Key | None = None
    comments: dict[str, str] = field(default_factory=dict)  # COMMENT ON target -> text
    acl: dict[str, list[str]] = field(default_factory=dict)  # GRANT target -> aclitem texts
    late: list[str] = field(default_factory=list)  # after every create: OWNED BY, CLUSTER ON...
    data: dict[str, Any] = field(default_factory=dict)  # kind-specific parts the alter code reads

    digest = None  # see LazyObject

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    def same_as(self, other: "PgObject") -> bool:
        """Equal digests (the server's own text of everything an object is made from) mean
        equal objects without working either out; otherwise their renderings decide."""
        return (self.digest is not None and self.digest == other.digest) or self.compare == other.compare


_LAZY = ("create", "drop", "compare", "late", "data", "acl")


def _lazy_field(name: str) -> property:
    def get(self: "LazyObject") -> Any:
        values = self.__dict__
        if name not in values:
            self.fill()
        return values[name]

    def put(self: "LazyObject", value: Any) -> None:
        self.__dict__[name] = value

    return property(get, put)


class LazyObject(PgObject):
    """A PgObject read from the catalog whose statements and data are worked out on first
    use: most objects are alike on both sides and are never asked for them. `digest` is
    everything they are made from, oids left out, so equal digests mean equal objects."""

    def __init__(self, kind: str, key: Key, name: str, parent: Key | None, digest: Any,
                 make: Callable[["LazyObject"], None]):
        self.kind, self.key, self.name, self.parent, self.digest = kind, key, name, parent, digest
        self.comments = {}
        self._make = make  # sets every field of _LAZY

    def fill(self) -> None:
        make = self.__dict__.pop("_make", None)
        if make is not None:
            make(self)

    def __deepcopy__(self, memo: dict) -> PgObject:
        """A plain copy: an edited copy (renames, kept data) no longer matches its digest."""
        return PgObject(**{f.name: copy.deepcopy(getattr(self, f.name), memo) for f in fields(PgObject)})


for _name in _LAZY:
    setattr(LazyObject, _name, _lazy_field(_name))


@dataclass
class Catalog:
    """A whole database as the catalog describes it. `deps[k]` are the keys `k` needs;
    column-level dependencies are kept as ("column", schema, table, column) keys."""

    objects: dict[Key, PgObject] = field(default_factory=dict)
    deps: dict[Key, set[Key]] = field(default_factory=dict)
    unsupported: list[str] = field(default_factory=list)
    default_acls: list[list[Any]] = field(default_factory=list)
    owners: dict[Key, str] = field(default_factory=dict)  # object -> its owner (ALTER ... OWNER TO)
    login: str | None = None  # who read it: the owner of what a script run by the same login creates
    dialect: str = "postgres"

    def add(self, obj: PgObject) -> PgObject:
        self.objects[obj.key] = obj
        return obj

    def to_json(self) -> dict[str, Any]:
        return {"dialect": "postgres", "format": "catalog",
                "objects": [asdict(o) for o in self.objects.values()],
                "deps": [[list(k), [list(d) for d in sorted(v)]] for k, v in self.deps.items()],
                "unsupported": self.unsupported, "default_acls": self.default_acls,
                "owners": [[list(k), v] for k, v in self.owners.items()], "login": self.login}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Catalog":
        cat = cls(unsupported=list(data.get("unsupported", [])), default_acls=data.get("default_acls", []),
                  owners={_tuple(k): v for k, v in data.get("owners", [])}, login=data.get("login"))
        for o in data.get("objects", []):
            o = dict(o, key=_tuple(o["key"]), parent=_tuple(o["parent"]) if o.get("parent") else None)
            cat.add(PgObject(**o))
        cat.deps = {_tuple(k): {_tuple(d) for d in v} for k, v in data.get("deps", [])}
        return cat


def _tuple(value: Any) -> Any:
    return tuple(_tuple(v) for v in value) if isinstance(value, list) else value


def is_catalog_json(data: dict[str, Any]) -> bool:
    return data.get("format") == "catalog"
