"""One schema model for every dialect: what introspection and the `sql/` tree both build.

Structured parts (columns, keys, indexes) are compared field by field; the bodies of
views, procedures, functions and triggers are kept as text and compared through a
normalised key, so whitespace never makes a difference.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import Any, NamedTuple

DIALECTS = ("postgres", "sqlite", "tsql", "mysql")
DEFAULT_SCHEMA = {"postgres": "public", "sqlite": None, "tsql": "dbo", "mysql": None}
ROUTINE_KINDS = ("view", "function", "procedure", "trigger", "event")


class QName(NamedTuple):
    """An object's name as its parts. A name is data: `"a.t"` is one table called `a.t`,
    never table `t` in schema `a`, so nothing ever splits a name on a dot. `schema` is None
    where the dialect has one namespace per connection (SQLite)."""

    schema: str | None
    name: str

    @property
    def key(self) -> tuple[str, str]:
        """The comparison form (these dialects fold identifier case)."""
        return ((self.schema or "").lower(), self.name.lower())

    def __str__(self) -> str:
        return ".".join(_shown(p) for p in (self.schema, self.name) if p is not None)


def _shown(part: str) -> str:
    """A part as a message shows it: quoted when it holds a dot or a quote (so it reads as one)."""
    return f'"{part.replace(chr(34), chr(34) * 2)}"' if any(ch in part for ch in '."') else part


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
    stored: bool = False  # a computed column kept on disk (STORED), not computed when read
    charset: str | None = None  # MySQL: the column's character set (collation is `collation`)
    source: str | None = None  # MySQL: the attributes after the type, as the server prints them


@dataclass(frozen=True)
class Key:
    """A primary key or a unique constraint."""

    name: str | None
    columns: tuple[str, ...]
    source: str | None = None  # MySQL: the key as SHOW CREATE TABLE prints it (prefix lengths, COMMENT)


@dataclass(frozen=True)
class Check:
    name: str | None
    expression: str


@dataclass(frozen=True)
class ForeignKey:
    name: str | None
    columns: tuple[str, ...]
    ref_table: QName
    ref_columns: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None


@dataclass(frozen=True)
class IndexPart:
    """One key of an index: a column (its exact name, never quoted text) or an expression."""

    column: str | None = None
    expression: str | None = None
    descending: bool = False
    length: int | None = None  # MySQL: a prefix index on the first `length` characters


@dataclass(frozen=True)
class Index:
    name: str
    table: QName  # an index lives in its table's schema
    columns: tuple[IndexPart, ...]
    unique: bool = False
    where: str | None = None
    method: str | None = None  # gin, gist, clustered, columnstore...; None: the ordinary kind
    source: str | None = None  # MySQL: the index as SHOW CREATE TABLE prints it

    @property
    def key(self) -> tuple[tuple[str, str], str]:
        return (self.table.key, self.name.lower())


@dataclass(frozen=True)
class Table:
    name: QName
    columns: tuple[Column, ...]
    primary_key: Key | None = None
    uniques: tuple[Key, ...] = ()
    checks: tuple[Check, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    options: tuple[str, ...] = ()  # what follows the column list, normalised: STRICT, WITHOUT ROWID...
    source: str | None = None  # the column list and options as written (SQLite creates from it)
    partition: str | None = None  # MySQL: the PARTITION BY clause as the server prints it

    def column(self, name: str) -> Column | None:
        return self._by_name.get(name.lower())

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        return {c.name.lower(): c for c in self.columns}


@dataclass(frozen=True)
class Routine:
    """A view, function, procedure or trigger: its whole CREATE statement, as text."""

    kind: str
    name: QName
    definition: str
    table: QName | None = None  # the table a trigger is on
    fingerprint: str | None = None  # the normalised key, when the text itself cannot be trusted

    @property
    def key(self) -> tuple[str, tuple[str, str]]:
        return (self.kind, self.name.key)


@dataclass(frozen=True)
class Sequence:
    name: QName
    start: int = 1
    increment: int = 1


@dataclass
class Schema:
    """A whole database. Every object is keyed by its QName's key, never by joined text."""

    dialect: str
    schemas: set[str] = field(default_factory=set)
    tables: dict[tuple[str, str], Table] = field(default_factory=dict)
    indexes: dict[tuple[tuple[str, str], str], Index] = field(default_factory=dict)
    routines: dict[tuple[str, tuple[str, str]], Routine] = field(default_factory=dict)
    sequences: dict[tuple[str, str], Sequence] = field(default_factory=dict)
    server_version: str | None = None  # T-SQL: the oldest version the live server reports (tsql_target); MySQL: VERSION()
    unsupported: list[str] = field(default_factory=list)  # objects read but not modelled, by kind and name

    def add_table(self, table: Table) -> None:
        self.tables[table.name.key] = table

    def add_index(self, index: Index) -> None:
        self.indexes[index.key] = index

    def add_routine(self, routine: Routine) -> None:
        self.routines[routine.key] = routine

    def add_sequence(self, sequence: Sequence) -> None:
        self.sequences[sequence.name.key] = sequence

    def table(self, name: QName | None) -> Table | None:
        return self.tables.get(name.key) if name is not None else None

    def routine(self, kind: str, name: QName) -> Routine | None:
        return self.routines.get((kind, name.key))

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
        dialect = data["dialect"]
        schema = cls(dialect, set(data.get("schemas", [])), server_version=data.get("server_version"))
        name = lambda v: qname_from_json(v, dialect)  # noqa: E731
        for t in data.get("tables", []):
            schema.add_table(_table_from_json(t, name))
        for i in data.get("indexes", []):
            parts = tuple(_index_part_from_json(p) for p in i.get("columns", []))
            schema.add_index(_build(Index, {**i, "table": name(i["table"]), "columns": parts}))
        for r in data.get("routines", []):
            schema.add_routine(_build(Routine, {**r, "name": name(r["name"]), "table": name(r.get("table"))}))
        for s in data.get("sequences", []):
            schema.add_sequence(_build(Sequence, {**s, "name": name(s["name"])}))
        return schema


def qname_from_json(value: Any, dialect: str) -> QName | None:
    """[schema, name] as written by to_json. Snapshots recorded before names were kept as
    pairs hold "schema.name" text: the schema is what precedes the first dot (SQLite: none)."""
    if value is None:
        return None
    if isinstance(value, str):
        if DEFAULT_SCHEMA.get(dialect) is None:
            return QName(None, value)
        schema, _, short = value.partition(".")
        return QName(schema, short) if short else QName(DEFAULT_SCHEMA[dialect], schema)
    return QName(value[0], value[1])


def _index_part_from_json(value: Any) -> IndexPart:
    if isinstance(value, str):  # snapshots from before index keys were structured
        return IndexPart(expression=value) if "(" in value else IndexPart(column=value)
    return _build(IndexPart, value)


def _build(kind: type, data: dict[str, Any]) -> Any:
    """A dataclass from JSON, lists back to tuples (the model is hashable and frozen)."""
    names = {f.name for f in fields(kind)}
    return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names})


def _table_from_json(t: dict[str, Any], name: Any) -> Table:
    return Table(
        name=name(t["name"]),
        columns=tuple(_build(Column, c) for c in t["columns"]),
        primary_key=_build(Key, t["primary_key"]) if t.get("primary_key") else None,
        uniques=tuple(_build(Key, k) for k in t.get("uniques", [])),
        checks=tuple(_build(Check, c) for c in t.get("checks", [])),
        foreign_keys=tuple(_build(ForeignKey, {**f, "ref_table": name(f["ref_table"])}) for f in t.get("foreign_keys", [])),
        options=tuple(t.get("options", [])),
        source=t.get("source"),
        partition=t.get("partition"),
    )


def qualify(name: str, schema: str | None, dialect: str) -> QName:
    """The QName of `name` as written: unqualified names land in the dialect's default schema."""
    default = DEFAULT_SCHEMA[dialect]
    return QName(None, name) if default is None else QName(schema or default, name)


__all__ = [
    "Column", "Key", "Check", "ForeignKey", "IndexPart", "Index", "Table", "Routine", "Sequence", "Schema", "QName",
    "qualify", "replace", "DIALECTS", "DEFAULT_SCHEMA", "ROUTINE_KINDS",
]
