"""Golden files: tests/fixtures/db/<case>/{current,desired}[.<dialect>].sql -> expected.<dialect>.sql.
Set SHIPYARD_UPDATE_GOLDEN=1 to rewrite the expected files after reviewing a change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.render import render
from deploy.db.sqltext import split_statements

FIXTURES = Path(__file__).parents[2] / "fixtures" / "db"
DIALECTS = ("postgres", "sqlite", "tsql")


def _source(case: Path, side: str, dialect: str) -> str | None:
    for name in (f"{side}.{dialect}.sql", f"{side}.sql"):
        if (case / name).is_file():
            return (case / name).read_text()
    return None


def _cases() -> list[tuple[str, str]]:
    out = []
    for case in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for d in DIALECTS:
            if _source(case, "desired", d) is not None:
                out.append((case.name, d))
    return out


def _plan(case: str, dialect: str):
    path = FIXTURES / case
    return diff(from_text(_source(path, "current", dialect) or "", dialect), from_text(_source(path, "desired", dialect), dialect))


@pytest.mark.parametrize(("case", "dialect"), _cases())
def test_golden(case: str, dialect: str) -> None:
    text = render(_plan(case, dialect)).text()
    expected = FIXTURES / case / f"expected.{dialect}.sql"
    if os.environ.get("SHIPYARD_UPDATE_GOLDEN"):
        expected.write_text(text)
    assert text == expected.read_text()


@pytest.mark.parametrize(("case", "dialect"), [c for c in _cases() if c[1] == "tsql"])
def test_tsql_output_parses_as_tsql(case: str, dialect: str) -> None:
    """No SQL Server here: the text is read back by sqlglot inside render (and by Microsoft's
    parser, tests/conftest.py); here: Microsoft's parser on its own, batch by batch."""
    from tests.tsql_parsers import parse

    text = render(_plan(case, dialect)).text()
    assert text.count("\nGO\n") >= 3
    errors, counts = parse(text.replace(":on error exit", ""), 130)
    assert errors == [] and all(c >= 1 for c in counts if c)


@pytest.mark.parametrize(("case", "dialect"), _cases())
def test_applying_the_plan_in_memory_reaches_desired(case: str, dialect: str) -> None:
    """Re-read the rendered DDL on top of the desired side's statements: the plan's creates
    must describe the desired objects (a cheap check of CREATE rendering for every dialect)."""
    plan = _plan(case, dialect)
    for change in plan.changes:
        if change.kind == "create_table":
            created = from_text(render_one(change, plan, dialect), dialect)
            assert not diff(created, _only_table(plan.desired, change.new.name)).changes


def render_one(change, plan, dialect):
    from deploy.db.render import renderer

    return renderer(dialect).create_table_sql(change.new, inline_fks=True) + (";" if dialect != "tsql" else "")


def _only_table(schema, name):
    from deploy.db.model import Schema

    out = Schema(schema.dialect)
    out.add_table(schema.table(name))
    return out


def test_whitespace_only_procedure_change_is_no_change() -> None:
    from deploy.db.diff import routine_key

    plan = _plan("procedure_and_trigger", "tsql")
    key = ("procedure", ("dbo", "get_account"))
    assert routine_key(plan.current.routines[key]) == routine_key(plan.desired.routines[key])
    assert "dbo.get_account" not in {c.target for c in plan.changes}  # adding a column breaks no reader
    assert {c.target for c in plan.changes if c.kind == "create_routine"} == {"dbo.touch_account", "dbo.account_touch"}


def test_destructive_changes_are_flagged() -> None:
    plan = _plan("drop_and_narrow", "postgres")
    assert sorted(c.describe() for c in plan.destructive) == [
        "alter_column public.person.name", "drop_column public.person.nickname", "drop_table public.legacy"]
    assert plan.classification == "contract"


def test_views_on_a_changed_table_are_dropped_first_and_recreated_in_order() -> None:
    kinds = [(c.kind, c.target) for c in _plan("view_on_changed_table", "postgres").changes]
    assert kinds[:2] == [("drop_routine", "public.item_count"), ("drop_routine", "public.item_names")]
    assert kinds[-2:] == [("create_routine", "public.item_names"), ("create_routine", "public.item_count")]


def test_go_batches_split() -> None:
    stmts = split_statements("CREATE TABLE a (x int)\nGO\nCREATE PROCEDURE p AS\nSELECT 1;\nSELECT 2;\nGO\n", "tsql")
    assert [s.batch for s in stmts] == [0, 1]
    assert stmts[1].text.endswith("SELECT 2")
