"""T-SQL for one target SQL Server version (tsql_target): every name bracketed with `]`
doubled, every literal `N'...'` with `'` doubled, every constraint and default named so a
later change can drop it by that name (live names come from sys.*, never guessed), each
module alone in its batch. Version-dependent forms: CREATE OR ALTER (2016 SP1+, else a stub
then ALTER), DROP ... IF EXISTS (2016+, else guarded), sequences (2012+), newer built-in
functions refused for older targets. ALTER COLUMN the long way lives in tsql_alter."""

from __future__ import annotations

import re

from deploy.db.errors import RenderError
from deploy.db.model import Check, Column, ForeignKey, Index, Key, QName, Routine, Table
from deploy.db.plan import Change, Plan
from deploy.db.render.base import Renderer, Script, Step
from deploy.db.render.tsql_alter import AlterColumns, expand_plan
from deploy.db.render.tsql_script import literal, module_steps, quote_name, script_text
from deploy.db.sqltext import PROGRAMMABLE
from deploy.db.tsql_target import SqlServerTarget, resolve

_OBJECT_TYPE = {"view": "V", "procedure": "P", "trigger": "TR"}


def _short(table: QName | None) -> str:
    return re.sub(r"\W", "_", table.name if table else "")


class TsqlRenderer(AlterColumns, Renderer):
    dialect = "tsql"
    open_quote, close_quote = "[", "]"

    def __init__(self, server_version: str | None = None):
        self.declared = server_version
        self.target = SqlServerTarget(server_version) if server_version else SqlServerTarget()

    def render(self, plan: Plan) -> Script:
        self.target = resolve(self.declared, plan.current.server_version)
        script = super().render(expand_plan(plan))
        script.server_version = self.target.label
        return script

    def after_change(self, change: Change, steps: list[Step]) -> list[Step]:
        """Refuse built-in functions the target server does not have, naming the object."""
        for step in steps:
            if missing := self.target.missing_functions(step.sql):
                fn, need = missing[0]
                raise RenderError(f"tsql: {change.describe()}: uses {fn}, which needs SQL Server {need} "
                                  f"(the target is {self.target.label}; set [env.X.db] server_version)")
        return steps

    # names and literals
    def q(self, name: str) -> str:
        return quote_name(name)

    def lit(self, value: str) -> str:
        return literal(value)

    # definitions
    def column_def(self, col: Column, table: Table | None) -> str:
        if col.computed:
            return f"{self.q(col.name)} AS ({col.computed})"
        out = f"{self.q(col.name)} {col.type}"
        if col.collation:
            out += f" COLLATE {col.collation}"
        if col.identity:
            out += " IDENTITY(1,1)"
        out += " NULL" if col.nullable else " NOT NULL"
        if col.default is not None and table is not None:
            out += f" CONSTRAINT {self.q(self.default_name(col, table.name))} DEFAULT ({col.default})"
        return out

    def default_name(self, col: Column, table: QName | None) -> str:
        """The live name when known (introspected, e.g. DF__users__status__3B75D760); else the
        one Shipyard gives the defaults it creates."""
        return col.default_name or f"DF_{_short(table)}_{col.name}"

    def key_def(self, key: Key, table: Table, primary: bool) -> str:
        return super().key_def(Key(self.key_name(key, table.name, primary), key.columns), table, primary)

    def key_name(self, key: Key, table: QName, primary: bool) -> str:
        return key.name or (f"PK_{_short(table)}" if primary else f"UQ_{_short(table)}_{'_'.join(key.columns)}")

    def check_def(self, check: Check, table: Table) -> str:
        index = next((i for i, c in enumerate(table.checks) if c == check), 0) + 1
        return super().check_def(Check(check.name or f"CK_{_short(table.name)}_{index}", check.expression), table)

    def fk_def(self, fk: ForeignKey, table: Table) -> str:
        name = fk.name or f"FK_{_short(table.name)}_{'_'.join(fk.columns)}"
        return super().fk_def(ForeignKey(name, fk.columns, fk.ref_table, fk.ref_columns, fk.on_delete, fk.on_update), table)

    def require_name(self, c: Change) -> str:
        """A constraint without a known name was created from files by Shipyard: our name."""
        if c.old.name:
            return c.old.name
        short = _short(c.table)
        if isinstance(c.old, ForeignKey):
            return f"FK_{short}_{'_'.join(c.old.columns)}"
        if isinstance(c.old, Check):
            return f"CK_{short}_1"
        return f"PK_{short}" if c.target.endswith("primary key") else f"UQ_{short}_{'_'.join(c.old.columns)}"

    # renames: sp_rename takes names as string literals
    def r_rename_table(self, c: Change, plan: Plan) -> list[str]:
        return [f"EXEC sp_rename {self.lit(self.qn(c.old))}, {self.lit(c.new.name)}"]

    def r_rename_column(self, c: Change, plan: Plan) -> list[str]:
        return [f"EXEC sp_rename {self.lit(self.qn(c.table) + '.' + self.q(c.old))}, {self.lit(c.new)}, N'COLUMN'"]

    # drops, guarded the way the target allows
    def guarded_drop(self, what: str, name: str, object_type: str | None) -> str:
        if self.target.drop_if_exists:
            return f"DROP {what} IF EXISTS {name}"
        kind = f", {self.lit(object_type)}" if object_type else ""
        return f"IF OBJECT_ID({self.lit(name)}{kind}) IS NOT NULL DROP {what} {name}"

    def r_drop_table(self, c: Change, plan: Plan) -> list[str]:
        return [self.guarded_drop("TABLE", self.qn(c.old.name), "U")]

    def r_drop_sequence(self, c: Change, plan: Plan) -> list[str]:
        return [self.guarded_drop("SEQUENCE", self.qn(c.old.name), "SO")]

    def r_create_sequence(self, c: Change, plan: Plan) -> list[str]:
        if not self.target.sequences:
            raise RenderError(f"tsql: {c.describe()}: sequences need SQL Server 2012 (the target is {self.target.label})")
        return super().r_create_sequence(c, plan)

    def r_drop_index(self, c: Change, plan: Plan) -> list[str]:
        name, table = self.q(c.old.name), self.qn(c.old.table)
        if self.target.drop_if_exists:
            return [f"DROP INDEX IF EXISTS {name} ON {table}"]
        return [f"IF EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID({self.lit(table)}) "
                f"AND name = {self.lit(c.old.name)}) DROP INDEX {name} ON {table}"]

    def r_drop_routine(self, c: Change, plan: Plan) -> list[str]:
        r: Routine = c.old
        if plan.desired.routine(r.kind, r.name) is not None and not self.must_drop(r, plan):
            return []  # re-created below by CREATE OR ALTER / ALTER, which keeps its permissions
        return [self.guarded_drop(r.kind.upper(), self.qn(r.name), _OBJECT_TYPE.get(r.kind))]

    def must_drop(self, r: Routine, plan: Plan) -> bool:
        """A trigger before 2016 (no CREATE OR ALTER, and no permissions to keep), and a
        SCHEMABINDING module over a column being altered or dropped (error 5074 otherwise)."""
        return (r.kind == "trigger" and not self.target.create_or_alter) or self.schema_bound_over_change(r, plan)

    # modules
    def r_create_routine(self, c: Change, plan: Plan) -> list[Step]:
        r: Routine = c.new
        m = PROGRAMMABLE.match(r.definition)
        kind, rest = m.group("kind").upper(), r.definition[m.end():]
        if self.target.create_or_alter:
            return module_steps(f"CREATE OR ALTER {kind}{rest}", c.kind)
        if r.kind == "trigger":
            return module_steps(f"CREATE {kind}{rest}", c.kind)  # dropped above
        return [Step(self.stub(r), note="module stub"), *module_steps(f"ALTER {kind}{rest}", c.kind)]

    def stub(self, r: Routine) -> str:
        """Before 2016 SP1: create a placeholder when the object is missing, then ALTER it
        (an existing object keeps its permissions). A function's placeholder has its kind."""
        name = self.qn(r.name)
        if r.kind == "view":
            body = f"CREATE VIEW {name} AS SELECT 1 AS [placeholder]"
        elif r.kind == "procedure":
            body = f"CREATE PROCEDURE {name} AS RETURN 0"
        elif re.search(r"\bRETURNS\s+TABLE\b", r.definition, re.I):
            body = f"CREATE FUNCTION {name}() RETURNS TABLE AS RETURN SELECT 1 AS [placeholder]"
        elif re.search(r"\bRETURNS\s+@\w+\s+TABLE\b", r.definition, re.I):
            body = f"CREATE FUNCTION {name}() RETURNS @placeholder TABLE ([x] int) AS BEGIN RETURN END"
        else:
            body = f"CREATE FUNCTION {name}() RETURNS int AS BEGIN RETURN 0 END"
        return f"IF OBJECT_ID({self.lit(name)}) IS NULL EXEC({self.lit(body)})"

    def index_words(self, ix: Index) -> str:
        kind = {"clustered": "CLUSTERED ", "columnstore": "NONCLUSTERED COLUMNSTORE ",
                "clustered columnstore": "CLUSTERED COLUMNSTORE "}
        if ix.method and ix.method not in kind:
            raise RenderError(f"tsql: index {ix.name}: SQL Server has no {ix.method} indexes")
        if ix.method and "columnstore" in ix.method and not self.target.at_least("2014" if "clustered" in ix.method else "2012"):
            raise RenderError(f"tsql: index {ix.name}: {ix.method} indexes need a newer SQL Server than {self.target.label}")
        return ("UNIQUE " if ix.unique else "") + kind.get(ix.method or "", "")

    def r_create_schema(self, c: Change, plan: Plan) -> list[str]:
        return [f"CREATE SCHEMA {self.q(c.target)}"]  # CREATE SCHEMA must be alone in its batch: it is

    def finish(self, script: Script, plan: Plan) -> Script:
        if script.steps:
            script.before.append(Step("SET XACT_ABORT ON", transactional=False))
        return script

    def script_text(self, script: Script) -> str:
        return script_text(script, SqlServerTarget(script.server_version or self.target.label))
