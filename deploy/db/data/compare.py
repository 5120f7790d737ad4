"""Compare the reference tables named in config with their data files: one keyed pass over
each live table (pages of `batch` rows) against the staged desired rows, the row changes
recorded in a temporary SQLite file, then handed out in foreign-key-safe order: inserts and
updates parents first, deletes children first. Memory holds one page, never a table."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from deploy.db.data import live
from deploy.db.data.source import Staged, _dump, _load, data_file, read_rows
from deploy.db.data.values import canonical, key_text, kind_of
from deploy.db.model import QName, Schema, Table
from deploy.errors import UsageError


@dataclass(frozen=True)
class TableSpec:
    """One reference table: its name, compare key and data file."""

    table: Table
    key: tuple[str, ...]
    file: Path
    kinds: dict[str, str]


@dataclass
class Counts:
    insert: int = 0
    update: int = 0
    delete: int = 0

    def __str__(self) -> str:
        return f"{self.insert} insert(s), {self.update} update(s), {self.delete} delete(s)"


@dataclass
class DataDiff:
    """The row changes of every configured table, kept on disk until rendered."""

    specs: list[TableSpec]
    counts: dict[str, Counts] = field(default_factory=dict)
    store: Any = None

    @property
    def total(self) -> int:
        return sum(c.insert + c.update + c.delete for c in self.counts.values())

    @property
    def deletes(self) -> int:
        return sum(c.delete for c in self.counts.values())

    def changes(self, spec: TableSpec, kind: str) -> Iterator[tuple[dict, dict]]:
        """(key, values) of one table and kind, in the order found."""
        last = 0
        while True:
            page = self.store.execute("SELECT seq, k, v FROM changes WHERE tbl = ? AND kind = ? AND seq > ? ORDER BY seq LIMIT 500",
                                      (str(spec.table.name), kind, last)).fetchall()
            if not page:
                return
            for seq, k, v in page:
                yield _load(k), _load(v)
            last = page[-1][0]

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def resolve_specs(schema: Schema, tables: list[Any], data_dir: Path) -> list[TableSpec]:
    """Config entries -> specs, referenced tables first. Unknown tables/keys are errors."""
    specs = []
    for entry in tables:
        table = schema.table(_qname(entry.table, schema.dialect))
        if table is None:
            raise UsageError(f"db.data: table {entry.table!r} is not in the database")
        key = tuple(entry.key) if entry.key else (table.primary_key.columns if table.primary_key else ())
        if not key:
            raise UsageError(f"db.data: table {table.name} has no primary key; declare its key (key = [...])")
        names = {c.name.lower(): c.name for c in table.columns}
        missing = [k for k in key if k.lower() not in names]
        if missing:
            raise UsageError(f"db.data: key column {missing[0]!r} is not in table {table.name}")
        path = data_file(data_dir, table.name, entry.file)
        if path is None or not path.is_file():
            raise UsageError(f"db.data: no data file for {entry.table} in {data_dir} (.csv, .json or .sql)")
        kinds = {c.name: kind_of(c.type) for c in table.columns}
        specs.append(TableSpec(table, tuple(names[k.lower()] for k in key), path, kinds))
    return _parents_first(specs)


def _qname(text: str, dialect: str) -> QName:
    """A configured table name: `name` (the default schema) or `schema.name`, quoting allowed."""
    from deploy.db.cursor import Cursor
    from deploy.db.sqltext import SqlSyntaxError

    try:
        return Cursor(text, 1, dialect).name()
    except SqlSyntaxError as e:
        raise UsageError(f"db.data: table {text!r}: {e}") from None


def _parents_first(specs: list[TableSpec]) -> list[TableSpec]:
    pending, out = list(specs), []
    names = {s.table.name.key for s in specs}
    while pending:
        placed = {s.table.name.key for s in out}
        ready = next((s for s in pending if all(fk.ref_table.key in placed or fk.ref_table.key not in names
                                                or fk.ref_table.key == s.table.name.key for fk in s.table.foreign_keys)), pending[0])
        out.append(ready)
        pending.remove(ready)
    return out


def compare(conn: Any, dialect: str, specs: list[TableSpec], batch: int = 1000) -> DataDiff:
    result = DataDiff(specs)
    result.store = _store()
    for spec in specs:
        result.counts[str(spec.table.name)] = _compare_table(conn, dialect, spec, result.store, batch)
    return result


def _store() -> sqlite3.Connection:
    """SQLite's private temporary database: spilled to disk past its small cache, gone on close."""
    db = sqlite3.connect("")
    db.execute("CREATE TABLE changes (seq INTEGER PRIMARY KEY, tbl TEXT, kind TEXT, k TEXT, v TEXT)")
    return db


def _compare_table(conn: Any, dialect: str, spec: TableSpec, store: sqlite3.Connection, batch: int) -> Counts:
    names = {c.name.lower(): c.name for c in spec.table.columns if not c.computed}
    staged = Staged({c.name.lower(): spec.kinds[c.name] for c in spec.table.columns}, spec.key)
    counts = Counts()
    try:
        staged.load(spec.file, read_rows(spec.file, dialect), names)
        columns = _file_columns(staged)
        for page in live.pages(conn, dialect, spec.table, spec.key, columns, batch):
            keys = [key_text(tuple(canonical(row[k], spec.kinds[k]) for k in spec.key)) for row in page]
            wanted = staged.lookup(keys)
            for row, k in zip(page, keys):
                key = {c: canonical(row[c], spec.kinds[c]) for c in spec.key}
                if (want := wanted.get(k)) is None:
                    _record(store, spec, "delete", key, {})
                    counts.delete += 1
                elif changed := {c: v for c, v in want.items() if c not in spec.key and canonical(row[c], spec.kinds[c]) != v}:
                    _record(store, spec, "update", {c: want[c] for c in spec.key}, changed)
                    counts.update += 1
        for want in staged.unseen(batch):
            _record(store, spec, "insert", {c: want[c] for c in spec.key}, want)
            counts.insert += 1
        store.commit()
    finally:
        staged.close()
    return counts


def _file_columns(staged: Staged) -> list[str]:
    """The columns the data file gives (compared); columns it leaves out are not touched."""
    row = staged.db.execute("SELECT row FROM desired LIMIT 1").fetchone()
    return list(_load(row[0])) if row else list(staged.key)


def _record(store: sqlite3.Connection, spec: TableSpec, kind: str, key: dict, values: dict) -> None:
    store.execute("INSERT INTO changes (tbl, kind, k, v) VALUES (?, ?, ?, ?)",
                  (str(spec.table.name), kind, _dump(key), _dump(values)))
