"""Fixtures every test area shares."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory) -> Path:
    """One pip wheel cache per test session: the example site's wheels download once."""
    return Path(os.environ.get("SHIPYARD_TEST_WHEEL_CACHE") or tmp_path_factory.mktemp("wheels"))


@pytest.fixture(scope="session", autouse=True)
def tsql_second_parser_gate():
    """Every T-SQL script any test renders is also read by Microsoft's own T-SQL parser at the
    target's compatibility level (tests/tsql_parsers.py); sqlglot reads it inside Shipyard."""
    from deploy.db.render import tsql
    from deploy.db.render.tsql_script import expected_batches
    from deploy.db.tsql_target import SqlServerTarget
    from tests.tsql_parsers import STATS, gate

    original = tsql.TsqlRenderer.script_text

    def gated(self, script):  # noqa: ANN001, ANN202
        text = original(self, script)  # sqlglot has read it by now (deploy/db/render/verify.py)
        STATS["sqlglot"] += 1
        level = SqlServerTarget(script.server_version or "2016").compatibility_level
        gate(text, level, [None if b.verbatim else b.statements for b in expected_batches(script)])
        return text

    tsql.TsqlRenderer.script_text = gated
    yield
    tsql.TsqlRenderer.script_text = original


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    from tests.tsql_parsers import STATS

    if STATS["sqlglot"] or STATS["scripts"]:
        terminalreporter.write_line(
            f"T-SQL parser gate: {STATS['sqlglot']} scripts read by sqlglot, {STATS['scripts']} by Microsoft.SqlServer."
            f"SqlParser ({STATS['passed']} passed, {STATS['rejected']} rejected)")
