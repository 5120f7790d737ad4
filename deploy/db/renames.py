"""Rename hints. A rename is never guessed from a drop plus an add (that is how data is
lost); the user says `table:old=new` or `column:table.old=new`, and the current model is
renamed before it is compared, so the diff sees the object under its new name."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from deploy.db.model import Schema, Table, qualify, split_name
from deploy.db.plan import Change
from deploy.errors import UsageError

_HINT = re.compile(r"^(?P<kind>table|column):(?P<old>[^=\s]+)=(?P<new>[^=\s]+)$")


@dataclass(frozen=True)
class Rename:
    kind: str  # "table" | "column"
    old: str  # table name, or table.column
    new: str  # new table name, or new column name

    @classmethod
    def parse(cls, hint: str, dialect: str) -> "Rename":
        m = _HINT.match(hint.strip())
        if not m:
            raise UsageError(f"rename hint {hint!r}: expected table:OLD=NEW or column:TABLE.OLD=NEW")
        old, new = m.group("old"), m.group("new")
        if m.group("kind") == "table":
            return cls("table", _qualified(old, dialect), _qualified(new, dialect))
        table, _, column = old.rpartition(".")
        if not table:
            raise UsageError(f"rename hint {hint!r}: a column hint names its table, column:TABLE.OLD=NEW")
        return cls("column", f"{_qualified(table, dialect)}.{column}", new)


def _qualified(name: str, dialect: str) -> str:
    schema, short = split_name(name)
    return qualify(short, schema, dialect)


def apply_renames(current: Schema, desired: Schema, renames: list[Rename]) -> tuple[Schema, list[Change]]:
    if not renames:
        return current, []
    renamed = Schema.from_json(current.to_json())
    changes = []
    for r in renames:
        if r.kind == "table":
            table = _require(renamed.table(r.old), f"table {r.old} is not in the current schema")
            _require(desired.table(r.new), f"table {r.new} is not in the desired schema")
            _rename_table(renamed, table, desired.table(r.new).name)
            changes.append(Change("rename_table", r.old, old=r.old, new=r.new, contract=True, table=r.new))
        else:
            table_name, _, column = r.old.rpartition(".")
            table = _require(renamed.table(table_name), f"table {table_name} is not in the current schema")
            _require(table.column(column), f"column {r.old} is not in the current schema")
            renamed.add_table(_rename_column(table, column, r.new))
            changes.append(Change("rename_column", r.old, old=column, new=r.new, contract=True, table=table.name))
    return renamed, changes


def _require(value: Any, message: str) -> Any:
    if value is None:
        raise UsageError(f"rename hint: {message}")
    return value


def _rename_table(schema: Schema, table: Table, new: str) -> None:
    """The table, its indexes and every foreign key pointing at it move to the new name."""
    del schema.tables[table.name.lower()]
    schema.add_table(replace(table, name=new))
    for key, ix in list(schema.indexes.items()):
        if ix.table.lower() == table.name.lower():
            del schema.indexes[key]
            schema.add_index(replace(ix, table=new))
    for other in list(schema.tables.values()):
        moved = tuple(replace(fk, ref_table=new) if fk.ref_table.lower() == table.name.lower() else fk
                      for fk in other.foreign_keys)
        if moved != other.foreign_keys:
            schema.add_table(replace(other, foreign_keys=moved))


def _rename_column(table: Table, old: str, new: str) -> Table:
    swap = lambda cols: tuple(new if c.lower() == old.lower() else c for c in cols)  # noqa: E731
    return replace(
        table,
        columns=tuple(replace(c, name=new) if c.name.lower() == old.lower() else c for c in table.columns),
        primary_key=replace(table.primary_key, columns=swap(table.primary_key.columns)) if table.primary_key else None,
        uniques=tuple(replace(k, columns=swap(k.columns)) for k in table.uniques),
        foreign_keys=tuple(replace(f, columns=swap(f.columns)) for f in table.foreign_keys),
    )
