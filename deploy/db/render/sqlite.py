"""SQLite: ALTER TABLE can only add and rename columns, so any other change to a table
is a rebuild (create the new shape, copy the rows, drop, rename), done with foreign key
enforcement off and checked with `PRAGMA foreign_key_check` before the commit."""

from __future__ import annotations

from deploy.db.errors import RenderError
from deploy.db.model import Column, QName, Table
from deploy.db.plan import Change, Plan
from deploy.db.render.base import Renderer, Script, Step

SIMPLE_KINDS = {"add_column", "rename_table", "rename_column"}
TABLE_KINDS = {"alter_table", "reorder_columns", "add_column", "alter_column", "drop_column", "add_constraint", "drop_constraint",
               "add_foreign_key", "drop_foreign_key"}
REBUILD_PREFIX = "_shipyard_new_"


def _literal_default(text: str) -> bool:
    t = text.strip()
    return t.upper() in ("NULL", "TRUE", "FALSE") or t[:1] == "'" or t.lstrip("+-").replace(".", "", 1).isdigit()


class SqliteRenderer(Renderer):
    dialect = "sqlite"

    def column_def(self, col: Column, table: Table | None) -> str:
        out = f"{self.q(col.name)} {col.type}".rstrip()
        if col.identity:
            out += " PRIMARY KEY AUTOINCREMENT"
        if col.collation:
            out += f" COLLATE {col.collation}"
        if not col.nullable:
            out += " NOT NULL"
        if col.default is not None:
            out += f" DEFAULT {col.default}" if _literal_default(col.default) else f" DEFAULT ({col.default})"
        if col.computed:
            out += f" GENERATED ALWAYS AS ({col.computed}){' STORED' if col.stored else ''}"
        return out

    def create_table_sql(self, table: Table, inline_fks: bool = False, name: QName | None = None) -> str:
        """From the text the table was declared with, when there is one: SQLite keeps that
        text as the table's definition, so the table reads back exactly as written."""
        if table.source:
            return f"CREATE TABLE {self.qn(name or table.name)} {table.source}"
        return super().create_table_sql(table, inline_fks, name)

    def table_options(self, table: Table) -> str:
        return f" {', '.join(table.options)}" if table.options else ""

    def table_body(self, table: Table, inline_fks: bool) -> list[str]:
        if table.primary_key and any(c.identity for c in table.columns):
            table = Table(table.name, table.columns, None, table.uniques, table.checks, table.foreign_keys)
        return super().table_body(table, inline_fks=True)

    def render(self, plan: Plan) -> Script:
        rebuild = self.tables_to_rebuild(plan)
        created = {c.new.name.key for c in plan.changes if c.kind == "create_table"}
        kept = []
        for c in plan.changes:
            table = c.table.key if c.table else None
            if c.kind in TABLE_KINDS and (table in rebuild or table in created):
                continue  # the rebuild (or the CREATE TABLE) carries it
            kept.append(c)
        subplan = Plan(plan.current, plan.desired, kept)
        script = super().render(subplan)
        self.insert_rebuilds(script, plan, rebuild)
        return script

    def tables_to_rebuild(self, plan: Plan) -> set[QName]:
        out = set()
        for c in plan.changes:
            if c.kind in TABLE_KINDS and c.kind not in SIMPLE_KINDS:
                out.add(c.table)
            elif c.kind == "add_column" and not self.can_add(c.new, plan.desired.table(c.table), plan.current.table(c.table)):
                out.add(c.table)
        return {t.key for t in out if plan.current.table(t) is not None and plan.desired.table(t) is not None}

    def can_add(self, col: Column, table: Table, current: Table) -> bool:
        """SQLite's ADD COLUMN appends, and refuses keys, NOT NULL without a default and
        non-constant defaults; a column declared before an existing one needs a rebuild."""
        in_key = any(col.name in k.columns for k in [*table.uniques, *([table.primary_key] if table.primary_key else [])])
        constant = col.default is None or _literal_default(col.default)
        later = table.columns[[c.name for c in table.columns].index(col.name) + 1:]
        appended = all(current.column(c.name) is None for c in later)
        return (appended and not in_key and not col.identity and constant and (col.nullable or col.default is not None)
                and not col.computed)

    def insert_rebuilds(self, script: Script, plan: Plan, rebuild: set[tuple[str, str]]) -> None:
        """Rebuilds go where the first table change would have gone: after dependent drops."""
        if not rebuild:
            return
        steps = [s for key in sorted(rebuild) for s in self.rebuild(plan, plan.desired.tables[key].name)]
        at = next((i for i, s in enumerate(script.steps) if s.note in ("create_index", "create_routine")), len(script.steps))
        script.steps[at:at] = steps
        script.steps.append(Step("PRAGMA foreign_key_check", note="check"))
        script.before.append(Step("PRAGMA foreign_keys = OFF", transactional=False))
        script.after.append(Step("PRAGMA foreign_keys = ON", transactional=False))

    def rebuild(self, plan: Plan, name: QName) -> list[Step]:
        old, new = plan.current.table(name), plan.desired.table(name)
        temp = QName(None, f"{REBUILD_PREFIX}{new.name.name}")
        # renames were applied before the rebuild, and plan.current already has the new names
        copied = tuple(c for c in new.columns if not c.computed and old.column(c.name) is not None)
        values = ", ".join(self.copied_value(old.column(c.name), c) for c in copied)
        steps = [
            Step(self.create_table_sql(new, name=temp), note="rebuild"),
            Step(f"INSERT INTO {self.qn(temp)} ({self.cols(tuple(c.name for c in copied))}) SELECT {values} "
                 f"FROM {self.qn(old.name)}", note="rebuild"),
            Step(f"DROP TABLE {self.qn(old.name)}", note="rebuild"),
            Step(f"ALTER TABLE {self.qn(temp)} RENAME TO {self.q(new.name.name)}", note="rebuild"),
        ]
        changed = {c.new.key for c in plan.changes if c.kind == "create_index"}
        for ix in plan.desired.indexes.values():
            if ix.table.key == name.key and ix.key not in changed:
                steps += [Step(s, note="rebuild") for s in self.r_create_index(Change("create_index", ix.name, new=ix), plan)]
        return steps

    def copied_value(self, old: Column, new: Column) -> str:
        """A column that becomes NOT NULL takes its default where the old rows hold NULL
        (what the default promises); without a default the copy fails on such a row."""
        if old.nullable and not new.nullable and new.default is not None:
            return f"COALESCE({self.q(old.name)}, ({new.default}))"
        return self.q(old.name)

    def r_drop_index(self, c: Change, plan: Plan) -> list[str]:
        return [f"DROP INDEX {self.q(c.old.name)}"]

    def r_drop_routine(self, c: Change, plan: Plan) -> list[str]:
        return [f"DROP {c.old.kind.upper()} {self.qn(c.old.name)}"]

    def r_create_schema(self, c: Change, plan: Plan) -> list[str]:
        raise RenderError(f"sqlite: {c.describe()}: SQLite has no schemas")

    def r_create_sequence(self, c: Change, plan: Plan) -> list[str]:
        raise RenderError(f"sqlite: {c.describe()}: SQLite has no sequences")

    def script_text(self, script: Script) -> str:
        lines = [f"{s.sql};" for s in script.before]
        lines += ["BEGIN;", *[f"{s.sql};" for s in script.steps], "COMMIT;"] if script.steps else []
        lines += [f"{s.sql};" for s in script.after]
        return "\n\n".join(lines) + "\n" if lines else ""
