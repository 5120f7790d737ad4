"""The parse-back check for the dialects without batches (PostgreSQL, SQLite): the same
check the T-SQL renderer runs on every script, offered to the other renderers."""

from __future__ import annotations

import pytest

from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.errors import RenderError
from deploy.db.render import render
from deploy.db.render.verify import Expected, check_statements, statement_keywords, tsql_segments

from tests.unit.db.test_db_golden import FIXTURES, _source


@pytest.mark.parametrize("dialect", ["postgres", "sqlite"])
def test_golden_scripts_hold_the_statements_written(dialect: str) -> None:
    for case in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and _source(p, "desired", dialect)):
        script = render(diff(from_text(_source(case, "current", dialect) or "", dialect),
                             from_text(_source(case, "desired", dialect), dialect)))
        for step in script.statements:
            check_statements(step.sql + ";", [Expected(step.sql, step.statements, step.verbatim)], dialect)


@pytest.mark.parametrize(("sql", "dialect"), [
    ("UPDATE t SET a = 'x'; DROP TABLE y; --'", "postgres"),
    ("INSERT INTO t (a) VALUES ('x') DROP TABLE y", "sqlite"),
    ("UPDATE t SET a = 'x' WHERE b = '' OR 1=1; DELETE FROM t", "postgres"),
])
def test_an_injected_statement_fails(sql: str, dialect: str) -> None:
    with pytest.raises(RenderError):
        check_statements(sql, [Expected(sql)], dialect)


def test_segments_and_keywords() -> None:
    assert tsql_segments("IF 1 = 1 BEGIN PRINT N'a;b'; SET NOEXEC ON; END; BEGIN TRANSACTION;") == [
        "IF 1 = 1 BEGIN PRINT N'a;b' ; SET NOEXEC ON ; END", "BEGIN TRANSACTION"]
    assert statement_keywords("ALTER TABLE t DROP COLUMN c") == []
    assert statement_keywords("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (a) ON DELETE CASCADE") == []
    assert statement_keywords("EXEC sp_rename N'a', N'b' DROP TABLE x") == ["DROP"]
