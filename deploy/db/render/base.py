"""What every dialect renders alike; subclasses override quoting, column definitions
and the few statements that differ (migra's changes.py is the model: one small method
per kind of change)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deploy.db.errors import RenderError
from deploy.db.plan import Change, Plan

if TYPE_CHECKING:  # a catalog plan (PostgreSQL) is rendered without loading the generic model
    from deploy.db.model import Column, ForeignKey, Index, IndexPart, Key, Routine, Sequence, Table


@dataclass(frozen=True)
class Step:
    """One statement as the renderer meant it: `statements` is how many top-level statements
    its text holds by construction (what the parse-back check expects); `verbatim` marks a
    user's module body, whose inner statements are the user's own."""

    sql: str
    transactional: bool = True
    note: str = ""
    statements: int = 1
    verbatim: bool = False
    leftover: str = ""  # a query whose rows name what a failure of this step left behind


@dataclass
class Script:
    """Statements in order. `before`/`after` cannot run inside the transaction; `tail` runs
    after it has committed, each statement on its own (PostgreSQL's CONCURRENTLY index work),
    and is not rolled back when one of them fails."""

    dialect: str
    before: list[Step] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    after: list[Step] = field(default_factory=list)
    tail: list[Step] = field(default_factory=list)
    server_version: str | None = None  # T-SQL: the SQL Server version the text is written for
    transactional: bool = True  # False: each step commits on its own (MySQL DDL)

    @property
    def statements(self) -> list[Step]:
        return [*self.before, *self.steps, *self.tail, *self.after]

    def __bool__(self) -> bool:
        return bool(self.steps or self.before or self.tail or self.after)

    def text(self) -> str:
        from deploy.db.render import renderer

        return renderer(self.dialect, self.server_version).script_text(self)


class Renderer:
    dialect = ""
    open_quote, close_quote = '"', '"'

    def render(self, plan: Plan) -> Script:
        script = Script(self.dialect)
        for change in plan.changes:
            method = getattr(self, f"r_{change.kind}", None)
            if method is None:
                raise RenderError(f"{self.dialect}: cannot render {change.describe()}")
            steps = [s if isinstance(s, Step) else Step(s, note=change.kind) for s in method(change, plan)]
            script.steps += self.after_change(change, steps)
        return self.finish(script, plan)

    def after_change(self, change: Change, steps: list[Step]) -> list[Step]:
        return steps

    def finish(self, script: Script, plan: Plan) -> Script:
        return script

    # names
    def q(self, name: str) -> str:
        if self.open_quote == "[":
            return f"[{name.replace(']', ']]')}]"
        return f'"{name.replace(chr(34), chr(34) * 2)}"'

    def qn(self, name: QName) -> str:
        return f"{self.q(name.schema)}.{self.q(name.name)}" if name.schema else self.q(name.name)

    def cols(self, names: tuple[str, ...]) -> str:
        return ", ".join(self.q(n) for n in names)

    def index_col(self, part: IndexPart) -> str:
        """A column is always quoted (whatever its name holds); an expression is SQL text."""
        text = self.q(part.column) if part.column is not None else self.index_expression(part.expression or "")
        return text + (" DESC" if part.descending else "")

    def index_expression(self, text: str) -> str:
        return text

    # definitions
    def column_def(self, col: Column, table: Table) -> str:
        raise NotImplementedError

    def key_def(self, key: Key, table: Table, primary: bool) -> str:
        kind = "PRIMARY KEY" if primary else "UNIQUE"
        return f"{self.constraint_name(key.name)}{kind} ({self.cols(key.columns)})"

    def check_def(self, check: Check, table: Table) -> str:
        return f"{self.constraint_name(check.name)}CHECK ({check.expression})"

    def fk_def(self, fk: ForeignKey, table: Table) -> str:
        out = (f"{self.constraint_name(fk.name)}FOREIGN KEY ({self.cols(fk.columns)}) "
               f"REFERENCES {self.qn(fk.ref_table)} ({self.cols(fk.ref_columns)})")
        out += f" ON DELETE {fk.on_delete}" if fk.on_delete else ""
        return out + (f" ON UPDATE {fk.on_update}" if fk.on_update else "")

    def constraint_name(self, name: str | None) -> str:
        return f"CONSTRAINT {self.q(name)} " if name else ""

    def table_body(self, table: Table, inline_fks: bool) -> list[str]:
        parts = [self.column_def(c, table) for c in table.columns]
        if table.primary_key:
            parts.append(self.key_def(table.primary_key, table, primary=True))
        parts += [self.key_def(k, table, primary=False) for k in table.uniques]
        parts += [self.check_def(c, table) for c in table.checks]
        if inline_fks:
            parts += [self.fk_def(f, table) for f in table.foreign_keys]
        return parts

    def create_table_sql(self, table: Table, inline_fks: bool = False, name: QName | None = None) -> str:
        body = ",\n    ".join(self.table_body(table, inline_fks))
        return f"CREATE TABLE {self.qn(name or table.name)} (\n    {body}\n){self.table_options(table)}"

    def table_options(self, table: Table) -> str:
        """What follows the column list (SQLite: STRICT, WITHOUT ROWID)."""
        return ""

    # changes every dialect renders the same way
    def r_create_table(self, c: Change, plan: Plan) -> list[str]:
        return [self.create_table_sql(c.new)]

    def r_drop_table(self, c: Change, plan: Plan) -> list[str]:
        return [f"DROP TABLE {self.qn(c.old.name)}"]

    def r_create_index(self, c: Change, plan: Plan) -> list[str]:
        ix: Index = c.new
        cols = f" ({', '.join(self.index_col(col) for col in ix.columns)})" if ix.columns else ""
        where = f" WHERE {ix.where}" if ix.where else ""
        return [f"CREATE {self.index_words(ix)}INDEX {self.q(ix.name)} ON {self.qn(ix.table)}{self.index_using(ix)}{cols}{where}"]

    def index_words(self, ix: Index) -> str:
        """What goes between CREATE and INDEX."""
        if ix.method and self.dialect == "sqlite":
            raise RenderError(f"sqlite: index {ix.name}: SQLite has no {ix.method} indexes")
        return "UNIQUE " if ix.unique else ""

    def index_using(self, ix: Index) -> str:
        return ""

    def r_drop_index(self, c: Change, plan: Plan) -> list[str]:
        from deploy.db.model import QName

        return [f"DROP INDEX {self.qn(QName(c.old.table.schema, c.old.name))}"]

    def r_create_routine(self, c: Change, plan: Plan) -> list[str]:
        return [c.new.definition]

    def r_drop_routine(self, c: Change, plan: Plan) -> list[str]:
        r: Routine = c.old
        return [f"DROP {r.kind.upper()} {self.qn(r.name)}"]

    def r_create_sequence(self, c: Change, plan: Plan) -> list[str]:
        s: Sequence = c.new
        return [f"CREATE SEQUENCE {self.qn(s.name)} START WITH {s.start} INCREMENT BY {s.increment}"]

    def r_drop_sequence(self, c: Change, plan: Plan) -> list[str]:
        return [f"DROP SEQUENCE {self.qn(c.old.name)}"]

    def r_rename_table(self, c: Change, plan: Plan) -> list[str]:
        return [f"ALTER TABLE {self.qn(c.old)} RENAME TO {self.q(c.new.name)}"]

    def r_rename_column(self, c: Change, plan: Plan) -> list[str]:
        return [f"ALTER TABLE {self.qn(c.table)} RENAME COLUMN {self.q(c.old)} TO {self.q(c.new)}"]

    def r_add_column(self, c: Change, plan: Plan) -> list[str]:
        return [f"ALTER TABLE {self.qn(c.table)} ADD {self.column_def(c.new, plan.desired.table(c.table))}"]

    def r_drop_column(self, c: Change, plan: Plan) -> list[str]:
        return [f"ALTER TABLE {self.qn(c.table)} DROP COLUMN {self.q(c.old.name)}"]

    def r_add_foreign_key(self, c: Change, plan: Plan) -> list[str]:
        return [f"ALTER TABLE {self.qn(c.table)} ADD {self.fk_def(c.new, plan.desired.table(c.table))}"]

    def r_drop_foreign_key(self, c: Change, plan: Plan) -> list[str]:
        if plan.desired.table(c.table) is None and not c.old.name:
            return []  # DROP TABLE takes its own keys with it (dropped in reverse FK order)
        return [f"ALTER TABLE {self.qn(c.table)} DROP CONSTRAINT {self.q(self.require_name(c))}"]

    def r_add_constraint(self, c: Change, plan: Plan) -> list[str]:
        from deploy.db.model import Check

        table = plan.desired.table(c.table)
        if isinstance(c.new, Check):
            body = self.check_def(c.new, table)
        else:
            body = self.key_def(c.new, table, primary=c.new is table.primary_key)
        return [f"ALTER TABLE {self.qn(c.table)} ADD {body}"]

    def r_drop_constraint(self, c: Change, plan: Plan) -> list[str]:
        return [f"ALTER TABLE {self.qn(c.table)} DROP CONSTRAINT {self.q(self.require_name(c))}"]

    def require_name(self, c: Change) -> str:
        if not c.old.name:
            raise RenderError(f"{self.dialect}: {c.describe()}: the constraint has no name, so it cannot be dropped")
        return c.old.name

    def script_text(self, script: Script) -> str:
        raise NotImplementedError
