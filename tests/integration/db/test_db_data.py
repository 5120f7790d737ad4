"""Reference-data compare run for real on PostgreSQL and SQLite: desired rows (CSV, JSON,
INSERT files with hostile values) -> live rows after db.data-sync, checked by plain SELECTs
through pyodbc (never by Shipyard's reader); deletes refused without --allow-destructive;
a second sync finds nothing; the T-SQL rendering of the same changes read by Microsoft's
parser; a big table synced within a memory bound."""

from __future__ import annotations

import json
import tracemalloc
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from deploy.db.connect import connect
from deploy.db.data import diff_data, script, sync_data
from deploy.db.errors import DestructiveRefused
from deploy.errors import UsageError
from tests.tsql_parsers import parse

DDL = {
    "sqlite": ["CREATE TABLE category (id integer PRIMARY KEY, code varchar(20) NOT NULL UNIQUE, label text)",
               "CREATE TABLE item (id integer PRIMARY KEY, category_id integer REFERENCES category (id), name text,"
               " price numeric(10,2), seen timestamp with time zone, payload blob, active boolean)"],
    "postgres": ["CREATE TABLE category (id integer PRIMARY KEY, code varchar(20) NOT NULL UNIQUE, label text)",
                 "CREATE TABLE item (id integer PRIMARY KEY, category_id integer REFERENCES category (id), name text,"
                 " price numeric(10,2), seen timestamptz, payload bytea, active boolean)"],
}
LIVE = ["INSERT INTO category (id, code, label) VALUES (1, 'a', 'old label'), (8, 'z', 'to delete'), (4, 'd', NULL)",
        "INSERT INTO item (id, category_id, name, price) VALUES (3, 8, 'child of a deleted row', 1.00)"]
CATEGORY_CSV = ('id,code,label\n1,a,o\'brien\n2,b,"x ]] y"\n3,c,"line1\nGO\nline2"\n4,d,""\n5,e,\\N\n'
                '6,f,"trail  "\n7,g,ünïcødé ✓ 日本\n')
ITEMS = [{"id": 1, "category_id": 1, "name": "'; DROP TABLE category; --", "price": "12.50",
          "seen": "2020-01-01T10:00:00+02:00", "payload": "0x00ff10", "active": True},
         {"id": 2, "category_id": 7, "name": None, "price": "0.10", "seen": None, "payload": None, "active": False}]
EXPECTED_CATEGORY = [(1, "a", "o'brien"), (2, "b", "x ]] y"), (3, "c", "line1\nGO\nline2"), (4, "d", ""), (5, "e", None),
                     (6, "f", "trail  "), (7, "g", "ünïcødé ✓ 日本")]


@pytest.fixture(params=["pg_url", "sqlite_url"])
def url(request):
    return request.getfixturevalue(request.param)


def _settings(**extra) -> SimpleNamespace:
    tables = [SimpleNamespace(table="category", key=None, file=None), SimpleNamespace(table="item", key=None, file=None)]
    return SimpleNamespace(data=tables, data_batch=3, data_merge=False, allow_destructive=False, server_version=None, **extra)


def _setup(url, tmp_path: Path):
    conn = connect(url)
    for stmt in [*DDL[url.dialect], *LIVE]:
        conn.cursor().execute(stmt)
    conn.commit()
    data = tmp_path / "sql" / "data"
    data.mkdir(parents=True)
    (data / "category.csv").write_text(CATEGORY_CSV, encoding="utf-8")
    (data / "item.json").write_text(json.dumps(ITEMS), encoding="utf-8")
    return conn, tmp_path / "sql"


def _rows(conn, sql: str) -> list[tuple]:
    rows = [tuple(r) for r in conn.cursor().execute(sql).fetchall()]
    conn.commit()  # no read transaction left open (SQLite would lock out the next writer)
    return rows


def test_desired_rows_become_the_live_rows(url, tmp_path) -> None:
    conn, sql_dir = _setup(url, tmp_path)
    try:
        out: list[str] = []
        sync_data(conn, url.dialect, _settings(), sql_dir, apply_it=True, allow_destructive=True, write=out.append)
        assert _rows(conn, "SELECT id, code, label FROM category ORDER BY id") == EXPECTED_CATEGORY
        seen = "seen AT TIME ZONE 'UTC'" if url.dialect == "postgres" else "seen"
        items = _rows(conn, f"SELECT id, category_id, name, price, {seen}, payload, active FROM item ORDER BY id")
        assert [r[:3] for r in items] == [(1, 1, "'; DROP TABLE category; --"), (2, 7, None)]
        assert Decimal(str(items[0][3])) == Decimal("12.50") and Decimal(str(items[1][3])) == Decimal("0.10")
        assert str(items[0][4]).startswith("2020-01-01 08:00:00") and items[1][4] is None  # the same instant, in UTC
        assert bytes(items[0][5]) == b"\x00\xff\x10" and items[1][5] is None
        assert [str(r[6]).lower() in ("1", "true") for r in items] == [True, False]
        again = diff_data(conn, url.dialect, _settings(), sql_dir)
        assert again.total == 0, again.counts
        again.close()
    finally:
        conn.close()


def test_deletes_are_refused_without_allow_destructive_and_nothing_runs(url, tmp_path) -> None:
    conn, sql_dir = _setup(url, tmp_path)
    try:
        with pytest.raises(DestructiveRefused, match="delete 1 row"):
            sync_data(conn, url.dialect, _settings(), sql_dir, apply_it=True, allow_destructive=False, write=lambda _: None)
        assert _rows(conn, "SELECT id, label FROM category ORDER BY id") == [(1, "old label"), (4, None), (8, "to delete")]
    finally:
        conn.close()


def test_the_same_changes_as_tsql_parse_as_one_statement_each(sqlite_url, tmp_path) -> None:
    """No SQL Server: the changes found on SQLite, rendered as T-SQL, read by Microsoft's parser;
    each batch holds exactly one statement (a `GO` line inside a value does not cut a batch)."""
    conn, sql_dir = _setup(sqlite_url, tmp_path)
    try:
        diff = diff_data(conn, "sqlite", _settings(), sql_dir)
        for merge in (False, True):
            text = "".join(script.text_chunks(diff, "tsql", merge, "2008R2"))
            errors, counts = parse(text.replace(":on error exit", ""), 100)
            assert errors == []
            statements = [c for c in counts if c]
            assert statements[0] == 1 and all(c in (1, 2) for c in statements)  # one statement, or the 2-statement guard
            assert "N'line1' + NCHAR(10) + N'GO' + NCHAR(10) + N'line2'" in text and "N'x ]] y'" in text
            assert "SET IDENTITY_INSERT" not in text  # SQLite's INTEGER PRIMARY KEY is no identity here
            assert ("MERGE INTO [category]" in text) is merge
        diff.close()
    finally:
        conn.close()


def test_identity_keys_get_identity_insert_on_sql_server(sqlite_url, tmp_path) -> None:
    conn = connect(sqlite_url)
    conn.cursor().execute("CREATE TABLE tag (id integer PRIMARY KEY AUTOINCREMENT, name text)")
    conn.commit()
    (tmp_path / "sql" / "data").mkdir(parents=True)
    (tmp_path / "sql" / "data" / "tag.sql").write_text("INSERT INTO tag (id, name) VALUES (1, 'a'), (2, N'b''c');\n")
    settings = _settings()
    settings.data = [SimpleNamespace(table="tag", key=None, file=None)]
    diff = diff_data(conn, "sqlite", settings, tmp_path / "sql")
    text = "".join(script.text_chunks(diff, "tsql", False, None))
    assert text.index("SET IDENTITY_INSERT [tag] ON;") < text.index("INSERT INTO [tag]") < text.index("SET IDENTITY_INSERT [tag] OFF;")
    assert "N'b''c'" in text
    diff.close()
    conn.close()


@pytest.mark.slow
def test_a_big_table_is_synced_within_a_memory_bound(sqlite_url, tmp_path) -> None:
    """40,000 rows: held whole as Python rows they take about 12 MiB (measured below); paged
    through a staging file the sync stays under a third of that."""
    rows = 40_000
    conn = connect(sqlite_url)
    cur = conn.cursor()
    cur.execute("CREATE TABLE big (id integer PRIMARY KEY, name text NOT NULL, amount numeric(12,2))")
    for start in range(0, rows, 5000):
        values = ", ".join(f"({i}, 'name {i}', {i}.25)" for i in range(start, min(start + 5000, rows)) if i % 100 != 7)
        cur.execute(f"INSERT INTO big (id, name, amount) VALUES {values}")
    cur.execute("INSERT INTO big (id, name, amount) VALUES (-1, 'extra', 0)")
    conn.commit()
    data = tmp_path / "sql" / "data"
    data.mkdir(parents=True)
    with (data / "big.csv").open("w") as f:
        f.write("id,name,amount\n")
        for i in range(rows):
            f.write(f"{i},name {i}{' changed' if i % 1000 == 3 else ''},{i}.25\n")
    settings = _settings()
    settings.data, settings.data_batch = [SimpleNamespace(table="big", key=None, file=None)], 1000
    script.checked("UPDATE big SET name = 'x' WHERE id = 1", "sqlite")  # imports (sqlglot) before measuring
    tracemalloc.start()
    try:
        result = sync_data(conn, "sqlite", settings, tmp_path / "sql", apply_it=True, allow_destructive=True, write=lambda _: None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    counts = result.counts["big"]
    assert (counts.insert, counts.update, counts.delete) == (rows // 100 + (1 if rows % 100 > 7 else 0), rows // 1000, 1)
    tracemalloc.start()
    whole = [dict(zip(("id", "name", "amount"), r)) for r in conn.cursor().execute("SELECT * FROM big").fetchall()]
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"peak {peak / 2**20:.1f} MiB, whole {held / 2**20:.1f} MiB")
    assert len(whole) == rows and peak < held / 3, f"peak {peak / 2**20:.1f} MiB, the table whole {held / 2**20:.1f} MiB"
    assert _rows(conn, "SELECT count(*), sum(name LIKE '% changed') FROM big") == [(rows, rows // 1000)]
    conn.close()


def _project(tmp_path: Path, sqlite_path: str, steps: str = '["sync", "data"]') -> Path:
    import shutil

    from tests.integration.db.test_db_migrate_bounce_deploy import SITE_SQL

    shutil.copytree(SITE_SQL / "schema", tmp_path / "sql" / "schema")
    (tmp_path / "sql" / "data").mkdir()
    (tmp_path / "sql" / "data" / "author.csv").write_text("id,name,email\n1,Ada,ada@example.invalid\n2,\"O'Hara, ]x\",oh@example.invalid\n")
    (tmp_path / "shipyard.toml").write_text(
        f'[env.local]\ndatabase = "sqlite:///{sqlite_path}"\n[env.local.db]\ndeploy_steps = {steps}\n'
        '[[env.local.db.data]]\ntable = "author"\n')
    return tmp_path


def test_tasks_plan_deploy_step_and_bounce(sqlite_url, tmp_path) -> None:
    from deploy import config as cfg
    from deploy.db import deploy_step
    from tests.integration.db.test_db_migrate_bounce_deploy import _invoke

    project = _project(tmp_path, sqlite_url.database)
    assert _invoke(project, "db.sync", "--apply").returncode == 0
    first = _invoke(project, "db.data-diff")
    assert first.returncode == 2 and "INSERT INTO \"author\"" in first.stdout and "2 insert(s)" in first.stdout, first.stderr
    assert _invoke(project, "db.data-sync", "--apply").returncode == 0
    assert _invoke(project, "db.data-diff").returncode == 0
    conn = connect(sqlite_url)
    assert _rows(conn, "SELECT id, name FROM author ORDER BY id") == [(1, "Ada"), (2, "O'Hara, ]x")]
    conn.cursor().execute("INSERT INTO author (id, name, email) VALUES (9, 'extra', 'x@example.invalid')")
    conn.cursor().execute("UPDATE author SET name = 'Ada L.' WHERE id = 1")
    conn.commit()
    refused = _invoke(project, "db.data-sync", "--apply")
    assert refused.returncode == 3 and "delete 1 row(s) from author" in refused.stderr + refused.stdout
    assert _rows(conn, "SELECT name FROM author WHERE id = 1") == [("Ada L.",)]  # nothing ran
    loaded = cfg.load(project / "shipyard.toml")
    env = loaded.environment("local")
    plan_text = deploy_step.preview(loaded, env)
    assert "-- reference data:" in plan_text and "UPDATE \"author\" SET \"name\" = 'Ada'" in plan_text
    allowed = _invoke(project, "db.data-sync", "--apply", "--allow-destructive")
    assert allowed.returncode == 0, allowed.stderr
    assert _rows(conn, "SELECT id, name FROM author ORDER BY id") == [(1, "Ada"), (2, "O'Hara, ]x")]
    conn.cursor().execute("UPDATE author SET email = 'changed@example.invalid' WHERE id = 2")
    conn.commit()
    conn.close()
    summary = deploy_step.before_switch(loaded, env, "r1", lambda _: None)
    assert summary["data"]["changes"] == 1
    bounced = _invoke(project, "db.bounce-test")
    assert bounced.returncode == 0 and "Loading Seed Data" in bounced.stdout and "author.csv" in bounced.stdout, bounced.stderr
    test_db = connect(type(sqlite_url)("sqlite", str(Path(sqlite_url.database).with_name("test_" + Path(sqlite_url.database).name))))
    assert _rows(test_db, "SELECT id, email FROM author ORDER BY id") == [(1, "ada@example.invalid"), (2, "oh@example.invalid")]
    test_db.close()


def test_mariadb_is_refused_before_anything_is_read_or_written(mysql_url, tmp_path) -> None:
    """Not built for MySQL (a backslash in a value would be read as an escape): a clear refusal."""
    conn = connect(mysql_url)
    try:
        conn.cursor().execute("CREATE TABLE category (id integer PRIMARY KEY, label text)")
        conn.cursor().execute("INSERT INTO category VALUES (1, 'kept')")
        conn.commit()
        data = tmp_path / "sql" / "data"
        data.mkdir(parents=True)
        (data / "category.csv").write_text("id,label\n1,back\\slash\n", encoding="utf-8")
        with pytest.raises(UsageError, match="not available on MySQL/MariaDB"):
            sync_data(conn, "mysql", _settings(), tmp_path / "sql", apply_it=True, allow_destructive=True, write=lambda _: None)
        assert _rows(conn, "SELECT id, label FROM category") == [(1, "kept")]
    finally:
        conn.close()
