"""db.migrate on real PostgreSQL 15 and SQLite: a migration that fails leaves no trace —
not its own changes, not a journal row, not even the journal table on a first run. On a real
MariaDB, which commits every DDL statement, what it guarantees instead: a failure names the
statements that stayed committed, the rows after the last DDL are rolled back, nothing is
journaled. Checked in the engines' own catalogs (sqlite_master, pg_class, information_schema),
not Shipyard's introspection."""

from __future__ import annotations

from pathlib import Path

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy import config as cfg
from deploy.db import deploy_step
from deploy.db.connect import connect
from deploy.db.errors import MigrationPartlyApplied, StatementFailed
from deploy.db.migrate import migrate


@pytest.fixture(params=["pg_url", "sqlite_url"])
def url(request):
    return request.getfixturevalue(request.param)


_PROP = itertools.count()


def tables(url) -> set[str]:
    conn = connect(url)
    try:
        if url.dialect == "sqlite":
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        elif url.dialect == "mysql":
            rows = conn.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
        else:
            rows = conn.execute("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                "WHERE c.relkind = 'r' AND n.nspname = 'public'")
        return {r[0] for r in rows.fetchall()}
    finally:
        conn.close()


def run(url, directory):
    conn = connect(url)
    try:
        return migrate(conn, url.dialect, directory, log=lambda _: None)
    finally:
        conn.close()


def test_a_failing_first_migration_leaves_no_table_at_all(url, tmp_path):
    (tmp_path / "0001_make.sql").write_text("CREATE TABLE made (id integer);\nINSERT INTO nosuch VALUES (1);\n")
    with pytest.raises(StatementFailed, match="nosuch"):
        run(url, tmp_path)
    assert tables(url) == set()


def test_a_failing_later_migration_keeps_the_earlier_ones_and_nothing_of_itself(url, tmp_path):
    (tmp_path / "0001_one.sql").write_text("CREATE TABLE one (id integer);\n")
    (tmp_path / "0002_two.sql").write_text("CREATE TABLE two (id integer);\nINSERT INTO one VALUES (1);\nINSERT INTO nosuch VALUES (1);\n")
    with pytest.raises(StatementFailed):
        run(url, tmp_path)
    assert tables(url) == {"one", "shipyard_migrations"}
    conn = connect(url)
    try:
        assert conn.execute("SELECT count(*) FROM one").fetchone()[0] == 0
        assert [r[0] for r in conn.execute("SELECT name FROM shipyard_migrations").fetchall()] == ["0001_one.sql"]
    finally:
        conn.close()
    (tmp_path / "0002_two.sql").write_text("CREATE TABLE two (id integer);\n")
    assert [m["name"] for m in run(url, tmp_path)] == ["0002_two.sql"]
    assert tables(url) == {"one", "two", "shipyard_migrations"}


@pytest.mark.parametrize("name", ["pg_url", "sqlite_url", "mysql_url"])
def test_nothing_to_apply_creates_nothing(name, request, tmp_path):
    url = request.getfixturevalue(name)
    assert run(url, tmp_path) == []
    assert tables(url) == set()


def _journal(url) -> list[str]:
    conn = connect(url)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM shipyard_migrations ORDER BY version").fetchall()]
    finally:
        conn.close()


def _count(url, table: str) -> int:
    conn = connect(url)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_mariadb_rows_only_migration_that_fails_is_rolled_back_whole(mysql_url, tmp_path):
    """No DDL in the script: InnoDB rolls it back like any transaction; no journal table is left."""
    (tmp_path / "0001_one.sql").write_text("CREATE TABLE one (id integer) ENGINE=InnoDB;\n")
    assert [m["name"] for m in run(mysql_url, tmp_path)] == ["0001_one.sql"]
    (tmp_path / "0002_rows.sql").write_text("INSERT INTO one VALUES (1);\nUPDATE one SET id = 2;\nINSERT INTO nosuch VALUES (1);\n")
    with pytest.raises(StatementFailed, match="nosuch") as failed:
        run(mysql_url, tmp_path)
    assert not isinstance(failed.value, MigrationPartlyApplied)
    assert _count(mysql_url, "one") == 0 and _journal(mysql_url) == ["0001_one.sql"]


def test_mariadb_first_migration_failing_without_ddl_leaves_no_table_at_all(mysql_url, tmp_path):
    (tmp_path / "0001_rows.sql").write_text("SET @a = 1;\nINSERT INTO nosuch VALUES (1);\n")
    with pytest.raises(StatementFailed, match="nosuch"):
        run(mysql_url, tmp_path)
    assert tables(mysql_url) == set()  # the journal made for this run was dropped again


def test_mariadb_first_migration_failing_after_ddl_says_what_stayed_and_journals_nothing(mysql_url, tmp_path):
    (tmp_path / "0001_make.sql").write_text("CREATE TABLE made (id integer) ENGINE=InnoDB;\n"
                                            "INSERT INTO made VALUES (1);\nINSERT INTO nosuch VALUES (1);\n")
    with pytest.raises(MigrationPartlyApplied, match=r"statements 1-1 of 3 of 0001_make.sql stayed applied") as failed:
        run(mysql_url, tmp_path)
    assert "nosuch" in failed.value.statement and failed.value.committed == 1
    assert tables(mysql_url) == {"made"}  # the DDL stayed; the journal made for this run is gone again
    assert _count(mysql_url, "made") == 0  # the row after the DDL was rolled back
    (tmp_path / "0001_make.sql").write_text("CREATE TABLE IF NOT EXISTS made (id integer) ENGINE=InnoDB;\n"
                                            "INSERT INTO made VALUES (1);\n")
    assert [m["name"] for m in run(mysql_url, tmp_path)] == ["0001_make.sql"]  # made safe to rerun, it resumes
    assert _count(mysql_url, "made") == 1 and _journal(mysql_url) == ["0001_make.sql"]


def test_mariadb_failing_ddl_keeps_everything_before_it(mysql_url, tmp_path):
    """MySQL commits before a DDL statement runs: the rows inserted ahead of a failing ALTER stay."""
    (tmp_path / "0001_one.sql").write_text("CREATE TABLE one (id integer) ENGINE=InnoDB;\n")
    (tmp_path / "0002_two.sql").write_text("CREATE TABLE two (id integer) ENGINE=InnoDB;\nINSERT INTO one VALUES (1);\n"
                                           "ALTER TABLE nosuch ADD COLUMN x integer;\n")
    with pytest.raises(MigrationPartlyApplied, match=r"statements 1-2 of 3 of 0002_two.sql") as failed:
        run(mysql_url, tmp_path)
    assert failed.value.batch and "ALTER TABLE nosuch" in failed.value.statement
    assert tables(mysql_url) == {"one", "two", "shipyard_migrations"}
    assert _count(mysql_url, "one") == 1 and _journal(mysql_url) == ["0001_one.sql"]


@pytest.mark.parametrize("name", ["pg_url", "mysql_url", "sqlite_url"])
def test_plan_names_pending_migrations_and_on_mariadb_their_ddl_and_writes_nothing(name, request, tmp_path):
    """`invoke plan`'s database part; a SQLite file that is not there yet is not created by it."""
    url = request.getfixturevalue(name)
    database = {"mysql": f"mysql://root@{url.host}:{url.port}/{url.database}", "sqlite": f"sqlite:///{url.database}",
                "postgres": f"postgresql://postgres@{url.host}:{url.port}/{url.database}"}[url.dialect]
    (tmp_path / "shipyard.toml").write_text(f'[env.local]\ndatabase = "{database}"\n'
                                            '[env.local.db]\ndeploy_steps = ["migrate"]\n')
    (tmp_path / "sql" / "migrations").mkdir(parents=True)
    (tmp_path / "sql" / "migrations" / "0001_make.sql").write_text(
        "CREATE TABLE made (id integer);\nINSERT INTO made VALUES (1);\nCREATE INDEX made_id ON made (id);\n")
    loaded = cfg.load(tmp_path / "shipyard.toml")
    text = deploy_step.preview(loaded, loaded.environment("local"))
    assert "-- migrations to run, in order: 0001_make.sql" in text
    assert ("0001_make.sql: statement(s) 1, 3 of 3 not transactional" in text) is (url.dialect == "mysql")
    if url.dialect == "sqlite":
        assert not Path(url.database).exists()
    else:
        assert tables(url) == set()
    run(url, tmp_path / "sql" / "migrations")
    assert "-- migrations: none pending" in deploy_step.preview(loaded, loaded.environment("local"))


_STEP = st.lists(st.sampled_from(["ddl", "dml", "temp"]), max_size=6)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=_STEP, fails_as=st.sampled_from(["ddl", "dml"]))
def test_mariadb_what_a_failed_migration_leaves_is_what_the_error_says(mariadb, steps, fails_as, tmp_path_factory):
    """Random scripts of DDL, row and temporary-table statements ending in a failing one. The
    expectation is MySQL's documented rule, computed here: a DDL statement commits what came
    before it and itself; a failing DDL statement commits everything before it. Checked in
    information_schema and by counting rows, against the count the error gives."""
    name = f"prop{next(_PROP)}"
    admin = connect(mariadb.url, autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    url, directory = mariadb.url.with_database(name), tmp_path_factory.mktemp("mig")
    try:
        (directory / "0001_log.sql").write_text("CREATE TABLE log (n integer) ENGINE=InnoDB;\n")
        run(url, directory)
        sql = {"ddl": "CREATE TABLE t{i} (id integer) ENGINE=InnoDB", "dml": "INSERT INTO log VALUES ({i})",
               "temp": "CREATE TEMPORARY TABLE tmp{i} (id integer)"}
        failing = "ALTER TABLE nosuch ADD x integer" if fails_as == "ddl" else "INSERT INTO nosuch VALUES (1)"
        (directory / "0002_random.sql").write_text("".join(sql[s].format(i=i) + ";\n" for i, s in enumerate(steps)) + failing + ";\n")
        ddl_at = [i + 1 for i, s in enumerate(steps) if s == "ddl"]
        committed = len(steps) if fails_as == "ddl" else max(ddl_at, default=0)
        with pytest.raises(StatementFailed) as failed:
            run(url, directory)
        assert getattr(failed.value, "committed", 0) == committed
        assert isinstance(failed.value, MigrationPartlyApplied) is (committed > 0)
        assert tables(url) == {"log", "shipyard_migrations", *(f"t{i - 1}" for i in ddl_at)}
        assert _count(url, "log") == sum(1 for s in steps[:committed] if s == "dml")
        assert _journal(url) == ["0001_log.sql"]
    finally:
        admin.execute(f"DROP DATABASE {name}")
        admin.close()
