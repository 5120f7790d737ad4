"""Rename hints. A rename is never guessed from a drop plus an add (that is how data is
lost); the user says `table:old=new` or `column:table.old=new`, and the current model is
renamed before it is compared, so the diff sees the object under its new name.

Names in a hint are read like SQL names: `column:"a.t".x=y` is column x of the table
called `a.t`; a part is never split on a dot inside quotes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from deploy.db.cursor import Cursor
from deploy.db.model import QName, Schema, Table, qualify
from deploy.db.plan import Change
from deploy.db.sqltext import SqlSyntaxError
from deploy.errors import UsageError

_USAGE = "expected table:OLD=NEW or column:TABLE.OLD=NEW"


@dataclass(frozen=True)
class Rename:
    kind: str  # "table" | "column"
    table: QName  # the table as it is live (for a column hint: after table hints apply)
    new: QName | str  # the new table name, or the new column name
    column: str | None = None  # the column's old name (column hints)

    @classmethod
    def parse(cls, hint: str, dialect: str) -> "Rename":
        kind, _, spec = hint.strip().partition(":")
        if kind not in ("table", "column") or not spec:
            raise UsageError(f"rename hint {hint!r}: {_USAGE}")
        try:
            cur = Cursor(spec, 1, dialect)
            old = cur.dotted()
            cur.expect("=")
            new = cur.dotted()
            if cur.peek() is not None:
                cur.fail("unexpected text after the new name")
        except SqlSyntaxError as e:
            raise UsageError(f"rename hint {hint!r}: {e}; {_USAGE}") from None
        if kind == "table":
            table = _qname(old, dialect)
            target = _qname(new, dialect)
            return cls("table", table, target if len(new) > 1 else QName(table.schema, target.name))
        if len(old) < 2 or len(new) != 1:
            raise UsageError(f"rename hint {hint!r}: a column hint names its table, column:TABLE.OLD=NEW")
        return cls("column", _qname(old[:-1], dialect), new[0], old[-1])

    @property
    def target(self) -> str:
        return f"{self.table}.{self.column}" if self.kind == "column" else str(self.table)


def _qname(parts: list[str], dialect: str) -> QName:
    parts = parts[-2:]  # database.schema.name: the database is the connection's
    return qualify(parts[-1], parts[0] if len(parts) == 2 else None, dialect)


def apply_renames(current: Schema, desired: Schema, renames: list[Rename]) -> tuple[Schema, list[Change]]:
    if not renames:
        return current, []
    renamed = Schema.from_json(current.to_json())
    changes = []
    for r in renames:
        if r.kind == "table":
            table = _require(renamed.table(r.table), f"table {r.table} is not in the current schema")
            wanted = _require(desired.table(r.new), f"table {r.new} is not in the desired schema")
            _rename_table(renamed, table, wanted.name)
            changes.append(Change("rename_table", str(r.table), old=table.name, new=wanted.name, contract=True,
                                  table=wanted.name))
        else:
            table = _require(renamed.table(r.table), f"table {r.table} is not in the current schema")
            column = _require(table.column(r.column), f"column {r.target} is not in the current schema")
            _rename_column(renamed, table, column.name, r.new)
            changes.append(Change("rename_column", r.target, old=column.name, new=r.new, contract=True, table=table.name))
    return renamed, changes


def _require(value: Any, message: str) -> Any:
    if value is None:
        raise UsageError(f"rename hint: {message}")
    return value


def _rename_table(schema: Schema, table: Table, new: QName) -> None:
    """The table, its indexes and every foreign key pointing at it move to the new name."""
    del schema.tables[table.name.key]
    schema.add_table(replace(table, name=new))
    for key, ix in list(schema.indexes.items()):
        if ix.table.key == table.name.key:
            del schema.indexes[key]
            schema.add_index(replace(ix, table=new))
    for other in list(schema.tables.values()):
        moved = tuple(replace(fk, ref_table=new) if fk.ref_table.key == table.name.key else fk
                      for fk in other.foreign_keys)
        if moved != other.foreign_keys:
            schema.add_table(replace(other, foreign_keys=moved))


def _rename_column(schema: Schema, table: Table, old: str, new: str) -> None:
    """The column, and every key, index and foreign key (here or pointing here) naming it."""
    lower = old.lower()
    swap = lambda cols: tuple(new if c.lower() == lower else c for c in cols)  # noqa: E731
    schema.add_table(replace(
        table,
        columns=tuple(replace(c, name=new) if c.name.lower() == lower else c for c in table.columns),
        primary_key=replace(table.primary_key, columns=swap(table.primary_key.columns)) if table.primary_key else None,
        uniques=tuple(replace(k, columns=swap(k.columns)) for k in table.uniques),
        foreign_keys=tuple(replace(f, columns=swap(f.columns)) for f in table.foreign_keys),
    ))
    for ix in [ix for ix in schema.indexes.values() if ix.table.key == table.name.key]:
        parts = tuple(replace(p, column=new) if (p.column or "").lower() == lower else p for p in ix.columns)
        schema.add_index(replace(ix, columns=parts))
    for other in list(schema.tables.values()):
        moved = tuple(replace(fk, ref_columns=swap(fk.ref_columns)) if fk.ref_table.key == table.name.key else fk
                      for fk in other.foreign_keys)
        if moved != other.foreign_keys:
            schema.add_table(replace(other, foreign_keys=moved))
