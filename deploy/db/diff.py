"""diff(current, desired) -> Plan: ordered changes. Drops of dependents come first,
then table work, then re-creation of views and routines in dependency order.

Renames are never guessed: without a hint a renamed column is a drop plus an add, and
the drop is destructive so it is refused unless allowed. With a hint it is a rename."""

from __future__ import annotations

from deploy.db import deps
from deploy.db.changes import index_equal, table_changes
from deploy.db.model import QName, Routine, Schema, Table
from deploy.db.plan import Change, Plan
from deploy.db.renames import Rename, apply_renames
from deploy.db.sqltext import fingerprint


def routine_key(r: Routine) -> str:
    return r.fingerprint or fingerprint(r.definition)


TABLE_WORK = ("alter_table", "add_column", "alter_column", "drop_column", "reorder_columns", "alter_partition")


def diff(current: Schema, desired: Schema, renames: list[Rename] | None = None) -> Plan:
    before = current
    current, rename_changes = apply_renames(current, desired, renames or [])
    plan = Plan(current, desired, list(rename_changes), before, sorted(set(before.unsupported) | set(desired.unsupported)))
    cur_tables, des_tables = current.tables, desired.tables
    per_table = {k: table_changes(cur_tables[k], des_tables[k], desired.dialect) for k in cur_tables if k in des_tables}
    touched = {cur_tables[k].name for k, ch in per_table.items() if _invasive(ch, desired.dialect)}
    dropped_tables = [t for k, t in cur_tables.items() if k not in des_tables]
    touched |= {t.name for t in dropped_tables}

    drop_routines, create_routines = _routine_changes(current, desired, touched)
    plan.changes += [Change("drop_routine", str(r.name), old=r, contract=r.name.key not in _names(desired), table=r.table)
                     for r in reversed(deps.creation_order(drop_routines))]
    plan.changes += _drop_foreign_keys(per_table, dropped_tables)
    plan.changes += _index_changes(current, desired, dropped=True)
    plan.changes += [c for ch in per_table.values() for c in ch if c.kind == "drop_constraint"]
    plan.changes += [Change("drop_table", str(t.name), old=t, destructive=True, contract=True)
                     for t in reversed(_fk_order(dropped_tables))]
    plan.changes += [Change("drop_sequence", str(s.name), old=s, destructive=True, contract=True)
                     for k, s in current.sequences.items() if k not in desired.sequences]
    plan.changes += [Change("create_schema", s) for s in sorted(desired.schemas - current.schemas)]
    plan.changes += [Change("create_sequence", str(s.name), new=s) for k, s in desired.sequences.items() if k not in current.sequences]
    created = [t for k, t in des_tables.items() if k not in cur_tables]
    plan.changes += [Change("create_table", str(t.name), new=t) for t in _fk_order(created)]
    plan.changes += [c for ch in per_table.values() for c in ch if c.kind in TABLE_WORK]
    plan.changes += [c for ch in per_table.values() for c in ch if c.kind == "add_constraint"]
    plan.changes += _index_changes(current, desired, dropped=False)
    plan.changes += [c for ch in per_table.values() for c in ch if c.kind == "add_foreign_key"]
    plan.changes += [Change("add_foreign_key", f"{t.name}.{fk.name or '+'.join(fk.columns)}", new=fk, table=t.name)
                     for t in created for fk in t.foreign_keys]
    plan.changes += [Change("create_routine", str(r.name), new=r, table=r.table) for r in deps.creation_order(create_routines)]
    return plan


def _invasive(changes: list[Change], dialect: str) -> bool:
    """Whether views and routines on the table must be re-created: SQLite rebuilds the table
    for almost anything; elsewhere only changed or dropped columns break a dependent."""
    if dialect == "sqlite":
        return bool(changes)
    return any(c.kind in ("alter_column", "drop_column") for c in changes)


def _names(schema: Schema) -> set[tuple[str, str]]:
    return {r.name.key for r in schema.routines.values()}


def _routine_changes(current: Schema, desired: Schema, touched: set[QName]) -> tuple[list[Routine], list[Routine]]:
    """(routines to drop, routines to create): changed ones, removed ones, and every
    routine that uses a touched table or a routine that is being dropped."""
    drop = {k: r for k, r in current.routines.items()
            if k not in desired.routines or routine_key(r) != routine_key(desired.routines[k])}
    grew = True
    while grew:
        names = touched | {d.name for d in drop.values()}
        found = {k: r for k, r in current.routines.items() if k not in drop and deps.uses_any(r, names)}
        drop.update(found)
        grew = bool(found)
    create = [r for k, r in desired.routines.items() if k not in current.routines or k in drop]
    return list(drop.values()), create


def _drop_foreign_keys(per_table: dict[str, list[Change]], dropped: list[Table]) -> list[Change]:
    out = [c for ch in per_table.values() for c in ch if c.kind == "drop_foreign_key"]
    for t in dropped:
        for fk in t.foreign_keys:
            out.append(Change("drop_foreign_key", f"{t.name}.{fk.name or '+'.join(fk.columns)}", old=fk, table=t.name, contract=True))
    return out


def _index_changes(current: Schema, desired: Schema, dropped: bool) -> list[Change]:
    out = []
    if dropped:
        for k, ix in current.indexes.items():
            gone_with_table = ix.table.key not in desired.tables
            if (k not in desired.indexes or not index_equal(desired.indexes[k], ix, desired.dialect)) and not gone_with_table:
                out.append(Change("drop_index", f"{ix.table}.{ix.name}", old=ix, table=ix.table))
        return out
    for k, ix in desired.indexes.items():
        if k not in current.indexes or not index_equal(current.indexes[k], ix, desired.dialect):
            out.append(Change("create_index", f"{ix.table}.{ix.name}", new=ix, table=ix.table))
    return out


def _fk_order(tables: list[Table]) -> list[Table]:
    """Referenced tables first, so SQLite's inline foreign keys read naturally."""
    names = {t.name.key for t in tables}
    pending = sorted(tables, key=lambda t: t.name.key)
    out: list[Table] = []
    while pending:
        placed = {t.name.key for t in out}
        ready = [t for t in pending if all(fk.ref_table.key not in names - placed or fk.ref_table.key == t.name.key
                                           for fk in t.foreign_keys)] or pending[:1]
        out.append(ready[0])
        pending.remove(ready[0])
    return out
