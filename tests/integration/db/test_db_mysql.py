"""MySQL/MariaDB on the real server: the CLI standing alone, renames by hint, the destructive
guard, a MySQL-only construct refused with the server's words, a script that fails half-way
(resumed, or reversed to the checkpoint's snapshot), the deploy preview and the rollback gate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import config as cfg
from deploy.db import deploy_step
from deploy.db.connect import connect
from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.errors import PartlyApplied, SqlFileError
from deploy.db.introspect import introspect
from deploy.db.mysql.shadow import desired_from_files
from deploy.db.renames import Rename
from deploy.db.render import render

import mysql_oracle as oracle

ROOT = Path(__file__).parents[3]
SCHEMA = """CREATE TABLE author (id int PRIMARY KEY, fullname varchar(100) NOT NULL, email varchar(200));
CREATE TABLE post (id int PRIMARY KEY AUTO_INCREMENT, author_id int NOT NULL, title varchar(200) NOT NULL,
  CONSTRAINT post_author_fk FOREIGN KEY (author_id) REFERENCES author (id) ON DELETE CASCADE);
CREATE VIEW titles AS SELECT p.title, a.fullname FROM post p JOIN author a ON a.id = p.author_id;
DELIMITER //
CREATE PROCEDURE count_posts(OUT n int) BEGIN SELECT count(*) INTO n FROM post; END//
DELIMITER ;
"""


def _url_text(url) -> str:
    return f"mysql://root@{url.host}:{url.port}/{url.database}"


def _shipyard(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from deploy.cli import main; main()", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def _load(mariadb, url, sql: str) -> None:
    done = oracle.Client(mariadb.port).run(url.database, sql)
    assert done.returncode == 0, done.stderr


def test_cli_compares_a_live_database_with_a_file_without_any_config(mariadb, mysql_url, tmp_path) -> None:
    _load(mariadb, mysql_url, "CREATE TABLE author (id int PRIMARY KEY, fullname varchar(100) NOT NULL);")
    (tmp_path / "desired.sql").write_text(SCHEMA + "CREATE SEQUENCE ticket_numbers START WITH 100;\n")
    first = _shipyard(tmp_path, "db.diff", "--from", _url_text(mysql_url), "--to", "desired.sql")
    assert first.returncode == 2, first.stderr
    assert "not transactional" in first.stdout and "EXECUTE IMMEDIATE 'CREATE PROCEDURE" in first.stdout
    assert "not compared (unsupported kind): sequence ticket_numbers" in first.stderr  # named, never silently skipped
    script = first.stdout.rsplit("\n-- ", 1)[0]
    done = oracle.Client(mariadb.port).run(mysql_url.database, script)  # the `mysql` client runs it as printed
    assert done.returncode == 0, done.stderr
    again = _shipyard(tmp_path, "db.diff", "--from", _url_text(mysql_url), "--to", "desired.sql")
    assert again.returncode == 0 and "no differences" in again.stdout, again.stdout + again.stderr


def test_a_mysql_only_construct_is_refused_with_the_servers_message(mysql_url) -> None:
    text = "CREATE TABLE t (id int PRIMARY KEY, name varchar(20));\nCREATE INDEX lower_name ON t ((lower(name)));\n"
    with pytest.raises(SqlFileError) as e:
        desired_from_files(mysql_url, None, [("sql/schema/t.sql", text)])
    message = str(e.value)
    assert message.startswith("sql/schema/t.sql:2:") and "the server refused it" in message
    assert "lower_name" in message and "1064" in message  # MariaDB has no functional key parts
    admin = connect(mysql_url.with_database(""), autocommit=True)
    left = [r[0] for r in admin.execute("SHOW DATABASES LIKE 'shipyard_shadow_%'").fetchall()]
    admin.close()
    assert left == []  # the shadow database is gone even after a failure


def test_renames_by_hint_keep_the_rows(mysql_url, mariadb) -> None:
    _load(mariadb, mysql_url, SCHEMA + "INSERT INTO author VALUES (1, 'Ada', 'a@x');")
    wanted = SCHEMA.replace("fullname", "full_name").replace("TABLE post ", "TABLE article ").replace("FROM post", "FROM article")
    conn = connect(mysql_url, autocommit=True)
    try:
        want = desired_from_files(mysql_url, None, [("d.sql", wanted)])
        unhinted = diff(introspect(conn, "mysql"), want)
        assert {c.describe() for c in unhinted.destructive} >= {"drop_column author.fullname", "drop_table post"}
        hints = [Rename.parse("table:post=article", "mysql"), Rename.parse("column:author.fullname=full_name", "mysql")]
        plan = diff(introspect(conn, "mysql"), want, hints)
        assert not plan.destructive
        text = render(plan).text()
        assert "RENAME TABLE `post` TO `article`" in text and "RENAME COLUMN `fullname` TO `full_name`" in text
        assert oracle.Client(mariadb.port).run(mysql_url.database, text).returncode == 0
        assert conn.execute("SELECT full_name FROM author").fetchall()[0][0] == "Ada"
        assert diff(introspect(conn, "mysql"), want).changes == []
    finally:
        conn.close()


def _project(tmp_path: Path, url, schema: str) -> cfg.Loaded:
    (tmp_path / "sql" / "schema").mkdir(parents=True)
    (tmp_path / "sql" / "schema" / "010.sql").write_text(schema)
    (tmp_path / "shipyard.toml").write_text(f'[env.local]\ndatabase = "{_url_text(url)}"\n'
                                            '[env.local.db]\ndeploy_steps = ["sync"]\n')
    return cfg.load(tmp_path / "shipyard.toml")


def test_destructive_changes_are_refused_until_allowed(mysql_url, mariadb, tmp_path) -> None:
    _load(mariadb, mysql_url, SCHEMA)
    project = _project(tmp_path, mysql_url, SCHEMA.replace(", email varchar(200)", ""))
    refused = _shipyard(tmp_path, "db.sync", "--apply")
    assert refused.returncode == 3 and "drop_column author.email" in refused.stderr
    narrowed = _shipyard(tmp_path, "db.diff", "--to", "sql")
    assert narrowed.returncode == 3
    allowed = _shipyard(tmp_path, "db.sync", "--apply", "--allow-destructive")
    assert allowed.returncode == 0, allowed.stderr
    assert "email" not in {r[0] for r in connect(mysql_url).execute("SHOW COLUMNS FROM author").fetchall()}
    del project


def test_a_failure_half_way_is_checkpointed_then_resumed_or_reversed(mysql_url, mariadb, tmp_path) -> None:
    """Two tables change: the first ALTER commits, the second fails on duplicate rows. The
    error says what is applied; a second sync after fixing the data resumes; syncing to the
    snapshot taken before goes back to exactly the schema there was."""
    start = "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (id int PRIMARY KEY, code int);\n"
    _load(mariadb, mysql_url, start + "INSERT INTO b VALUES (1, 7), (2, 7);")
    before = oracle.describe(connect(mysql_url.with_database(""), autocommit=True), mysql_url.database)
    loaded = _project(tmp_path, mysql_url, start.replace("id int PRIMARY KEY)", "id int PRIMARY KEY, note text)", 1)
                      + "CREATE UNIQUE INDEX b_code ON b (code);\n")
    env = loaded.environment("local")
    with pytest.raises(PartlyApplied) as e:
        deploy_step.before_switch(loaded, env, "r1", lambda _: None)
    assert e.value.applied == 1 and e.value.total == 2 and "Duplicate entry" in str(e.value)
    progress = json.loads(Path(e.value.checkpoint).read_text())
    assert progress["applied"] == 1 and len(progress["statements"]) == 2
    back = _shipyard(tmp_path, "db.sync", "--apply", "--allow-destructive", "--to", str(e.value.snapshot))
    assert back.returncode == 0, back.stderr
    admin = connect(mysql_url.with_database(""), autocommit=True)
    assert oracle.differences(oracle.describe(admin, mysql_url.database), before) == []
    connect(mysql_url, autocommit=True).execute("UPDATE b SET code = 8 WHERE id = 2")
    deploy_step.before_switch(loaded, env, "r1", lambda _: None)  # resumed from the live schema
    assert deploy_step.before_switch(loaded, env, "r1", lambda _: None)["script"] == ""
    assert not Path(e.value.checkpoint).exists()
    admin.close()


def test_preview_and_rollback_gate(mysql_url, mariadb, tmp_path) -> None:
    _load(mariadb, mysql_url, SCHEMA)
    loaded = _project(tmp_path, mysql_url, SCHEMA + "CREATE TABLE extra (id int PRIMARY KEY);\n")
    env = loaded.environment("local")
    preview = deploy_step.preview(loaded, env)
    assert "not transactional" in preview and "CREATE TABLE `extra`" in preview
    old = deploy_step.snapshot(loaded, env)
    (tmp_path / "sql" / "schema" / "010.sql").write_text(SCHEMA.replace(", email varchar(200)", ""))
    new = deploy_step.snapshot(loaded, env)
    assert "column author.email is gone" in deploy_step.rollback_blockers(new, old)
    assert deploy_step.rollback_blockers(old, old) == []


def test_offline_reader_and_shadow_agree_on_what_changes(mysql_url) -> None:
    """Without a server (a snapshot, `--from sql --to sql`) MySQL files are parsed: the same
    objects are found as the server reports, though not in its normal form."""
    offline = from_text(SCHEMA, "mysql")
    shadow = desired_from_files(mysql_url, None, [("s.sql", SCHEMA)])
    assert set(offline.tables) == set(shadow.tables) and set(offline.routines) == set(shadow.routines)
    assert {k: [c.name for c in t.columns] for k, t in offline.tables.items()} == \
        {k: [c.name for c in t.columns] for k, t in shadow.tables.items()}
