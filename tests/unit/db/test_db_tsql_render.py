"""T-SQL rendering per target version, and the statements SQL Server refuses unless done the
long way. Every script rendered here is also read by Microsoft's parser at the target's
compatibility level (tests/conftest.py); these tests add what each construct must be."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.errors import RenderError
from deploy.db.model import QName, Schema
from deploy.db.render import render
from deploy.db.tsql_target import SqlServerTarget
from tests.tsql_parsers import parse

VERSIONS = Path(__file__).parents[2] / "fixtures" / "db_tsql_versions"


def _plan(current: str, desired: str):
    return diff(from_text(current, "tsql"), from_text(desired, "tsql"))


def _text(current: str, desired: str, version: str) -> str:
    return render(_plan(current, desired), server_version=version).text()


@pytest.mark.parametrize("version", ["2014", "2016"])
def test_golden_per_version_boundary(version: str) -> None:
    """2016 (SP1) is the boundary of CREATE OR ALTER and DROP ... IF EXISTS."""
    case = VERSIONS / "modules"
    text = _text((case / "current.sql").read_text(), (case / "desired.sql").read_text(), version)
    expected = case / f"expected.{version}.sql"
    if os.environ.get("SHIPYARD_UPDATE_GOLDEN"):
        expected.write_text(text)
    assert text == expected.read_text()


def test_before_2016_modules_are_a_placeholder_then_alter() -> None:
    case = VERSIONS / "modules"
    text = _text((case / "current.sql").read_text(), (case / "desired.sql").read_text(), "2014")
    assert "CREATE OR ALTER" not in text and "IF EXISTS" not in text.replace("IF EXISTS (SELECT 1 FROM sys.indexes", "")
    assert "IF OBJECT_ID(N'[dbo].[get_account]') IS NULL EXEC(N'CREATE PROCEDURE [dbo].[get_account] AS RETURN 0');" in text
    assert "RETURNS TABLE AS RETURN SELECT 1 AS [placeholder]" in text  # an inline TVF's placeholder is an inline TVF
    assert "ALTER PROCEDURE dbo.get_account @id int AS" in text
    assert "IF OBJECT_ID(N'[dbo].[account_touch]', N'TR') IS NOT NULL DROP TRIGGER [dbo].[account_touch];" in text
    errors, _ = parse(text.replace(":on error exit", ""), 120)
    assert errors == []


def test_from_2016_create_or_alter_and_drop_if_exists() -> None:
    case = VERSIONS / "modules"
    text = _text((case / "current.sql").read_text(), (case / "desired.sql").read_text(), "2016")
    assert "CREATE OR ALTER VIEW dbo.account_names" in text and "DROP TABLE IF EXISTS [dbo].[legacy];" in text
    assert "DROP INDEX IF EXISTS [ix_account_name] ON [dbo].[account];" in text
    errors, _ = parse(text.replace(":on error exit", ""), 120)  # the same text is not T-SQL for 2014
    assert any("OR" in e or "IF" in e for e in errors)


def test_each_module_is_alone_in_its_batch_after_its_settings() -> None:
    text = _text("", "CREATE VIEW v1 AS SELECT 1 AS N;\nCREATE VIEW v2 AS SELECT 2 AS N;\n", "2016")
    batches = [b.strip() for b in text.split("\nGO\n")]
    for name in ("v1", "v2"):
        at = next(i for i, b in enumerate(batches) if b.startswith(f"CREATE OR ALTER VIEW {name}"))
        assert batches[at - 1] == "SET ANSI_NULLS ON;\nSET QUOTED_IDENTIFIER ON;"
        assert batches[at].count("CREATE") == 1


@pytest.mark.parametrize(("version", "ok"), [("2008R2", False), ("2012", True)])
def test_sequences_from_2012(version: str, ok: bool) -> None:
    plan = _plan("", "CREATE SEQUENCE dbo.seq START WITH 5 INCREMENT BY 1\nGO\n")
    if ok:
        assert "CREATE SEQUENCE [dbo].[seq] START WITH 5 INCREMENT BY 1;" in render(plan, server_version=version).text()
    else:
        with pytest.raises(RenderError, match="sequences need SQL Server 2012"):
            render(plan, server_version=version)


@pytest.mark.parametrize(("version", "ok"), [("2016", False), ("2017", True)])
def test_newer_functions_are_refused_for_older_targets(version: str, ok: bool) -> None:
    plan = _plan("CREATE TABLE dbo.t (a nvarchar(10) NULL)\nGO\n", "CREATE TABLE dbo.t (a nvarchar(10) NULL)\nGO\n"
                 "CREATE VIEW dbo.v AS SELECT STRING_AGG(TRIM(a), N',') AS s FROM dbo.t\nGO\n")
    if ok:
        assert "STRING_AGG" in render(plan, server_version=version).text()
    else:
        with pytest.raises(RenderError, match="uses STRING_AGG, which needs SQL Server 2017"):
            render(plan, server_version=version)


@pytest.mark.parametrize("version", ["2012", "2014"])
def test_inline_index_is_read_as_an_index_and_written_as_create_index(version: str) -> None:
    desired = from_text("CREATE TABLE dbo.u (id int NOT NULL, email varchar(255), INDEX ix_email (email))\nGO\n", "tsql")
    assert [c.name for c in desired.table(QName("dbo", "u")).columns] == ["id", "email"]
    assert list(desired.indexes) == [(("dbo", "u"), "ix_email")]
    text = render(diff(Schema("tsql"), desired), server_version=version).text()
    assert "CREATE INDEX [ix_email] ON [dbo].[u] ([email]);" in text and "INDEX ix_email" not in text


def test_target_from_reported_versions() -> None:
    assert SqlServerTarget("2008R2").compatibility_level == 100
    with pytest.raises(ValueError):
        SqlServerTarget("2005")


def test_another_dialects_schema_gets_sql_server_types(tmp_path) -> None:
    """The example site's sql/schema (written for PostgreSQL and SQLite) deployed to SQL Server."""
    from deploy.db.typemap import read_desired

    (tmp_path / "s.sql").write_text("CREATE TABLE flag (id serial PRIMARY KEY, on_off boolean NOT NULL, at timestamp,"
                                    " at_tz timestamptz, body text, raw bytea, u uuid);\n")
    schema, notes = read_desired(tmp_path, "tsql", "postgres")
    types = {c.name: (c.type, c.identity) for c in schema.table(QName("dbo", "flag")).columns}
    assert types == {"id": ("int", True), "on_off": ("bit", False), "at": ("datetime2", False), "at_tz": ("datetimeoffset", False),
                     "body": ("nvarchar(max)", False), "raw": ("varbinary(max)", False), "u": ("uniqueidentifier", False)}
    assert notes == ["dbo.flag.body: text read as nvarchar(max) (Unicode, no length limit)"]
    example, _ = read_desired(Path(__file__).parents[3] / "sql" / "schema", "tsql", "postgres")
    render(diff(Schema("tsql"), example), server_version="2008R2").text()  # both parsers read it at level 100


def test_a_type_sql_server_lacks_is_an_error_naming_the_column(tmp_path) -> None:
    from deploy.db.typemap import read_desired
    from deploy.errors import UsageError

    (tmp_path / "s.sql").write_text("CREATE TABLE ev (id int PRIMARY KEY, span interval);\n")
    with pytest.raises(UsageError, match=r"dbo\.ev\.span: type 'interval' has no SQL Server equivalent"):
        read_desired(tmp_path, "tsql", "postgres")


def test_a_bad_server_version_names_the_file_and_key(tmp_path) -> None:
    from deploy import config as cfg
    from deploy.errors import ConfigError

    (tmp_path / "shipyard.toml").write_text('[env.prod]\ndatabase = "mssql://u@h:1433/db"\n[env.prod.db]\nserver_version = "2005"\n')
    with pytest.raises(ConfigError, match=r"env\.prod\.db\.server_version: '2005' is not one of 2008R2"):
        cfg.load(tmp_path / "shipyard.toml")
