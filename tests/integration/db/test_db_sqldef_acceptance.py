"""sqldef's SQLite cases applied for real through the SQLite3 ODBC driver, and its SQL
Server cases rendered, parsed back with sqlglot's T-SQL parser and re-diffed in memory.
Floors below are the counts measured when this was written (docs/database.md lists them
with the reasons for the rest): fewer passes is a regression."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from deploy.db.connect import DbUrl, connect
from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.execute import run_script
from deploy.db.introspect import introspect
from deploy.db.model import Schema
from deploy.db.render import render
from deploy.db.sqltext import split_statements

from db_sqldef_support import counts, report, run_all, withheld_drops
from db_tsql_apply import apply_tsql

SQLITE_FLOOR = {"tests.yml": 82, "tests_dependency_ordering.yml": 8, "tests_enable_drop.yml": 5,
                "tests_preserve_quotes.yml": 8, "tests_triggers.yml": 22}
MSSQL_FLOOR = {"tests.yml": 152, "tests_dependency_ordering.yml": 8, "tests_enable_drop.yml": 4,
               "tests_fk_deps.yml": 20, "tests_preserve_quotes.yml": 10, "tests_sqlserver2022.yml": 8}


def _sqlite_case(current: str, desired: str, case: dict) -> str:
    with tempfile.TemporaryDirectory() as d:
        url = DbUrl("sqlite", str(Path(d) / "a.db"))
        conn = connect(url)
        try:
            for stmt in split_statements(current, "sqlite"):
                conn.execute(stmt.text)
            conn.commit()
            plan = diff(introspect(conn, "sqlite"), from_text(desired, "sqlite"))
            if withheld_drops(case, plan):
                return ""
            run_script(conn, render(plan))
            left = diff(introspect(conn, "sqlite"), from_text(desired, "sqlite")).changes
        finally:
            conn.close()
    return f"differences remain: {', '.join(c.describe() for c in left)[:150]}" if left else ""


def _mssql_case(current: str, desired: str, case: dict) -> str:
    version = "2022" if case["_file"] == "tests_sqlserver2022.yml" else None  # else the offline default, 2016
    want = from_text(desired, "tsql")
    created = render(diff(Schema("tsql"), from_text(current, "tsql")), server_version=version).text()  # both parsers read it
    live = apply_tsql(Schema("tsql"), created)
    plan = diff(live, want)
    if withheld_drops(case, plan):
        return ""
    script = render(plan, server_version=version).text()
    left = diff(apply_tsql(live, script), want).changes
    return f"differences remain: {', '.join(c.describe() for c in left)[:150]}" if left else ""


@pytest.mark.slow
def test_sqldef_sqlite_cases_applied_for_real() -> None:
    outcomes = run_all("sqlite3def", _sqlite_case)
    print(report(outcomes))
    for file, floor in SQLITE_FLOOR.items():
        assert counts(outcomes)[file][0] >= floor, report(outcomes)
    assert sum(o.passed for o in outcomes) > 0


def test_sqldef_mssql_cases_parsed_back_and_rediffed() -> None:
    outcomes = run_all("mssqldef", _mssql_case)
    print(report(outcomes))
    for file, floor in MSSQL_FLOOR.items():
        assert counts(outcomes)[file][0] >= floor, report(outcomes)
    assert sum(o.passed for o in outcomes) > 0
