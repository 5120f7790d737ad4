"""MySQL/MariaDB scripts. MySQL commits every DDL statement on its own, so nothing here is
transactional: the script is ordered so each statement leaves a consistent schema (one ALTER
TABLE per table, foreign keys dropped before what they point at changes and added after it
exists), and `execute` checkpoints after every statement so a failure half-way can be resumed
(re-diff) or reversed (diff back to the snapshot taken before). The text needs no DELIMITER:
on MariaDB a body holding `;` runs as EXECUTE IMMEDIATE '...', which pyodbc and the `mysql`
client both run."""

from __future__ import annotations

import re

from deploy.db.errors import RenderError
from deploy.db.model import Column, Index, QName, Routine, Table
from deploy.db.mysql.alter import TableAlter, column_clauses, constraint_clauses, fk_text, index_order, option_clauses
from deploy.db.mysql.order import order_nodes
from deploy.db.plan import Change, Plan
from deploy.db.render.base import Renderer, Script, Step
from deploy.db.sqltext import significant, tokenize

COLUMN_KINDS = {"add_column", "alter_column", "drop_column", "reorder_columns", "rename_column"}
CONSTRAINT_KINDS = {"add_constraint", "drop_constraint", "add_foreign_key", "drop_foreign_key", "create_index", "drop_index"}


_FIRING = re.compile(r"\bTRIGGER\s+(?:`(?:[^`]|``)*`\.)?(?:`(?:[^`]|``)*`|\S+)\s+(BEFORE|AFTER)\s+(INSERT|UPDATE|DELETE)\b", re.I)


# FOLLOWS / PRECEDES name a trigger that may not exist yet: triggers are created in firing order instead
_FOLLOWS = re.compile(r"\s+(?:FOLLOWS|PRECEDES)\s+(?:`(?:[^`]|``)*`|\w+)\s+", re.I)


def _firing(trigger: Routine) -> tuple:
    """(table, timing, event): the triggers that fire one after another."""
    m = _FIRING.search(trigger.definition)
    return (trigger.table.key if trigger.table else None, *(g.upper() for g in (m.group(1, 2) if m else ())))


def server_version(server: str | None) -> tuple[bool, tuple[int, ...]]:
    """(is MariaDB, version) from VERSION(); an unknown server reads as a current MariaDB."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", server or "")
    version = tuple(int(x) for x in m.groups() if x) if m else (11, 0)
    return ("mariadb" in (server or "mariadb").lower()), version


class MysqlRenderer(Renderer):
    dialect = "mysql"

    def q(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def column_def(self, col: Column, table: Table | None = None) -> str:
        charset = f" CHARACTER SET {col.charset}" if col.charset else ""
        charset += f" COLLATE {col.collation}" if col.collation else ""
        return f"{self.q(col.name)} {col.type}{charset} {col.source or ''}".rstrip()

    def index_text(self, ix: Index) -> str:
        if ix.source:
            return ix.source
        kind = "UNIQUE KEY" if ix.unique else f"{ix.method.upper()} KEY" if ix.method else "KEY"
        parts = ", ".join(self.q(p.column) + (f"({p.length})" if p.length else "") if p.column else f"({p.expression})"
                          for p in ix.columns)
        return f"{kind} {self.q(ix.name)} ({parts})"

    def create_table_sql(self, table: Table, inline_fks: bool = True, name: QName | None = None,
                         indexes: list[Index] | None = None) -> str:
        items = [self.column_def(c) for c in table.columns]
        if table.primary_key:
            items.append(f"PRIMARY KEY ({self.cols(table.primary_key.columns)})")
        items += [self.index_text(ix) for ix in indexes or []]
        items += [f"CONSTRAINT {self.q(c.name)} CHECK ({c.expression})" if c.name else f"CHECK ({c.expression})"
                  for c in table.checks]
        if inline_fks:
            items += [fk_text(fk, self.q, self.qn) for fk in table.foreign_keys]
        tail = " ".join(table.options)
        tail += f" {table.partition}" if table.partition else ""
        return f"CREATE TABLE {self.qn(name or table.name)} (\n  " + ",\n  ".join(items) + f"\n){' ' + tail if tail else ''}"

    def render(self, plan: Plan) -> Script:
        script = Script("mysql", transactional=False)
        renames = [c for c in plan.changes if c.kind == "rename_table"]
        if renames:
            pairs = ", ".join(f"{self.qn(c.old)} TO {self.qn(c.new)}" for c in renames)
            script.steps.append(Step(f"RENAME TABLE {pairs}", transactional=False, note="rename_table"))
        drops, creates = self.routine_changes(plan)
        script.steps += [self.step(f"DROP {r.kind.upper()} {self.qn(r.name)}", "drop_routine") for r in drops]
        script.steps += self.table_steps(plan)
        script.steps += [self.step(self.create_routine(r, plan), "create_routine") for r in creates]
        unknown = [c for c in plan.changes if c.kind in ("create_schema", "create_sequence", "drop_sequence")]
        if unknown:
            raise RenderError(f"mysql: cannot render {unknown[0].describe()}")
        return script

    def step(self, sql: str, note: str) -> Step:
        return Step(sql, transactional=False, note=note)

    def table_steps(self, plan: Plan) -> list[Step]:
        created = {c.new.name.key: c.new for c in plan.changes if c.kind == "create_table"}
        dropped = {c.old.name.key: c.old for c in plan.changes if c.kind == "drop_table"}
        alters = self.alters(plan, set(created) | set(dropped))
        nodes = [("create", k) for k in created] + [("alter", k) for k in alters] + [("drop", k) for k in dropped]
        ordered, split_fks = order_nodes(nodes, created, dropped, alters)
        out: list[Step] = []
        if split_fks:
            out += [self.step(f"ALTER TABLE {self.qn(plan.current.tables[k].name)} {', '.join(a.drop_fks)}", "drop_foreign_key")
                    for k, a in alters.items() if a.drop_fks]
            out += [self.step(f"ALTER TABLE {self.qn(t.name)} " + ", ".join(f"DROP FOREIGN KEY {self.q(f.name)}" for f in t.foreign_keys),
                              "drop_foreign_key") for t in dropped.values() if any(f.name for f in t.foreign_keys)]
        for kind, key in ordered:
            out += self.node_steps(kind, key, plan, created, dropped, alters, split_fks)
        if split_fks:
            out += [self.step(f"ALTER TABLE {self.qn(plan.desired.tables[k].name)} {', '.join(a.add_fks)}", "add_foreign_key")
                    for k, a in alters.items() if a.add_fks]
            out += [self.step(f"ALTER TABLE {self.qn(t.name)} " + ", ".join(f"ADD {fk_text(f, self.q, self.qn)}" for f in t.foreign_keys),
                              "add_foreign_key") for t in created.values() if t.foreign_keys]
        return out

    def node_steps(self, kind: str, key: tuple, plan: Plan, created: dict, dropped: dict, alters: dict,
                   split_fks: bool) -> list[Step]:
        if kind == "create":
            table = created[key]
            indexes = [ix for ix in plan.desired.indexes.values() if ix.table.key == key]
            return [self.step(self.create_table_sql(table, inline_fks=not split_fks, indexes=indexes), "create_table")]
        if kind == "drop":
            return [self.step(f"DROP TABLE {self.qn(dropped[key].name)}", "drop_table")]
        alter, name = alters[key], plan.desired.tables[key].name
        out = []
        clauses = alter.clauses(with_fks=not split_fks)
        if alter.leading() and not split_fks:
            out.append(self.step(f"ALTER TABLE {self.qn(name)} {', '.join(alter.leading())}", "drop_foreign_key"))
        if clauses:
            out.append(self.step(f"ALTER TABLE {self.qn(name)} " + ",\n  ".join(clauses), "alter_table"))
        if alter.partition is not None:
            out.append(self.step(f"ALTER TABLE {self.qn(name)} {alter.partition}", "alter_partition"))
        return out

    def alters(self, plan: Plan, whole: set) -> dict[tuple, TableAlter]:
        """Every change to a table that stays (not created, not dropped), gathered per table."""
        out: dict[tuple, TableAlter] = {}
        column_work: dict[tuple, set[str]] = {}
        for c in plan.changes:
            if c.table is None or c.table.key in whole:
                continue
            alter = out.setdefault(c.table.key, TableAlter())
            if c.kind in COLUMN_KINDS:
                changed = column_work.setdefault(c.table.key, set())
                self.column_change(c, alter, changed, plan)
            elif c.kind in CONSTRAINT_KINDS:
                constraint_clauses(c, alter, self.q, self.qn, self.index_text)
            elif c.kind == "alter_table":
                alter.options += option_clauses(c.old, c.new)
            elif c.kind == "alter_partition":
                alter.partition = self.partition_clause(c.old, c.new)
        for key, changed in column_work.items():
            old, new = plan.current.tables[key], plan.desired.tables[key]
            out[key].columns += column_clauses(old, new, changed, self.column_def)
        for key, alter in out.items():
            self.place_indexes(plan, key, alter)
        return {k: a for k, a in out.items() if a.clauses() or a.partition is not None}

    def place_indexes(self, plan: Plan, key: tuple, alter: TableAlter) -> None:
        """ADD INDEX clauses in the order that leaves the keys listed as desired, making kept
        ones again where needed. An index InnoDB made for a foreign key is also made again
        when a key is added on its columns (InnoDB would replace it by one of its own)."""
        touched = {c.new.key if c.new is not None else c.old.key for c in plan.changes if c.kind in ("create_index", "drop_index")}
        desired = [ix for ix in plan.desired.indexes.values() if ix.table.key == key]
        kept = [ix for ix in plan.current.indexes.values() if ix.table.key == key and ix.key not in touched]
        fk_held = {ix.key for ix in kept if any(tuple((p.column or "").lower() for p in ix.columns)[: len(cols)] == cols
                                                for cols in alter.fk_columns_added)}
        again, adds = index_order(desired, [ix for ix in kept if ix.key not in fk_held])
        again += [ix for ix in kept if ix.key in fk_held]
        alter.drops += [f"DROP INDEX {self.q(ix.name)}" for ix in again]
        alter.adds += [f"ADD {self.index_text(ix)}" for ix in adds]

    def column_change(self, c: Change, alter: TableAlter, changed: set[str], plan: Plan) -> None:
        if c.kind == "drop_column":
            alter.drops.append(f"DROP COLUMN {self.q(c.old.name)}")
        elif c.kind == "alter_column":
            changed.add(c.new.name.lower())
        elif c.kind == "rename_column":
            alter.renames.append(self.rename_column(c, plan))

    def rename_column(self, c: Change, plan: Plan) -> str:
        """RENAME COLUMN where the server has it (MariaDB 10.5, MySQL 8.0), else CHANGE COLUMN
        with the column's current definition."""
        mariadb, version = server_version(plan.current.server_version)
        if version >= ((10, 5) if mariadb else (8, 0)):
            return f"RENAME COLUMN {self.q(c.old)} TO {self.q(c.new)}"
        column = plan.current.table(c.table).column(c.new)
        return f"CHANGE COLUMN {self.q(c.old)} {self.column_def(column)}"

    def partition_clause(self, old: str | None, new: str | None) -> str:
        return new if new else "REMOVE PARTITIONING"

    def routine_changes(self, plan: Plan) -> tuple[list[Routine], list[Routine]]:
        """(to drop, to create). Triggers are created in the order they fire; a trigger made
        again fires after the others of its table, timing and event, so those that fire after
        it are made again too."""
        drops = [c.old for c in plan.changes if c.kind == "drop_routine"]
        creates = [c.new for c in plan.changes if c.kind == "create_routine"]
        made = {r.key for r in creates}
        groups: dict[tuple, list[Routine]] = {}
        for r in plan.desired.routines.values():
            if r.kind == "trigger":
                groups.setdefault(_firing(r), []).append(r)
        for members in groups.values():
            first = next((i for i, r in enumerate(members) if r.key in made), len(members))
            for r in members[first:]:
                if r.key not in made and (live := plan.current.routine("trigger", r.name)) is not None:
                    drops.append(live)
                    made.add(r.key)
        triggers = [r for members in groups.values() for r in members if r.key in made]
        return drops, [r for r in creates if r.kind != "trigger"] + triggers

    def create_routine(self, r: Routine, plan: Plan) -> str:
        """A body with `;` in it cannot be one statement for the `mysql` client without
        DELIMITER; on MariaDB it runs as EXECUTE IMMEDIATE (as it does through pyodbc)."""
        text = _FOLLOWS.sub(" ", r.definition) if r.kind == "trigger" else r.definition
        compound = any(t.text == ";" for t in significant(tokenize(text, 1, "mysql")))
        if compound and server_version(plan.current.server_version)[0]:
            return "EXECUTE IMMEDIATE '" + text.replace("\\", "\\\\").replace("'", "''") + "'"
        return text

    def script_text(self, script: Script) -> str:
        if not script.steps:
            return ""
        n = len(script.steps)
        head = (f"-- MySQL commits each DDL statement on its own: none of these {n} statement(s) is transactional.\n"
                "-- Shipyard checkpoints after each one; after a failure, run db.sync again to resume from the\n"
                "-- live schema, or sync to the checkpoint's snapshot to go back.\n")
        body = "\n\n".join(f"-- [{i}/{n}] not transactional\n{s.sql};" for i, s in enumerate(script.steps, 1))
        return head + "\n" + body + "\n"
