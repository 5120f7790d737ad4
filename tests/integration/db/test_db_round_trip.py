"""Golden cases and the example site's sql/ on real PostgreSQL 15 and SQLite: apply the
current side, sync to the desired side, re-introspect, re-diff: nothing may remain."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.db.desired import from_directory, from_text, schema_files
from deploy.db.errors import StatementFailed
from deploy.db.execute import run_script
from deploy.db.connect import connect
from deploy.db.render.base import Script, Step

from db_live_helpers import live, remaining, sync, want

ROOT = Path(__file__).parents[3]
CASES = ROOT / "tests" / "fixtures" / "db"
PORTABLE = sorted(p.name for p in CASES.iterdir() if (p / "desired.sql").is_file())


@pytest.fixture(params=["pg_url", "sqlite_url"])
def url(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("case", PORTABLE)
def test_golden_case_round_trips(url, case: str) -> None:
    current = (CASES / case / "current.sql").read_text()
    sync(url, want(url, current))
    assert remaining(url, want(url, current)) == []
    desired = want(url, (CASES / case / "desired.sql").read_text())
    plan = sync(url, desired)
    assert plan.changes
    assert remaining(url, desired) == []


def test_example_site_schema_round_trips(url) -> None:
    text = "\n".join(p.read_text() for p in schema_files(ROOT / "sql" / "schema"))
    desired = want(url, text) if url.dialect == "postgres" else from_directory(ROOT / "sql" / "schema", url.dialect)
    sync(url, desired)
    assert remaining(url, desired) == []
    assert {"author", "post"} <= _table_names(live(url))


def test_failed_statement_rolls_back_everything_and_names_it(url) -> None:
    script = Script(url.dialect, steps=[Step("CREATE TABLE first_one (id integer)"), Step("CREATE TABLE broken (id nosuchtype(")])
    conn = connect(url)
    try:
        with pytest.raises(StatementFailed) as e:
            run_script(conn, script)
    finally:
        conn.close()
    assert e.value.batch == 2 and "broken" in e.value.statement and e.value.server_message
    assert _table_names(live(url)) == set()


def _table_names(schema) -> set[str]:
    if hasattr(schema, "objects"):
        return {k[2] for k in schema.objects if k[0] == "table"}
    return {t.name.name for t in schema.tables.values()}


def test_data_survives_a_sqlite_rebuild(sqlite_url) -> None:
    sync(sqlite_url, from_text("create table t (id integer primary key, a varchar(10), b integer)", "sqlite"))
    conn = connect(sqlite_url)
    conn.execute("insert into t values (1, 'x', 2)")
    conn.commit()
    conn.close()
    sync(sqlite_url, from_text("create table t (id integer primary key, a varchar(20) not null, c text default 'q')", "sqlite"))
    conn = connect(sqlite_url)
    assert [tuple(r) for r in conn.execute("select id, a, c from t").fetchall()] == [(1, "x", "q")]
    conn.close()


def test_pg_view_drift_is_detected(pg_url) -> None:
    desired = want(pg_url, "create table t (id int); create view v as select id from t")
    sync(pg_url, desired)
    assert remaining(pg_url, desired) == []
    conn = connect(pg_url)
    conn.execute("create or replace view v as select id from t where id > 0")
    conn.commit()
    conn.close()
    assert remaining(pg_url, desired) == ["replace_view public.v"]
    sync(pg_url, desired)
    assert remaining(pg_url, desired) == []


def test_renames_with_hints_keep_the_data(url) -> None:
    from deploy.db.compare import plan as diff
    from deploy.db.execute import run_script
    from deploy.db.introspect import introspect
    from deploy.db.render import render
    from deploy.db.renames import Rename

    d = url.dialect
    sync(url, want(url, "create table person (id integer primary key, fullname varchar(50));"
                        "create index person_name_idx on person (fullname);"
                        "create table pet (id integer primary key, owner integer references person (id))"))
    conn = connect(url)
    conn.execute("insert into person values (1, 'Ada')")
    conn.execute("insert into pet values (7, 1)")
    conn.commit()
    desired = want(url, "create table people (id integer primary key, full_name varchar(50));"
                        "create index person_name_idx on people (full_name);"
                        "create table pet (id integer primary key, owner integer references people (id), "
                        "name varchar(20) not null default 'x')")
    hints = [Rename.parse("table:person=people", d), Rename.parse("column:people.fullname=full_name", d)]
    plan = diff(introspect(conn, d), desired, hints)
    assert not plan.destructive and plan.classification == "contract"
    run_script(conn, render(plan))
    assert [tuple(r) for r in conn.execute("select id, full_name from people").fetchall()] == [(1, "Ada")]
    assert [tuple(r) for r in conn.execute("select id, owner, name from pet").fetchall()] == [(7, 1, "x")]
    conn.close()
    assert remaining(url, desired) == []


def test_rename_and_retype_one_column(url) -> None:
    """On SQLite the retype is a rebuild that runs after the rename: the rows must follow."""
    from deploy.db.compare import plan as diff
    from deploy.db.execute import run_script
    from deploy.db.introspect import introspect
    from deploy.db.render import render
    from deploy.db.renames import Rename

    d = url.dialect
    sync(url, want(url, "create table person (id integer primary key, fullname varchar(50))"))
    conn = connect(url)
    conn.execute("insert into person values (1, 'Ada')")
    conn.commit()
    desired = want(url, "create table person (id integer primary key, full_name varchar(80) not null)")
    plan = diff(introspect(conn, d), desired, [Rename.parse("column:person.fullname=full_name", d)])
    assert [c.kind for c in plan.changes] == ["rename_column", "alter_column"]
    run_script(conn, render(plan))
    assert [tuple(r) for r in conn.execute("select id, full_name from person").fetchall()] == [(1, "Ada")]
    conn.close()
    assert remaining(url, desired) == []


PG_PROGRAMMABLE = """
CREATE SCHEMA audit;
CREATE SEQUENCE audit.ticket START WITH 100 INCREMENT BY 5;
CREATE TABLE audit.log (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, msg text NOT NULL,
    at timestamp with time zone DEFAULT now(), status varchar(10) CHECK (status IN ('new', 'done')));
CREATE FUNCTION audit.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER log_stamp BEFORE INSERT ON audit.log FOR EACH ROW EXECUTE FUNCTION audit.stamp();
CREATE INDEX log_msg_hash ON audit.log USING hash (msg);
CREATE VIEW audit.recent AS SELECT id, msg FROM audit.log WHERE at > now() - interval '1 day';
"""


def test_pg_schemas_sequences_functions_triggers_round_trip(pg_url) -> None:
    desired = want(pg_url, PG_PROGRAMMABLE)
    sync(pg_url, desired)
    assert remaining(pg_url, desired) == []
    changed = want(pg_url, PG_PROGRAMMABLE.replace("NEW.at := now();", "NEW.at := now();  NEW.msg := upper(NEW.msg);"))
    assert remaining(pg_url, changed) == ["alter_function audit.stamp()"]  # CREATE OR REPLACE: the trigger stays
    sync(pg_url, changed)
    assert remaining(pg_url, changed) == []
    btree = want(pg_url, PG_PROGRAMMABLE.replace("USING hash ", ""))
    assert "replace_index audit.log_msg_hash" in remaining(pg_url, btree)  # the access method counts
    conn = connect(pg_url)
    conn.execute("INSERT INTO audit.log (msg) VALUES ('hi')")
    assert conn.execute("SELECT msg FROM audit.log").fetchone()[0] == "HI"
    conn.close()


def test_sqlite_rebuild_of_a_parent_keeps_children_and_checks_keys(sqlite_url) -> None:
    sync(sqlite_url, from_text("create table owner (id integer primary key, name varchar(10));"
                               "create table pet (id integer primary key, owner_id integer references owner (id) on delete cascade, "
                               "tag integer)", "sqlite"))
    conn = connect(sqlite_url)
    conn.execute("insert into owner values (1, 'a')")
    conn.execute("insert into pet values (1, 1, 99)")
    conn.execute("insert into pet values (2, NULL, 42)")
    conn.commit()
    conn.close()
    sync(sqlite_url, from_text("create table owner (id integer primary key, name varchar(40) not null);"
                               "create table pet (id integer primary key, owner_id integer references owner (id) on delete cascade, "
                               "tag integer)", "sqlite"))
    conn = connect(sqlite_url)
    assert conn.execute("select count(*) from pet").fetchone()[0] == 2  # no cascade during the rebuild
    conn.execute("update pet set tag = 1")  # make tag point at no owner once it becomes a key
    conn.execute("delete from owner")
    conn.commit()
    conn.close()
    orphaned = from_text("create table owner (id integer primary key, name varchar(40) not null);"
                         "create table pet (id integer primary key, owner_id integer, tag integer references owner (id))", "sqlite")
    with pytest.raises(StatementFailed, match="foreign key check"):
        sync(sqlite_url, orphaned)
    assert [c for c in remaining(sqlite_url, orphaned)]  # rolled back: still the old shape
