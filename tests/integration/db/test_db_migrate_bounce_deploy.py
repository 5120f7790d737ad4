"""Migrations journal, test-database bounce, the deploy hooks and the invoke tasks,
against the real engines."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import config as cfg
from deploy.db import deploy_step
from deploy.db.bounce import bounce
from deploy.db.connect import connect
from deploy.db.errors import MigrationChanged, StatementFailed
from deploy.db.migrate import migrate
from deploy.errors import UsageError

ROOT = Path(__file__).parents[3]
SITE_SQL = ROOT / "tests" / "fixtures" / "db" / "site_sql"  # portable: PostgreSQL and SQLite read it


@pytest.fixture(params=["pg_url", "sqlite_url", "mysql_url"])
def url(request):
    return request.getfixturevalue(request.param)


def _migrations(tmp_path: Path) -> Path:
    d = tmp_path / "migrations"
    d.mkdir()
    (d / "0001_create.sql").write_text("CREATE TABLE note (id integer PRIMARY KEY, body text);\n")
    (d / "0002_fill.sql").write_text("INSERT INTO note (id, body) VALUES (1, 'a');\nINSERT INTO note (id, body) VALUES (2, 'b');\n")
    return d


def test_migrations_run_once_in_order_and_are_journaled(url, tmp_path) -> None:
    d = _migrations(tmp_path)
    conn = connect(url)
    ran = migrate(conn, url.dialect, d, log=lambda _: None)
    assert [r["name"] for r in ran] == ["0001_create.sql", "0002_fill.sql"]
    assert migrate(conn, url.dialect, d, log=lambda _: None) == []
    rows = conn.execute("SELECT version, checksum, duration_ms, applied_by FROM shipyard_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == ["0001", "0002"] and all(len(str(r[1]).strip()) == 64 and r[3] for r in rows)
    assert conn.execute("SELECT count(*) FROM note").fetchone()[0] == 2
    (d / "0001_create.sql").write_text("CREATE TABLE note (id integer PRIMARY KEY);\n")
    with pytest.raises(MigrationChanged, match="0001_create.sql"):
        migrate(conn, url.dialect, d, log=lambda _: None)
    conn.close()


def test_failed_migration_is_rolled_back_and_not_journaled(url, tmp_path) -> None:
    d = _migrations(tmp_path)
    (d / "0003_bad.sql").write_text("INSERT INTO note (id, body) VALUES (3, 'c');\nINSERT INTO nosuch VALUES (1);\n")
    conn = connect(url)
    with pytest.raises(StatementFailed) as e:
        migrate(conn, url.dialect, d, log=lambda _: None)
    assert "0003_bad.sql:2" in str(e.value) and "nosuch" in e.value.statement
    assert conn.execute("SELECT count(*) FROM note").fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM shipyard_migrations").fetchone()[0] == 2
    conn.close()


def test_baseline_marks_without_running(url, tmp_path) -> None:
    conn = connect(url)
    ran = migrate(conn, url.dialect, _migrations(tmp_path), baseline=True, log=lambda _: None)
    assert len(ran) == 2
    assert conn.execute("SELECT count(*) FROM shipyard_migrations").fetchone()[0] == 2
    conn.close()


def test_bounce_loads_schema_then_seed_and_says_each_file(url) -> None:
    lines: list[str] = []
    bounce(url, SITE_SQL, log=lines.append)
    bounce(url, SITE_SQL, log=lines.append)  # twice: the second drops what the first made
    conn = connect(url)
    assert conn.execute("SELECT count(*) FROM published_post").fetchone()[0] == 1
    conn.close()
    reads = [line for line in lines if line.startswith("Reading File")]
    assert [Path(r.split(" ", 2)[2]).name for r in reads[:4]] == ["010_tables.sql", "020_views.sql", "010_authors.sql", "020_posts.sql"]
    assert lines[0].startswith("Bouncing database") and "Loading Seed Data" in lines


def _project(tmp_path: Path, database: str, steps: str = '["migrate", "sync"]') -> Path:
    shutil.copytree(SITE_SQL, tmp_path / "sql")
    (tmp_path / "shipyard.toml").write_text(
        f'[env.local]\ndatabase = "{database}"\n[env.local.db]\ndeploy_steps = {steps}\n'
    )
    return tmp_path / "shipyard.toml"


def _pg_database(url) -> str:
    return f"postgresql://postgres@{url.host}:{url.port}/{url.database}"


def _database(url) -> str:
    if url.dialect == "mysql":
        return f"mysql://root@{url.host}:{url.port}/{url.database}"
    return f"sqlite:///{url.database}" if url.dialect == "sqlite" else _pg_database(url)


def test_before_switch_migrates_and_syncs(url, tmp_path) -> None:
    db = _database(url)
    loaded = cfg.load(_project(tmp_path, db, '["sync", "migrate"]'))
    env = loaded.environment("local")
    summary = deploy_step.before_switch(loaded, env, "20261125-1200-abc1234", lambda _: None)
    assert "CREATE TABLE" in summary["script"] and summary["classification"] == "expand-only"
    assert [m["name"] for m in summary["migrations"]] == ["0001_seed_admin_author.sql"]
    again = deploy_step.before_switch(loaded, env, "r2", lambda _: None)
    assert again["script"] == "" and again["migrations"] == [] and again["classification"] == "none"


def test_before_switch_failure_names_statement(pg_url, tmp_path) -> None:
    loaded = cfg.load(_project(tmp_path, _pg_database(pg_url), '["sync", "migrate"]'))
    (tmp_path / "sql" / "migrations" / "0002_broken.sql").write_text("SELECT 1;\nALTER TABLE nosuch ADD x int;\n")
    with pytest.raises(StatementFailed) as e:
        deploy_step.before_switch(loaded, loaded.environment("local"), "r1", lambda _: None)
    assert "nosuch" in e.value.statement and "does not exist" in e.value.server_message


def test_a_data_step_on_mariadb_is_refused_before_any_step_runs(mysql_url, tmp_path) -> None:
    loaded = cfg.load(_project(tmp_path, _database(mysql_url), '["migrate", "data"]'))
    with pytest.raises(UsageError, match="not available on MySQL/MariaDB"):
        deploy_step.before_switch(loaded, loaded.environment("local"), "r1", lambda _: None)
    conn = connect(mysql_url)
    try:  # the migration step ahead of it did not run: the server's catalog holds no table
        assert conn.execute("SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()").fetchone()[0] == 0
    finally:
        conn.close()


def test_nothing_configured_does_nothing(tmp_path) -> None:
    (tmp_path / "shipyard.toml").write_text('[env.local]\ndatabase = "sqlite:///x.db"\n')
    loaded = cfg.load(tmp_path / "shipyard.toml")
    assert deploy_step.before_switch(loaded, loaded.environment("local"), "r", print) == {}
    assert not (tmp_path / "x.db").exists()


def _invoke(project: Path, *args: str) -> subprocess.CompletedProcess:
    code = "import sys, invoke; from deploy.tasks.db import ns; " \
           "p = invoke.Program(namespace=invoke.Collection(ns)); p.run(['invoke', *sys.argv[1:]])"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=project, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_tasks_exit_codes(sqlite_url, tmp_path) -> None:
    project = _project(tmp_path, f"sqlite:///{sqlite_url.database}").parent
    first = _invoke(project, "db.diff")
    assert first.returncode == 2 and "CREATE TABLE" in first.stdout, first.stderr
    applied = _invoke(project, "db.sync", "--apply")
    assert applied.returncode == 0, applied.stderr
    assert _invoke(project, "db.diff").returncode == 0
    bounced = _invoke(project, "db.bounce-test")
    assert bounced.returncode == 0 and "Reading File" in bounced.stdout, bounced.stderr
    assert (Path(sqlite_url.database).parent / "test_test.db").is_file()
    (project / "sql" / "schema" / "020_views.sql").unlink()
    (project / "sql" / "schema" / "010_tables.sql").write_text(
        (SITE_SQL / "schema" / "010_tables.sql").read_text().replace("    body text,\n", ""))
    refused = _invoke(project, "db.sync", "--apply")
    assert refused.returncode == 3 and "drop_column post.body" in refused.stderr
    allowed = _invoke(project, "db.sync", "--apply", "--allow-destructive")
    assert allowed.returncode == 0, allowed.stderr
    assert "-- runs outside the transaction: PRAGMA foreign_keys = OFF" in allowed.stdout
    snap = _invoke(project, "db.snapshot", "--output", "snap.json")
    assert snap.returncode == 0 and json.loads((project / "snap.json").read_text())["dialect"] == "sqlite"


def test_nothing_runs_when_a_change_cannot_render(sqlite_url, tmp_path) -> None:
    project = _project(tmp_path, f"sqlite:///{sqlite_url.database}").parent
    (project / "sql" / "schema" / "030_more.sql").write_text("CREATE TABLE extra (id integer);\nCREATE SEQUENCE seq START WITH 5;\n")
    run = _invoke(project, "db.sync", "--apply")
    assert run.returncode == 2 and "SQLite has no sequences" in run.stderr
    assert not Path(sqlite_url.database).exists() or "extra" not in {
        r[0] for r in connect(sqlite_url).execute("SELECT name FROM sqlite_master").fetchall()}


def test_diff_between_a_directory_and_a_snapshot(tmp_path) -> None:
    project = _project(tmp_path, "sqlite:///site.db").parent
    assert _invoke(project, "db.snapshot", "--output", "snap.json").returncode == 0
    same = _invoke(project, "db.diff", "--from", "snap.json", "--to", "sql")
    assert same.returncode == 0 and "no differences" in same.stdout, same.stderr
    (project / "sql" / "schema" / "030_more.sql").write_text("CREATE TABLE extra (id integer);\n")
    more = _invoke(project, "db.diff", "--from", "snap.json", "--to", "sql")
    assert more.returncode == 2 and 'CREATE TABLE "extra"' in more.stdout
    back = _invoke(project, "db.diff", "--from", "sql", "--to", "snap.json")
    assert back.returncode == 3 and "drop_table extra" in back.stderr


def test_drift_check_reports_hand_made_changes(pg_url, tmp_path) -> None:
    loaded = cfg.load(_project(tmp_path, _pg_database(pg_url), '["sync"]'))
    env = loaded.environment("local")
    deploy_step.before_switch(loaded, env, "r1", lambda _: None)
    recorded = deploy_step.snapshot(loaded, env)
    assert deploy_step.check_drift(loaded, env, recorded) == []
    conn = connect(pg_url)
    conn.execute("ALTER TABLE post ADD COLUMN hotfix integer")
    conn.execute("CREATE OR REPLACE VIEW published_post AS SELECT p.id, p.title, a.name AS author "
                 "FROM post p JOIN author a ON a.id = p.author_id")
    conn.commit()
    conn.close()
    found = deploy_step.check_drift(loaded, env, recorded)
    assert "add_column public.post.hotfix" in found and "replace_view public.published_post" in found


def test_password_comes_from_the_named_secret(tmp_path, monkeypatch) -> None:
    from deploy.db.session import target
    from deploy.errors import ConfigError

    (tmp_path / "shipyard.toml").write_text('[env.prod]\ndatabase = "postgresql://app@db1:5432/site"\n'
                                            'secrets = { DB_PASSWORD = "SITE_DB_PW" }\n')
    loaded = cfg.load(tmp_path / "shipyard.toml")
    with pytest.raises(ConfigError, match="SITE_DB_PW"):
        target(loaded, loaded.environment("prod"))
    monkeypatch.setenv("SITE_DB_PW", "s3cret")
    tgt = target(loaded, loaded.environment("prod"))
    assert tgt.password == "s3cret" and tgt.url.host == "db1" and "s3cret" not in repr(tgt)
