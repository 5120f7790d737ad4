import pytest

from deploy.db.changes import widening
from deploy.db.deploy_step import rollback_blockers
from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.errors import SqlFileError
from deploy.db.model import Schema
from deploy.db.renames import Rename


def test_json_round_trip() -> None:
    s = from_text("create table a (id int primary key, b varchar(3) default 'x' check (b <> ''));"
                  "create index ia on a (b) where b is not null; create view v as select 1", "postgres")
    again = Schema.from_json(s.to_json())
    assert again.to_json() == s.to_json() and not diff(s, again).changes


def test_syntax_error_names_file_and_line() -> None:
    with pytest.raises(SqlFileError) as e:
        from_text("create table a (id int);\n\ncreate table b (id int,, x int);", "postgres", file="sql/schema/x.sql")
    assert str(e.value).startswith("sql/schema/x.sql:3:") and "create table b" in str(e.value)


def test_rename_needs_a_hint() -> None:
    old = from_text("create table a (id int, fullname text)", "postgres")
    new = from_text("create table a (id int, full_name text)", "postgres")
    assert [c.kind for c in diff(old, new).changes] == ["add_column", "drop_column"]
    hinted = diff(old, new, [Rename.parse("column:a.fullname=full_name", "postgres")])
    assert [c.kind for c in hinted.changes] == ["rename_column"]


@pytest.mark.parametrize(("old", "new", "wider"), [
    ("varchar(10)", "varchar(20)", True), ("varchar(20)", "varchar(10)", False), ("integer", "bigint", True),
    ("bigint", "integer", False), ("numeric(10,2)", "numeric(12,2)", True), ("numeric(10,2)", "numeric(10,3)", False),
    ("varchar(10)", "text", True), ("nvarchar(10)", "nvarchar(max)", True),
])
def test_widening(old: str, new: str, wider: bool) -> None:
    assert widening(old, new) is wider


def test_rollback_blockers_name_what_old_code_misses() -> None:
    old = from_text("create table a (id int, legacy text); create view v as select id from a", "postgres").to_json()
    new = from_text("create table a (id int, extra text not null)", "postgres").to_json()
    blockers = rollback_blockers(new, old)
    assert "column public.a.legacy is gone" in blockers and "public.v is gone" in blockers
    assert any("extra" in b for b in blockers)
    expand = from_text("create table a (id int, legacy text, more text); create view v as select id from a", "postgres").to_json()
    assert rollback_blockers(expand, old) == []


def test_a_change_a_dialect_cannot_express_fails_the_whole_render() -> None:
    from deploy.db.errors import RenderError
    from deploy.db.render import render

    old = from_text("CREATE TABLE t (id int NOT NULL, n int)", "tsql")
    new = from_text("CREATE TABLE t (id int IDENTITY(1,1) NOT NULL, n bigint)", "tsql")
    with pytest.raises(RenderError, match="IDENTITY"):
        render(diff(old, new))


def test_db_config_is_validated() -> None:
    from deploy.config import parse
    from deploy.errors import ConfigError

    ok = parse('[env.p]\ndatabase = "sqlite:///x.db"\n[env.p.db]\ndeploy_steps = ["migrate", "sync"]\n', "shipyard.toml")
    assert ok.env["p"].db.deploy_steps == ["migrate", "sync"] and ok.env["p"].db.password_secret == "DB_PASSWORD"
    with pytest.raises(ConfigError, match=r"env.p.db.deploy_step: unknown key"):
        parse('[env.p]\n[env.p.db]\ndeploy_step = ["sync"]\n', "shipyard.toml")
    with pytest.raises(ConfigError, match=r"env.p.db.deploy_steps\[0\]: 'seed' is not one of migrate, sync"):
        parse('[env.p]\n[env.p.db]\ndeploy_steps = ["seed"]\n', "shipyard.toml")


def test_rename_hints_read_quoted_names_as_one_part() -> None:
    from deploy.db.model import QName

    hint = Rename.parse('column:"a.t"."first name"=given_name', "sqlite")
    assert (hint.table, hint.column, hint.new) == (QName(None, "a.t"), "first name", "given_name")
    moved = Rename.parse("table:sales.old=new", "postgres")
    assert (moved.table, moved.new) == (QName("sales", "old"), QName("sales", "new"))
    old = from_text('create table "a.t" (id int, "first name" text); create table t (id int)', "sqlite")
    new = from_text('create table "a.t" (id int, given_name text); create table t (id int)', "sqlite")
    assert [c.kind for c in diff(old, new, [hint]).changes] == ["rename_column"]
    with pytest.raises(Exception, match="a column hint names its table"):
        Rename.parse("column:x=y", "sqlite")


def test_snapshots_recorded_before_qualified_pairs_still_load() -> None:
    from deploy.db.model import QName

    legacy = {"dialect": "postgres", "tables": [{"name": "public.a.t", "columns": [{"name": "id", "type": "integer"}],
                                                 "foreign_keys": [{"name": None, "columns": ["id"], "ref_table": "public.a.t",
                                                                   "ref_columns": ["id"]}]}],
              "indexes": [{"name": "ix", "table": "public.a.t", "columns": ["id", "lower(x)"]}]}
    schema = Schema.from_json(legacy)
    table = schema.table(QName("public", "a.t"))
    assert table is not None and table.foreign_keys[0].ref_table == QName("public", "a.t")
    assert [p.column or p.expression for p in next(iter(schema.indexes.values())).columns] == ["id", "lower(x)"]
