"""T-SQL: one statement per `GO` batch, inside one transaction with XACT_ABORT on.
Programmable objects use CREATE OR ALTER (permissions survive); every constraint and
default gets a name here, so a later change can drop it by that name."""

from __future__ import annotations

import re

from deploy.db.errors import RenderError
from deploy.db.model import Check, Column, ForeignKey, Index, Key, QName, Routine, Table
from deploy.db.normal import expr_key
from deploy.db.plan import Change, Plan
from deploy.db.render.base import Renderer, Script, Step
from deploy.db.sqltext import PROGRAMMABLE


def _short(table: QName | None) -> str:
    return re.sub(r"\W", "_", table.name if table else "")


def _literal(text: str) -> str:
    """An N'...' literal with every quote doubled: a name is data, never code."""
    return "N'" + text.replace("'", "''") + "'"


class TsqlRenderer(Renderer):
    dialect = "tsql"
    open_quote, close_quote = "[", "]"

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
            out += f" CONSTRAINT {self.q(self.default_name(col, table))} DEFAULT ({col.default})"
        return out

    def default_name(self, col: Column, table: Table) -> str:
        return col.default_name or f"DF_{_short(table.name)}_{col.name}"

    def key_def(self, key: Key, table: Table, primary: bool) -> str:
        name = key.name or (f"PK_{_short(table.name)}" if primary else f"UQ_{_short(table.name)}_{'_'.join(key.columns)}")
        return super().key_def(Key(name, key.columns), table, primary)

    def check_def(self, check: Check, table: Table) -> str:
        index = next((i for i, c in enumerate(table.checks) if c == check), 0) + 1
        return super().check_def(Check(check.name or f"CK_{_short(table.name)}_{index}", check.expression), table)

    def fk_def(self, fk: ForeignKey, table: Table) -> str:
        name = fk.name or f"FK_{_short(table.name)}_{'_'.join(fk.columns)}"
        return super().fk_def(ForeignKey(name, fk.columns, fk.ref_table, fk.ref_columns, fk.on_delete, fk.on_update), table)

    def r_add_column(self, c: Change, plan: Plan) -> list[str]:
        return [f"ALTER TABLE {self.qn(c.table)} ADD {self.column_def(c.new, plan.desired.table(c.table))}"]

    def r_drop_column(self, c: Change, plan: Plan) -> list[str]:
        out = []
        if c.old.default is not None:
            out.append(self.drop_default(c, c.old))
        return out + super().r_drop_column(c, plan)

    def drop_default(self, c: Change, col: Column) -> str:
        """Introspection knows the real name; a model from files had it named by us."""
        name = col.default_name or f"DF_{_short(c.table)}_{col.name}"
        return f"ALTER TABLE {self.qn(c.table)} DROP CONSTRAINT {self.q(name)}"

    def r_alter_column(self, c: Change, plan: Plan) -> list[str]:
        old, new = c.old, c.new
        table = plan.desired.table(c.table)
        if old.identity != new.identity:
            raise RenderError(f"tsql: {c.describe()}: IDENTITY cannot be added or removed by ALTER; rebuild the table")
        if old.computed or new.computed:
            return [*self.r_drop_column(Change("drop_column", c.target, old=old, table=c.table), plan),
                    *self.r_add_column(Change("add_column", c.target, new=new, table=c.table), plan)]
        out = []
        default_changed = expr_key(old.default, self.dialect) != expr_key(new.default, self.dialect)
        if old.default is not None and (default_changed or old.type != new.type):
            out.append(self.drop_default(c, old))
        if old.type != new.type or old.nullable != new.nullable:
            null = "NULL" if new.nullable else "NOT NULL"
            out.append(f"ALTER TABLE {self.qn(c.table)} ALTER COLUMN {self.q(new.name)} {new.type} {null}")
        if new.default is not None and (default_changed or old.type != new.type or old.default is None):
            name = self.q(self.default_name(new, table))
            out.append(f"ALTER TABLE {self.qn(c.table)} ADD CONSTRAINT {name} DEFAULT ({new.default}) FOR {self.q(new.name)}")
        return out

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

    def r_rename_table(self, c: Change, plan: Plan) -> list[str]:
        return [f"EXEC sp_rename {_literal(self.qn(c.old))}, {_literal(c.new.name)}"]

    def r_rename_column(self, c: Change, plan: Plan) -> list[str]:
        return [f"EXEC sp_rename {_literal(f'{self.qn(c.table)}.{self.q(c.old)}')}, {_literal(c.new)}, N'COLUMN'"]

    def r_drop_routine(self, c: Change, plan: Plan) -> list[str]:
        r: Routine = c.old
        if plan.desired.routine(r.kind, r.name) is not None:
            return []  # re-created below with CREATE OR ALTER, which keeps its permissions
        return [f"DROP {r.kind.upper()} {self.qn(r.name)}"]

    def r_create_routine(self, c: Change, plan: Plan) -> list[str]:
        text = c.new.definition
        m = PROGRAMMABLE.match(text)
        return [f"CREATE OR ALTER {m.group('kind').upper()}{text[m.end():]}"]

    def index_words(self, ix: Index) -> str:
        kind = {"clustered": "CLUSTERED ", "columnstore": "NONCLUSTERED COLUMNSTORE ",
                "clustered columnstore": "CLUSTERED COLUMNSTORE "}
        if ix.method and ix.method not in kind:
            raise RenderError(f"tsql: index {ix.name}: SQL Server has no {ix.method} indexes")
        return ("UNIQUE " if ix.unique else "") + kind.get(ix.method or "", "")

    def r_drop_index(self, c: Change, plan: Plan) -> list[str]:
        return [f"DROP INDEX {self.q(c.old.name)} ON {self.qn(c.old.table)}"]

    def r_create_schema(self, c: Change, plan: Plan) -> list[str]:
        return [f"CREATE SCHEMA {self.q(c.target)}"]

    def finish(self, script: Script, plan: Plan) -> Script:
        if script.steps:
            script.before.append(Step("SET XACT_ABORT ON", transactional=False))
        return script

    def script_text(self, script: Script) -> str:
        batches = [s.sql for s in script.before]
        if script.steps:
            batches += ["BEGIN TRANSACTION", *[s.sql for s in script.steps], "COMMIT TRANSACTION"]
        batches += [s.sql for s in script.after]
        return "".join(f"{b}\nGO\n" for b in batches)


# T-SQL forms sqlglot (30.x) reads only as an opaque Command; everything else must parse fully.
OPAQUE_OK = re.compile(r"^(CREATE OR ALTER TRIGGER|ALTER TABLE \S+ ADD CONSTRAINT \S+ DEFAULT )", re.I)


def parse_back(script_text: str) -> list[str]:
    """Parse every `GO` batch with sqlglot's T-SQL dialect (no SQL Server here to ask).
    Raises sqlglot's ParseError on invalid T-SQL; returns the batches sqlglot could only
    read as an opaque command and that are not known-good forms (so: suspicious ones)."""
    import logging

    import sqlglot
    from sqlglot import exp

    suspicious = []
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    for batch in script_text.split("\nGO\n"):
        if not batch.strip():
            continue
        trees = sqlglot.parse(batch, read="tsql")
        if any(isinstance(t, exp.Command) for t in trees) and not OPAQUE_OK.match(batch.strip()):
            suspicious.append(batch.strip())
    return suspicious
