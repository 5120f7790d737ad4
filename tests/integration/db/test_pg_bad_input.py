"""Bad input on the PostgreSQL path: a desired state that does not load names the file, the
line, the statement and the server's own message; a syntax error is caught by PostgreSQL's
grammar (pglast) before any server; kinds Shipyard does not model are listed, never dropped;
destructive changes are refused (exit 3) and --skip-destructive keeps the data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deploy.db.connect import connect
from deploy.db.errors import SqlFileError
from deploy.db.postgres.shadow import ShadowSource, desired_catalog, statements, schema_files

from db_live_helpers import live, want

ROOT = Path(__file__).parents[3]


def test_a_statement_that_does_not_load_names_file_line_and_server_message(pg_url, tmp_path) -> None:
    (tmp_path / "01_tables.sql").write_text("CREATE TABLE a (id integer PRIMARY KEY);\n\n"
                                            "CREATE TABLE b (id integer REFERENCES nowhere (id));\n")
    with pytest.raises(SqlFileError) as e:
        desired_catalog(schema_files(tmp_path), ShadowSource(pg_url.with_database("postgres")))
    assert e.value.file.endswith("01_tables.sql") and e.value.line == 3
    assert 'relation "nowhere" does not exist' in str(e.value) and "REFERENCES nowhere" in e.value.statement


def test_a_syntax_error_is_found_by_postgresqls_grammar_without_a_server() -> None:
    with pytest.raises(SqlFileError) as e:
        statements("CREATE TABLE a (id integer);\nCREATE TABLE b (id integer,, x int);\n", "sql/schema/x.sql")
    assert e.value.line == 2 and "syntax error" in str(e.value)


def test_files_need_not_be_in_dependency_order(pg_url, tmp_path) -> None:
    (tmp_path / "a_view.sql").write_text("CREATE VIEW v AS SELECT id FROM t;\n")
    (tmp_path / "b_table.sql").write_text("CREATE TABLE t (id integer);\n")
    catalog = desired_catalog(schema_files(tmp_path), ShadowSource(pg_url.with_database("postgres")))
    assert {("view", "public", "v"), ("table", "public", "t")} <= set(catalog.objects)


def test_unsupported_kinds_are_listed_and_never_dropped(pg_url) -> None:
    conn = connect(pg_url, autocommit=True)
    conn.execute("CREATE FUNCTION f_plus(integer, integer) RETURNS integer LANGUAGE sql AS 'select $1 + $2';"
                 "CREATE OPERATOR === (LEFTARG = integer, RIGHTARG = integer, FUNCTION = f_plus)")
    conn.close()
    catalog = live(pg_url)
    assert any(u.startswith("operator ") and "===" in u for u in catalog.unsupported)
    from deploy.db.compare import plan

    result = plan(catalog, want(pg_url, "CREATE FUNCTION f_plus(integer, integer) RETURNS integer "
                                        "LANGUAGE sql AS 'select $1 + $2'"))
    assert not any("===" in s for s in result.statements) and result.unsupported


def _cli(*args: str) -> subprocess.CompletedProcess:
    shipyard = Path(sys.executable).parent / "shipyard"
    return subprocess.run([str(shipyard), "db.diff", "--config", str(ROOT / "tests/pgscore/shipyard.toml"), *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_refuses_destructive_changes_and_skips_them_on_request(pg_server) -> None:
    admin = connect(pg_server, autocommit=True)
    for name, sql in (("bad_cur", "CREATE TABLE t (id integer, old text); CREATE TABLE gone (id integer)"),
                      ("bad_want", "CREATE TABLE t (id integer, added integer)")):
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
        c = connect(pg_server.with_database(name), autocommit=True)
        c.execute(sql)
        c.close()
    admin.close()
    url = lambda db: f"postgresql://postgres@127.0.0.1:{pg_server.port}/{db}"  # noqa: E731
    refused = _cli("--from", url("bad_cur"), "--to", url("bad_want"))
    assert refused.returncode == 3 and "drop_table public.gone" in refused.stderr + refused.stdout
    skipped = _cli("--from", url("bad_cur"), "--to", url("bad_want"), "--skip-destructive")
    assert skipped.returncode == 2 and 'ADD COLUMN "added"' in skipped.stdout
    assert "DROP" not in skipped.stdout.replace("-- withheld", "") and "withheld" in skipped.stdout
    same = _cli("--from", url("bad_want"), "--to", url("bad_want"))
    assert same.returncode == 0


def test_shadow_falls_back_to_a_local_cluster_when_the_login_may_not_create_databases(pg_url) -> None:
    conn = connect(pg_url, autocommit=True)
    conn.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'no_createdb') THEN "
                 "CREATE ROLE no_createdb LOGIN NOCREATEDB; END IF; END $$")
    conn.close()
    from deploy.db.connect import DbUrl

    login = DbUrl("postgres", pg_url.database, pg_url.host, pg_url.port, "no_createdb")
    catalog = desired_catalog([("<test>", "CREATE TABLE t (id integer)")], ShadowSource(login))
    assert ("table", "public", "t") in catalog.objects
    explicit = desired_catalog([("<test>", "CREATE TABLE u (id integer)")], ShadowSource(None, setting="local"))
    assert ("table", "public", "u") in explicit.objects
