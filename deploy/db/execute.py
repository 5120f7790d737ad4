"""Run a rendered Script: the `before` steps outside any transaction, the body in one
transaction (rolled back whole on the first failure), then the `tail` (each statement
committing on its own, after the body committed), then the `after` steps. A failure names
the statement, its batch number and the server's message; a failure in the tail also says
that the body stays committed and names what the step left behind (an INVALID index). A
script that cannot be transactional (MySQL DDL) runs each statement on its own and reports
each one done (`on_step`), so a caller can checkpoint."""

from __future__ import annotations

import time
from typing import Any, Callable

from deploy.db.errors import StatementFailed, TailFailed
from deploy.db.render.base import Script, Step
from deploy.db.sqltext import Statement

_HINTS = {  # SQLSTATE -> what it means for a schema script
    "55P03": ("lock timeout: another session holds a lock this statement needs (see pg_locks and pg_stat_activity); "
              "it gave up instead of queueing all traffic on the table behind it. Run the sync again when that "
              "session is done, or allow a longer wait with --lock-timeout"),
}


def run_script(conn: Any, script: Script, log: Callable[[str], None] = lambda _: None, source: str = "schema sync",
               on_step: Callable[[dict], None] = lambda _: None) -> list[dict]:
    """Returns one record per statement (sql, batch, seconds) for reports."""
    records: list[dict] = []
    batch = 0
    phases = (("before", script.before), ("body", script.steps), ("tail", script.tail), ("after", script.after))
    for phase, steps in phases:
        if not steps:
            continue
        in_transaction = phase == "body" and script.transactional
        conn.autocommit = not in_transaction
        try:
            for step in steps:
                batch += 1
                records.append(_run_step(conn, step, batch, source, log))
                on_step(records[-1])
            if in_transaction:
                conn.commit()
        except BaseException as e:
            if in_transaction:
                conn.rollback()
            conn.autocommit = True
            for restore in script.after:  # put session settings back even after a failure
                conn.cursor().execute(restore.sql)
            if phase == "tail" and isinstance(e, StatementFailed):
                raise TailFailed(e, len(script.before) + len(script.steps), _left_behind(conn, step)) from None
            raise
    return records


def _left_behind(conn: Any, step: Step) -> list[str]:
    """What the failed step's own query names (an index its failed build left INVALID)."""
    import pyodbc

    if not step.leftover:
        return []
    try:
        return [str(row[0]) for row in conn.cursor().execute(step.leftover).fetchall()]
    except pyodbc.Error as e:  # the report of the first failure matters more than this one
        return [f"(could not check what was left behind: {e})"]


def _run_step(conn: Any, step: Step, batch: int, source: str, log: Callable[[str], None]) -> dict:
    import pyodbc

    started = time.monotonic()
    try:
        cursor = conn.cursor()
        cursor.execute(step.sql)
        if step.note == "check" and cursor.description is not None and (rows := cursor.fetchall()):
            raise StatementFailed(step.sql, batch, f"foreign key check found {len(rows)} violation(s): {rows[:3]}", source)
    except pyodbc.Error as e:
        hint = _HINTS.get(str(e.args[0]) if e.args else "", "")
        raise StatementFailed(step.sql, batch, " ".join(str(a) for a in e.args), source, hint) from None
    seconds = time.monotonic() - started
    log(f"  [{batch}] {step.sql.splitlines()[0][:100]} ({seconds:.3f}s)")
    return {"sql": step.sql, "batch": batch, "seconds": round(seconds, 4)}


def run_statements(conn: Any, statements: list[Statement], source: str) -> None:
    """Plain statements from a file (migrations, seed data) in the caller's transaction."""
    import pyodbc

    for stmt in statements:
        try:
            conn.cursor().execute(stmt.text)
        except pyodbc.Error as e:
            raise StatementFailed(stmt.text, stmt.batch + 1, " ".join(str(a) for a in e.args), f"{source}:{stmt.line}") from None
