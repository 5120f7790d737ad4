"""Rename hints on the catalog: the current side is renamed before it is compared (the
table's constraints, triggers, policies and rules move with it), and the script starts
with the ALTER ... RENAME that keeps the data. Never guessed (see deploy/db/renames.py)."""

from __future__ import annotations

import copy
from typing import Any

from deploy.db.plan import Change
from deploy.db.postgres.model import Catalog, Key, q, qn
from deploy.errors import UsageError

_ON_TABLE = ("constraint", "trigger", "policy", "rule")


def apply_renames(current: Catalog, desired: Catalog, renames: list) -> tuple[Catalog, list[str], list[Change]]:
    if not renames:
        return current, [], []
    cat = copy.deepcopy(current)
    statements: list[str] = []
    changes: list[Change] = []
    for r in renames:
        schema, table = r.table.schema or "public", r.table.name
        if r.kind == "table":
            new_schema, new = (r.new.schema or schema), r.new.name
            _require(cat, ("table", schema, table), desired, ("table", new_schema, new))
            if new_schema != schema:
                raise UsageError(f"rename hint: {r.table} -> {r.new}: a rename cannot move a table to another schema")
            _move_table(cat, ("table", schema, table), new)
            statements.append(f"ALTER TABLE {qn(schema, table)} RENAME TO {q(new)}")
            changes.append(Change("rename_table", f"{schema}.{table}", old=r.table, new=r.new, contract=True,
                                  table=f"{schema}.{new}"))
        else:
            key = ("table", schema, table)
            if key not in cat.objects:
                raise UsageError(f"rename hint: table {r.table} is not in the current schema")
            if r.column not in cat.objects[key].data["columns"]:
                raise UsageError(f"rename hint: column {r.target} is not in the current schema")
            _move_column(cat, key, r.column, r.new)
            statements.append(f"ALTER TABLE {qn(schema, table)} RENAME COLUMN {q(r.column)} TO {q(r.new)}")
            changes.append(Change("rename_column", f"{schema}.{table}.{r.column}", old=r.column, new=r.new,
                                  contract=True, table=f"{schema}.{table}"))
    return cat, statements, changes


def _require(cat: Catalog, old: Key, desired: Catalog, new: Key) -> None:
    if old not in cat.objects:
        raise UsageError(f"rename hint: table {'.'.join(old[1:])} is not in the current schema")
    if new not in desired.objects:
        raise UsageError(f"rename hint: table {'.'.join(new[1:])} is not in the desired schema")


def _rekey(cat: Catalog, mapping: dict[Key, Key]) -> None:
    def swap(k: Any) -> Any:
        if isinstance(k, tuple):
            k = mapping.get(k, k)
            return tuple(swap(p) for p in k)
        return k

    cat.objects = {swap(k): o for k, o in cat.objects.items()}
    for o in cat.objects.values():
        o.key, o.parent = swap(o.key), swap(o.parent) if o.parent else None
    cat.deps = {swap(k): {swap(d) for d in v} for k, v in cat.deps.items()}


def _move_table(cat: Catalog, key: Key, new: str) -> None:
    schema, old = key[1], key[2]
    mapping = {key: ("table", schema, new)}
    mapping.update({k: (k[0], schema, new, k[3]) for k in cat.objects if k[0] in _ON_TABLE and k[1:3] == (schema, old)})
    obj = cat.objects[key]
    obj.data["name"] = [schema, new]
    obj.compare["name"] = [schema, new]
    obj.name = f"{schema}.{new}"
    old_target, new_target = qn(schema, old), qn(schema, new)
    obj.comments = {t.replace(old_target, new_target, 1): text for t, text in obj.comments.items()}
    for k in mapping:
        moved = cat.objects[k]
        moved.drop = [s.replace(old_target, new_target) for s in moved.drop]
    _rekey(cat, mapping)


def _move_column(cat: Catalog, key: Key, old: str, new: str) -> None:
    obj = cat.objects[key]
    for part in (obj.data, obj.compare):
        part["columns"] = {new if n == old else n: c for n, c in part["columns"].items()}
    target = f"COLUMN {qn(*key[1:])}."
    obj.comments = {(f"{target}{q(new)}" if t == f"{target}{q(old)}" else t): text for t, text in obj.comments.items()}
    _rekey(cat, {("column", key, old): ("column", key, new), ("default", key, old): ("default", key, new)})
