"""sqldef's SQLite cases applied for real through the SQLite3 ODBC driver and judged by the
engine's own description (sqlite_oracle.py: PRAGMAs and sqlite_schema, no Shipyard code),
and its SQL Server cases rendered, parsed back with sqlglot's T-SQL parser and re-diffed in
memory. The floors in acceptance_floors.json only go up (docs/database.md has the figures)."""

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

import sqlite_oracle as oracle
from db_sqldef_support import check_floors, report, run_all, withheld_drops
from db_tsql_apply import apply_tsql

def _sqlite_case(current: str, desired: str, case: dict) -> str:
    """Build `current` with SQLite's own script runner, let Shipyard migrate it through ODBC,
    then compare the engine's description with a database built straight from `desired`."""
    with tempfile.TemporaryDirectory() as d:
        migrated, wanted = Path(d) / "a.db", Path(d) / "b.db"
        oracle.load(migrated, current)
        oracle.load(wanted, desired)
        conn = connect(DbUrl("sqlite", str(migrated)))
        try:
            plan = diff(introspect(conn, "sqlite"), from_text(desired, "sqlite"))
            if withheld_drops(case, plan):
                return ""
            run_script(conn, render(plan))
            left = diff(introspect(conn, "sqlite"), from_text(desired, "sqlite")).changes
        finally:
            conn.close()
        if left:
            return f"re-diff not empty: {', '.join(c.describe() for c in left)[:150]}"
        found = oracle.differences(oracle.describe(migrated), oracle.describe(wanted))
    return f"engine differs: {'; '.join(found)[:300]}" if found else ""


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
    check_floors("sqlite3def", outcomes)


def test_sqldef_mssql_cases_parsed_back_and_rediffed() -> None:
    outcomes = run_all("mssqldef", _mssql_case)
    print(report(outcomes))
    check_floors("mssqldef", outcomes)
