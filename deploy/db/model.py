"""One schema model for every dialect: what introspection and the `sql/` tree both build.

Structured parts (columns, keys, indexes) are compared field by field; the bodies of
views, procedures, functions and triggers are kept as text and compared through a
normalised key, so whitespace never makes a difference.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import Any

DIALECTS = ("postgres", "sqlite", "tsql")
DEFAULT_SCHEMA = {"postgres": "public", "sqlite": "main", "tsql": "dbo"}
ROUTINE_KINDS = ("view", "function", "procedure", "trigger")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    identity: bool = False
    computed: str | None = None
    collation: str | None = None
    default_name: str | None = None  # T-SQL names its default constraints so they can be dropped


@dataclass(frozen=True)
class Key:
    """A primary key or a unique constraint."""

    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    name: str | None
    expression: str


@dataclass(frozen=True)
class ForeignKey:
    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None
    method: str | None = None  # gin, gist, clustered, columnstore...; None: the ordinary kind


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: Key | None = None
    uniques: tuple[Key, ...] = ()
    checks: tuple[Check, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    def column(self, name: str) -> Column | None:
        return self._by_name.get(name.lower())

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        return {c.name.lower(): c for c in self.columns}


@dataclass(frozen=True)
class Routine:
    """A view, function, procedure or trigger: its whole CREATE statement, as text."""

    kind: str
    name: str
    definition: str
    table: str | None = None  # the table a trigger is on
    fingerprint: str | None = None  # the normalised key, when the text itself cannot be trusted


@dataclass(frozen=True)
class Sequence:
    name: str
    start: int = 1
    increment: int = 1


@dataclass
class Schema:
    """A whole database. Object names are qualified `schema.name` except on SQLite."""

    dialect: str
    schemas: set[str] = field(default_factory=set)
    tables: dict[str, Table] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)
    routines: dict[str, Routine] = field(default_factory=dict)
    sequences: dict[str, Sequence] = field(default_factory=dict)
    server_version: str | None = None  # T-SQL: the oldest version the live server reports (tsql_target)

    def add_table(self, table: Table) -> None:
        self.tables[table.name.lower()] = table

    def add_index(self, index: Index) -> None:
        self.indexes[f"{index.table}.{index.name}".lower()] = index

    def add_routine(self, routine: Routine) -> None:
        self.routines[f"{routine.kind}:{routine.name}".lower()] = routine

    def table(self, name: str) -> Table | None:
        return self.tables.get(name.lower())

    def to_json(self) -> dict[str, Any]:
        return {
            "dialect": self.dialect,
            "schemas": sorted(self.schemas),
            "tables": [asdict(t) for t in self.tables.values()],
            "indexes": [asdict(i) for i in self.indexes.values()],
            "routines": [asdict(r) for r in self.routines.values()],
            "sequences": [asdict(s) for s in self.sequences.values()],
            **({"server_version": self.server_version} if self.server_version else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Schema":
        schema = cls(data["dialect"], set(data.get("schemas", [])), server_version=data.get("server_version"))
        for t in data.get("tables", []):
            schema.add_table(_table_from_json(t))
        for i in data.get("indexes", []):
            schema.add_index(_build(Index, i))
        for r in data.get("routines", []):
            schema.add_routine(_build(Routine, r))
        for s in data.get("sequences", []):
            schema.sequences[s["name"].lower()] = _build(Sequence, s)
        return schema


def _build(kind: type, data: dict[str, Any]) -> Any:
    """A dataclass from JSON, lists back to tuples (the model is hashable and frozen)."""
    names = {f.name for f in fields(kind)}
    return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names})


def _table_from_json(t: dict[str, Any]) -> Table:
    return Table(
        name=t["name"],
        columns=tuple(_build(Column, c) for c in t["columns"]),
        primary_key=_build(Key, t["primary_key"]) if t.get("primary_key") else None,
        uniques=tuple(_build(Key, k) for k in t.get("uniques", [])),
        checks=tuple(_build(Check, c) for c in t.get("checks", [])),
        foreign_keys=tuple(_build(ForeignKey, f) for f in t.get("foreign_keys", [])),
    )


def qualify(name: str, schema: str | None, dialect: str) -> str:
    """`schema.name` for dialects with schemas; SQLite has one namespace."""
    if dialect == "sqlite":
        return name
    return f"{schema or DEFAULT_SCHEMA[dialect]}.{name}"


def split_name(qualified: str) -> tuple[str | None, str]:
    schema, _, name = qualified.rpartition(".")
    return (schema or None), name


__all__ = [
    "Column", "Key", "Check", "ForeignKey", "Index", "Table", "Routine", "Sequence", "Schema",
    "qualify", "split_name", "replace", "DIALECTS", "DEFAULT_SCHEMA", "ROUTINE_KINDS",
]
