"""ALTER COLUMN the way SQL Server accepts it. A column that an index, key, foreign key
(either side), default, check, computed column or SCHEMABINDING module depends on cannot be
altered (error 5074): those dependents are dropped first and re-created after, in order
(keys before indexes before foreign keys). The collation is kept (ALTER COLUMN without
COLLATE resets it to the database default), and NULL -> NOT NULL with a default backfills
the existing NULLs first."""

from __future__ import annotations

from dataclasses import replace

from deploy.db import deps
from deploy.db.errors import RenderError
from deploy.db.model import Column, ForeignKey, Index, Key, Routine, Table
from deploy.db.normal import expr_key
from deploy.db.plan import Change, Plan
from deploy.db.sqltext import significant, tokenize, unquote

_COLUMN_KINDS = ("add_column", "alter_column", "drop_column")


def rewrites_column(old: Column, new: Column) -> bool:
    """Whether ALTER COLUMN itself must run (type, nullability or collation)."""
    collation_changed = (new.collation or "").lower() != (old.collation or "").lower() and new.collation is not None
    return old.type != new.type or old.nullable != new.nullable or collation_changed


def _character(sql_type: str) -> bool:
    return any(w in sql_type.lower() for w in ("char", "text"))


def _words(text: str | None) -> set[str]:
    return {unquote(t.text).lower() for t in significant(tokenize(text or "")) if t.kind in ("word", "qident")}


def _index_uses(ix: Index, column: str) -> bool:
    return any((p.column or "").lower() == column or column in _words(p.expression) for p in ix.columns) \
        or column in _words(ix.where)


class _Dependents:
    """Objects unchanged by the plan that depend on the columns the plan rewrites."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.drops: list[Change] = []
        self.creates: dict[str, list[Change]] = {"column": [], "constraint": [], "index": [], "fk": []}
        self.seen: set[str] = set()
        planned = {c.target.lower() for c in plan.changes}
        self.planned = planned

    def add(self, group: str, drop: Change, create: Change | None) -> None:
        key = drop.target.lower()
        if key in self.seen or key in self.planned:
            return
        self.seen.add(key)
        self.drops.append(drop)
        if create is not None:
            self.creates[group].append(create)

    def of_column(self, table: Table, column: str) -> None:
        desired = self.plan.desired.table(table.name)
        if desired is None:
            return
        self._keys(table, desired, column)
        for ck in table.checks:
            if column in _words(ck.expression):
                same = next((d for d in desired.checks if d.name == ck.name and expr_key(d.expression, "tsql") == expr_key(ck.expression, "tsql")), None)
                self.add("constraint", Change("drop_constraint", f"{table.name}.check {ck.name or ''}".strip(), old=ck, table=table.name),
                         Change("add_constraint", f"{table.name}.check {ck.name or ''}".strip(), new=same, table=table.name) if same else None)
        self._foreign_keys(table, column)
        for key, ix in self.plan.current.indexes.items():
            if ix.table.key == table.name.key and _index_uses(ix, column):
                want = self.plan.desired.indexes.get(key)
                self.add("index", Change("drop_index", f"{ix.table}.{ix.name}", old=ix, table=ix.table),
                         Change("create_index", f"{ix.table}.{ix.name}", new=want, table=ix.table) if want else None)
        for col in table.columns:
            if col.computed and column in _words(col.computed) and col.name.lower() != column:
                want = desired.column(col.name)
                self.add("column", Change("drop_column", f"{table.name}.{col.name}", old=col, table=table.name),
                         Change("add_column", f"{table.name}.{col.name}", new=want, table=table.name) if want else None)
                self.of_column(table, col.name.lower())  # indexes on the computed column go with it

    def _keys(self, table: Table, desired: Table, column: str) -> None:
        def matching(key: Key, among: tuple[Key, ...]) -> Key | None:
            return next((d for d in among if [c.lower() for c in d.columns] == [c.lower() for c in key.columns]), None)

        pk = table.primary_key
        if pk and column in (c.lower() for c in pk.columns):
            want = desired.primary_key if desired.primary_key and matching(pk, (desired.primary_key,)) else None
            self.add("constraint", Change("drop_constraint", f"{table.name}.primary key", old=pk, table=table.name),
                     Change("add_constraint", f"{table.name}.primary key", new=want, table=table.name) if want else None)
            self._referencing(table, pk.columns)
        for uq in table.uniques:
            if column in (c.lower() for c in uq.columns):
                want = matching(uq, desired.uniques)
                target = f"{table.name}.unique {uq.name or ''}".strip()
                self.add("constraint", Change("drop_constraint", target, old=uq, table=table.name),
                         Change("add_constraint", target, new=want, table=table.name) if want else None)
                self._referencing(table, uq.columns)

    def _referencing(self, table: Table, key_columns: tuple[str, ...]) -> None:
        """Foreign keys from any table that point at this key."""
        cols = [c.lower() for c in key_columns]
        for other in self.plan.current.tables.values():
            for fk in other.foreign_keys:
                if fk.ref_table.key == table.name.key and [c.lower() for c in fk.ref_columns] == cols:
                    self._fk(other, fk)

    def _foreign_keys(self, table: Table, column: str) -> None:
        for fk in table.foreign_keys:
            if column in (c.lower() for c in fk.columns):
                self._fk(table, fk)

    def _fk(self, table: Table, fk: ForeignKey) -> None:
        desired = self.plan.desired.table(table.name)
        want = next((d for d in desired.foreign_keys if _same_fk(fk, d)), None) if desired else None
        target = f"{table.name}.{fk.name or '+'.join(fk.columns)}"
        self.add("fk", Change("drop_foreign_key", target, old=fk, table=table.name),
                 Change("add_foreign_key", target, new=want, table=table.name) if want else None)


def _same_fk(a: ForeignKey, b: ForeignKey) -> bool:
    low = lambda xs: [x.lower() for x in xs]  # noqa: E731
    return low(a.columns) == low(b.columns) and a.ref_table.key == b.ref_table.key and low(a.ref_columns) == low(b.ref_columns)


def expand_plan(plan: Plan) -> Plan:
    """The plan with the dependents of every rewritten column dropped before the column
    changes and re-created after them; the plan's own order is kept."""
    found = _Dependents(plan)
    for c in plan.changes:
        if c.kind == "alter_column" and rewrites_column(c.old, c.new) and not (c.old.computed or c.new.computed):
            table = plan.current.table(c.table)
            if table is not None:
                found.of_column(table, c.old.name.lower())
    if not found.drops:
        return plan
    changes = list(plan.changes)
    first = next((i for i, c in enumerate(changes) if c.kind in _COLUMN_KINDS), len(changes))
    changes[first:first] = found.drops
    last = max(i for i, c in enumerate(changes) if c.kind in _COLUMN_KINDS)
    for group, before in (("column", ("add_constraint", "create_index", "add_foreign_key", "create_routine")),
                          ("constraint", ("create_index", "add_foreign_key", "create_routine")),
                          ("index", ("add_foreign_key", "create_routine")), ("fk", ("create_routine",))):
        at = next((i for i in range(last + 1, len(changes)) if changes[i].kind in before), len(changes))
        changes[at:at] = found.creates[group]
    return replace(plan, changes=changes)


class AlterColumns:
    """The column statements of the T-SQL renderer (mixed into TsqlRenderer)."""

    def r_add_column(self, c: Change, plan: Plan) -> list[str]:
        """A NOT NULL column with a default is filled with it in the same statement."""
        return [f"ALTER TABLE {self.qn(c.table)} ADD {self.column_def(c.new, plan.desired.table(c.table))}"]

    def r_drop_column(self, c: Change, plan: Plan) -> list[str]:
        out = [self.drop_default(c, c.old)] if c.old.default is not None else []
        return [*out, f"ALTER TABLE {self.qn(c.table)} DROP COLUMN {self.q(c.old.name)}"]

    def drop_default(self, c: Change, col: Column) -> str:
        """By its live name (sys.default_constraints); a model from files had it named by us."""
        return f"ALTER TABLE {self.qn(c.table)} DROP CONSTRAINT {self.q(self.default_name(col, c.table))}"

    def r_alter_column(self, c: Change, plan: Plan) -> list[str]:
        old, new = c.old, c.new
        if old.identity != new.identity:
            raise RenderError(f"tsql: {c.describe()}: IDENTITY cannot be added or removed by ALTER; rebuild the table")
        if old.computed or new.computed:
            return [*self.r_drop_column(Change("drop_column", c.target, old=old, table=c.table), plan),
                    *self.r_add_column(Change("add_column", c.target, new=new, table=c.table), plan)]
        table, column = self.qn(c.table), self.q(new.name)
        rewrite = rewrites_column(old, new)
        default_changed = expr_key(old.default, "tsql") != expr_key(new.default, "tsql")
        out = []
        if old.default is not None and (default_changed or rewrite):
            out.append(self.drop_default(c, old))
        if rewrite:
            if old.nullable and not new.nullable and new.default is not None:
                out.append(f"UPDATE {table} SET {column} = ({new.default}) WHERE {column} IS NULL")
            collation = new.collation or (old.collation if _character(new.type) else None)
            collate = f" COLLATE {collation}" if collation else ""
            out.append(f"ALTER TABLE {table} ALTER COLUMN {column} {new.type}{collate} {'NULL' if new.nullable else 'NOT NULL'}")
        if new.default is not None and (default_changed or rewrite):
            name = self.q(self.default_name(new, c.table))
            out.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} DEFAULT ({new.default}) FOR {column}")
        return out

    def schema_bound_over_change(self, r: Routine, plan: Plan) -> bool:
        if "schemabinding" not in _words(r.definition):
            return False
        changed = {c.table for c in plan.changes if c.kind in ("alter_column", "drop_column") and c.table}
        return bool(changed) and deps.uses_any(r, changed)
