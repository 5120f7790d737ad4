"""Names are data: a hostile name never becomes a statement (issue 11 §7), and the parse-back
check fails a script whose statements are not the ones the renderer wrote. Plus ALTER COLUMN
the long way SQL Server needs (error 5074), collations kept, NULL -> NOT NULL backfilled."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.errors import RenderError
from deploy.db.model import QName
from deploy.db.render import render
from deploy.db.render import tsql_script
from deploy.db.renames import Rename
from tests.integration.db.db_tsql_apply import apply_tsql
from tests.tsql_parsers import parse

HOSTILE = "x'; DROP TABLE dbo.victim; --"


def _rename_script(new_name: str) -> str:
    current = from_text("CREATE TABLE dbo.t (id int NOT NULL, old int NULL)\nGO\nCREATE TABLE dbo.victim (id int)\nGO\n", "tsql")
    q = "[" + new_name.replace("]", "]]") + "]"
    desired = from_text(f"CREATE TABLE dbo.t (id int NOT NULL, {q} int NULL)\nGO\nCREATE TABLE dbo.victim (id int)\nGO\n", "tsql")
    return render(diff(current, desired, [Rename("column", QName("dbo", "t"), new_name, "old")])).text()


def _statements(text: str) -> list[str]:
    """Microsoft's parser: the statement kinds of every batch (independent of Shipyard)."""
    from tests.tsql_parsers import _load

    parser, options_type, _, _ = _load()
    options = options_type()
    options.BatchSeparator = "GO"
    result = parser.Parse(text.replace(":on error exit", ""), options)
    return [type(s).__name__ for b in result.Script.Batches for s in b.Statements]


def test_a_hostile_rename_target_is_one_literal() -> None:
    text = _rename_script(HOSTILE)
    assert "EXEC sp_rename N'[dbo].[t].[old]', N'x''; DROP TABLE dbo.victim; --', N'COLUMN';" in text
    kinds = _statements(text)
    assert "SqlDropTableStatement" not in kinds and kinds.count("SqlExecuteModuleStatement") == 1


def test_an_unescaped_literal_fails_the_parse_back_check(monkeypatch) -> None:
    """Break the escaping on purpose: the injected DROP TABLE must fail the render."""
    from deploy.db.render import tsql

    monkeypatch.setattr(tsql, "literal", lambda v: "N'" + v + "'")
    with pytest.raises(RenderError, match="statement"):
        _rename_script(HOSTILE)


def test_an_unescaped_name_without_semicolon_fails_the_check(monkeypatch) -> None:
    """No `;` to split on: the second statement keyword inside one statement gives it away."""
    from deploy.db.render import tsql

    monkeypatch.setattr(tsql, "quote_name", lambda v: "[" + v + "]")
    current = from_text("CREATE TABLE dbo.t (id int NOT NULL)\nGO\n", "tsql")
    desired = from_text("CREATE TABLE dbo.t (id int NOT NULL, [a]] int NULL DROP TABLE [dbo]].[victim] int NULL)\nGO\n", "tsql")
    with pytest.raises(RenderError):
        render(diff(current, desired)).text()


NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(lambda s: s.strip() == s)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES)
def test_any_name_stays_one_statement(name: str) -> None:
    """Quotes, brackets, semicolons, GO, unicode: the script holds exactly the statements written
    (both parsers), and applying it reaches the desired model."""
    text = _rename_script(name)
    errors, _ = parse(text.replace(":on error exit", ""), 130)
    assert errors == []
    kinds = _statements(text)
    assert kinds.count("SqlExecuteModuleStatement") == 1 and "SqlDropTableStatement" not in kinds


def test_literals_never_span_lines() -> None:
    assert tsql_script.literal("a\nGO\nb'c") == "N'a' + NCHAR(10) + N'GO' + NCHAR(10) + N'b''c'"
    assert tsql_script.literal("") == "N''"
    with pytest.raises(RenderError, match="line break"):
        tsql_script.quote_name("a\nGO\n")


DEPENDENTS = """
CREATE TABLE dbo.parent (code varchar(10) COLLATE Latin1_General_CS_AS NOT NULL, status int NULL CONSTRAINT DF__parent__status__3B75D760 DEFAULT (0),
  label AS (code + 'x'), CONSTRAINT pk_parent PRIMARY KEY (code), CONSTRAINT ck_code CHECK (len(code) > 0))
GO
CREATE TABLE dbo.child (id int NOT NULL PRIMARY KEY, parent_code varchar(10) NOT NULL,
  CONSTRAINT fk_child_parent FOREIGN KEY (parent_code) REFERENCES dbo.parent (code))
GO
CREATE INDEX ix_parent_status ON dbo.parent (status, code)
GO
CREATE INDEX ix_parent_label ON dbo.parent (label)
GO
CREATE VIEW dbo.parent_codes WITH SCHEMABINDING AS SELECT code FROM dbo.parent
GO
"""


def test_altering_a_key_column_drops_and_recreates_its_dependents_in_order() -> None:
    current = from_text(DEPENDENTS, "tsql")
    desired = from_text(DEPENDENTS.replace("code varchar(10) COLLATE", "code varchar(20) COLLATE")
                        .replace("parent_code varchar(10)", "parent_code varchar(20)"), "tsql")
    text = render(diff(current, desired)).text()
    order = [line for line in text.splitlines() if line.startswith(("ALTER TABLE", "DROP", "CREATE", "IF OBJECT_ID", "UPDATE"))]
    at = {key: next(i for i, line in enumerate(order) if key in line) for key in (
        "DROP VIEW", "DROP CONSTRAINT [fk_child_parent]", "DROP CONSTRAINT [pk_parent]", "DROP CONSTRAINT [ck_code]",
        "DROP INDEX IF EXISTS [ix_parent_status]", "DROP COLUMN [label]", "ALTER COLUMN [code] varchar(20) COLLATE Latin1_General_CS_AS NOT NULL",
        "ADD CONSTRAINT [pk_parent] PRIMARY KEY", "CREATE INDEX [ix_parent_status]", "CREATE INDEX [ix_parent_label]",
        "ADD CONSTRAINT [fk_child_parent]", "CREATE OR ALTER VIEW dbo.parent_codes")}
    alter = at["ALTER COLUMN [code] varchar(20) COLLATE Latin1_General_CS_AS NOT NULL"]
    assert all(at[k] < alter for k in at if "DROP" in k)
    assert alter < at["ADD CONSTRAINT [pk_parent] PRIMARY KEY"] < at["CREATE INDEX [ix_parent_status]"] < at["ADD CONSTRAINT [fk_child_parent]"]
    assert at["CREATE INDEX [ix_parent_label]"] > alter and at["CREATE OR ALTER VIEW dbo.parent_codes"] > at["ADD CONSTRAINT [fk_child_parent]"]
    assert not diff(apply_tsql(current, text), desired).changes


def test_collation_is_kept_when_only_the_type_changes() -> None:
    current = from_text("CREATE TABLE dbo.t (a varchar(10) COLLATE Latin1_General_CS_AS NULL)\nGO\n", "tsql")
    desired = from_text("CREATE TABLE dbo.t (a varchar(30) NULL)\nGO\n", "tsql")
    assert "ALTER COLUMN [a] varchar(30) COLLATE Latin1_General_CS_AS NULL;" in render(diff(current, desired)).text()


def test_null_to_not_null_with_a_default_backfills_first() -> None:
    current = from_text("CREATE TABLE dbo.t (id int NOT NULL, s int NULL)\nGO\n", "tsql")
    desired = from_text("CREATE TABLE dbo.t (id int NOT NULL, s int NOT NULL DEFAULT (7), n int NOT NULL DEFAULT (1))\nGO\n", "tsql")
    text = render(diff(current, desired)).text()
    assert text.index("UPDATE [dbo].[t] SET [s] = (7) WHERE [s] IS NULL;") < text.index("ALTER COLUMN [s] int NOT NULL;")
    assert "ADD [n] int NOT NULL CONSTRAINT [DF_t_n] DEFAULT (1);" in text  # filled in the same statement


def test_a_live_default_is_dropped_by_its_real_name() -> None:
    current = from_text(DEPENDENTS, "tsql")
    desired = from_text(DEPENDENTS.replace("CONSTRAINT DF__parent__status__3B75D760 DEFAULT (0)", "DEFAULT (1)"), "tsql")
    text = render(diff(current, desired)).text()
    assert "DROP CONSTRAINT [DF__parent__status__3B75D760];" in text and "DF_parent_status" in text


def test_quoted_index_columns_with_spaces_and_quotes() -> None:
    desired = from_text("CREATE TABLE dbo.p ([first name] varchar(10) NULL, [o'brien] int NULL, [a]]b] int NULL)\nGO\n"
                        "CREATE INDEX ix ON dbo.p ([first name], [o'brien] DESC, [a]]b])\nGO\n", "tsql")
    text = render(diff(from_text("CREATE TABLE dbo.p ([first name] varchar(10) NULL, [o'brien] int NULL, [a]]b] int NULL)\nGO\n",
                                 "tsql"), desired)).text()
    assert "CREATE INDEX [ix] ON [dbo].[p] ([first name], [o'brien] DESC, [a]]b]);" in text
