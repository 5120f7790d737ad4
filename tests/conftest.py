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

    from deploy.db.data import script as data_script

    original_data = data_script.text_chunks

    def gated_data(diff, dialect, *args, **kwargs):  # noqa: ANN001, ANN202 - reference-data scripts too
        if dialect != "tsql":
            return original_data(diff, dialect, *args, **kwargs)  # streamed (the memory-bound test relies on it)
        chunks = list(original_data(diff, dialect, *args, **kwargs))
        STATS["sqlglot"] += 1
        version = kwargs.get("server_version") or (args[1] if len(args) > 1 else None) or "2016"
        gate("".join(chunks), SqlServerTarget(version).compatibility_level)
        return iter(chunks)

    tsql.TsqlRenderer.script_text = gated
    data_script.text_chunks = gated_data
    yield
    tsql.TsqlRenderer.script_text = original
    data_script.text_chunks = original_data


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    from tests.tsql_parsers import STATS

    if STATS["sqlglot"] or STATS["scripts"]:
        terminalreporter.write_line(
            f"T-SQL parser gate: {STATS['sqlglot']} scripts read by sqlglot, {STATS['scripts']} by Microsoft.SqlServer."
            f"SqlParser ({STATS['passed']} passed, {STATS['rejected']} rejected)")
