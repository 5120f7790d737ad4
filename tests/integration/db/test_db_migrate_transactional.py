"""db.migrate on real PostgreSQL 15 and SQLite: a migration that fails leaves no trace —
not its own changes, not a journal row, not even the journal table on a first run.
Checked in the engines' own catalogs (sqlite_master, pg_class), not Shipyard's introspection."""

from __future__ import annotations

import pytest

from deploy.db.connect import connect
from deploy.db.errors import StatementFailed
from deploy.db.migrate import migrate


@pytest.fixture(params=["pg_url", "sqlite_url"])
def url(request):
    return request.getfixturevalue(request.param)


def tables(url) -> set[str]:
    conn = connect(url)
    try:
        if url.dialect == "sqlite":
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
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


def test_nothing_to_apply_creates_nothing(url, tmp_path):
    assert run(url, tmp_path) == []
    assert tables(url) == set()
