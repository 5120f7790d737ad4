"""The printed T-SQL script: safe however a reviewer runs it (Shipyard through pyodbc, sqlcmd,
SSMS with or without SQLCMD mode), and the literal/identifier quoting every statement uses.

Layout: `:on error exit` (sqlcmd stops at the first error), `SET XACT_ABORT ON` (an error
rolls the transaction back), one transaction, one statement per `GO` batch, and after each
batch the SSDT-style guard: if a batch failed without XACT_ABORT (SSMS reports the sqlcmd
line as a syntax error and goes on), roll back; once nothing is open, `SET NOEXEC ON` so no
later batch runs outside the transaction. `SET NOEXEC OFF` at the end gives the session back."""

from __future__ import annotations

from deploy.db.errors import RenderError
from deploy.db.render.base import Script, Step
from deploy.db.render.verify import Expected, check_tsql_batches
from deploy.db.sqltext import go_batches, significant, tokenize
from deploy.db.tsql_target import SqlServerTarget

GUARD = ("IF @@ERROR <> 0 AND @@TRANCOUNT > 0 ROLLBACK TRANSACTION;\n"
         "IF @@TRANCOUNT = 0 BEGIN PRINT N'Rolled back: nothing more runs.'; SET NOEXEC ON; END;")
MODULE_SETTINGS = "SET ANSI_NULLS ON;\nSET QUOTED_IDENTIFIER ON;"
_MAX_LITERAL = 4000  # longer nvarchar concatenations are cut at 4000 unless one side is max


def quote_name(name: str) -> str:
    """`[name]` with `]` doubled. A line break in a name is refused: sqlcmd would cut the
    script on a `GO` line inside it."""
    if any(ch in name for ch in "\r\n\x00"):
        raise RenderError(f"tsql: the name {name!r} holds a line break or NUL; SQL Server scripts cannot carry it safely")
    return "[" + name.replace("]", "]]") + "]"


def literal(value: str) -> str:
    """`N'...'` with `'` doubled. Line breaks become NCHAR(13)/NCHAR(10) so no literal spans
    lines: a line holding only `GO` inside a string would otherwise end the batch in sqlcmd."""
    parts: list[str] = []
    chunk = ""
    for ch in value:
        if ch in "\r\n\x00":
            if chunk:
                parts.append("N'" + chunk.replace("'", "''") + "'")
            parts.append(f"NCHAR({ord(ch)})")
            chunk = ""
        else:
            chunk += ch
    if chunk or not parts:
        parts.append("N'" + chunk.replace("'", "''") + "'")
    if len(parts) > 1 and len(value) >= _MAX_LITERAL:
        parts.insert(0, "CAST(N'' AS nvarchar(max))")
    return " + ".join(parts)


def terminated(sql: str) -> str:
    """Every statement Shipyard writes ends with `;` (MERGE requires it; it makes the
    statement boundaries explicit to every parser)."""
    toks = significant(tokenize(sql))
    return sql if toks and toks[-1].text == ";" else sql.rstrip() + ";"


def expected_batches(script: Script) -> list[Expected]:
    """Every batch of the printed script, with how many statements it was built to hold."""
    out = [Expected(terminated(s.sql), s.statements, s.verbatim) for s in script.before]
    if script.steps:
        out.append(Expected("BEGIN TRANSACTION;"))
        for step in script.steps:
            sql = step.sql.rstrip() if step.verbatim else terminated(step.sql)
            out.append(Expected(sql, step.statements, step.verbatim))
            if step.note != "module settings":  # SET cannot fail; the module right after it is guarded
                out.append(Expected(GUARD, 2))
        out += [Expected("COMMIT TRANSACTION;"), Expected("SET NOEXEC OFF;")]
    out += [Expected(terminated(s.sql), s.statements, s.verbatim) for s in script.after]
    return out


def header(target: SqlServerTarget) -> str:
    return (f"-- Shipyard: written for SQL Server {target.label} (compatibility level {target.compatibility_level}).\n"
            "-- Run it with `sqlcmd -b -i FILE`, or in SSMS (SQLCMD mode stops at the first error; without it\n"
            "-- the `:on error exit` line is reported as a syntax error and the guards after each batch stop the rest).\n"
            ":on error exit\nGO\n")


def script_text(script: Script, target: SqlServerTarget) -> str:
    """The reviewable script; parsed back before it is returned (an injected statement fails)."""
    batches = expected_batches(script)
    text = header(target) + "".join(f"{b.sql}\nGO\n" for b in batches)
    check_tsql_batches(text, batches, go_batches)
    return text


def module_steps(definition_sql: str, note: str) -> list[Step]:
    """A view/procedure/function/trigger batch, preceded by the settings SSMS scripts set
    (SQL Server stores ANSI_NULLS and QUOTED_IDENTIFIER with the module when it is created)."""
    return [Step(MODULE_SETTINGS, note="module settings", statements=2), Step(definition_sql, note=note, verbatim=True)]
