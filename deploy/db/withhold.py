"""`--skip-destructive` (sqldef's default, `enable_drop: false`): apply what a change can do
without losing data and withhold the rest. Done on the desired side, not by cutting changes
out of a plan: the tables, columns and sequences a plan would drop, and the columns it would
narrow, are put back into the desired schema as they are live, and the diff runs again — so
no dialect ever renders a half-plan (a SQLite rebuild would otherwise drop a withheld column)."""

from __future__ import annotations

from dataclasses import replace

from deploy.db.model import Schema, Table
from deploy.db.plan import Change, Plan


def withheld_desired(plan: Plan) -> tuple[Schema, list[Change]]:
    """(the desired schema with every destructive change undone, the changes withheld)."""
    desired = Schema.from_json(plan.desired.to_json())
    desired.unsupported = list(plan.desired.unsupported)
    current = plan.current
    for c in plan.destructive:
        if c.kind == "drop_table":
            desired.add_table(c.old)
            for ix in current.indexes.values():
                if ix.table.key == c.old.name.key:
                    desired.add_index(ix)
        elif c.kind == "drop_sequence":
            desired.add_sequence(c.old)
        elif c.kind in ("drop_column", "alter_column") and desired.table(c.table) is not None:
            desired.add_table(_keep_column(desired.table(c.table), current.table(c.table), c.old))
    return desired, plan.destructive


def _keep_column(wanted: Table, live: Table, column) -> Table:  # noqa: ANN001 - a model Column
    """`wanted` with `column` as it is live, in its live place (after the same predecessor)."""
    columns = [c for c in wanted.columns if c.name.lower() != column.name.lower()]
    names = [c.name.lower() for c in live.columns]
    before = names[: names.index(column.name.lower())]
    at = max((i + 1 for i, c in enumerate(columns) if c.name.lower() in before), default=0)
    columns.insert(at, column)
    return replace(wanted, columns=tuple(columns), source=None)
