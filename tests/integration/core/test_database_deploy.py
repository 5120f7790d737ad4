"""The database in a deploy (real SQLite through its ODBC driver): the schema is synced
before any host switches, each release records the schema it expects, and a rollback
across a contract change is refused unless forced."""

import json
import sqlite3

import pytest

DB = """
[env.local.db]
deploy_steps = ["sync"]
allow_destructive = true
"""

SCHEMA_V1 = "CREATE TABLE author (id integer PRIMARY KEY, name varchar(100) NOT NULL, email varchar(200));\n"
SCHEMA_V2 = "CREATE TABLE author (id integer PRIMARY KEY, name varchar(100) NOT NULL);\n"


def with_database(repo, schema):
    (repo.root / "sql" / "schema").mkdir(parents=True, exist_ok=True)
    (repo.root / "sql" / "schema" / "010_tables.sql").write_text(schema)
    cfg = repo.root / "shipyard.toml"
    text = cfg.read_text()
    if "[env.local.db]" not in text:
        text = text.replace("keep_releases = 3", 'keep_releases = 3\ndatabase = "sqlite:///app.db"') + DB
    cfg.write_text(text)
    repo.commit("schema")


def columns(repo):
    with sqlite3.connect(repo.root / "app.db") as con:
        return [row[1] for row in con.execute("PRAGMA table_info(author)")]


@pytest.mark.slow
def test_sync_before_switch_snapshot_and_rollback_guard(git_site):
    with_database(git_site, SCHEMA_V1)
    events = git_site.root / "events.jsonl"
    git_site.invoke("build", "deploy", "--events", str(events))
    assert columns(git_site) == ["id", "name", "email"]
    first = git_site.current()
    scripts = [e for e in map(json.loads, events.read_text().splitlines()) if e["kind"] == "db.script"]
    assert scripts and "CREATE TABLE" in scripts[0]["script"]
    assert "author" in json.dumps(git_site.release_json(first)["schema"])

    with_database(git_site, SCHEMA_V2)  # drops a column: a contract change
    git_site.invoke("build")
    plan = git_site.invoke("plan").stdout
    assert "ALTER TABLE" in plan and "author" in plan  # the database script the deploy would run (a rebuild)
    git_site.invoke("deploy")
    assert columns(git_site) == ["id", "name"]

    refused = git_site.invoke("rollback", check=False)
    assert refused.returncode == 2 and "column author.email is gone" in refused.stderr and "--force" in refused.stderr
    assert git_site.current() != first
    git_site.invoke("rollback", "--force")
    assert git_site.current() == first


@pytest.mark.slow
def test_database_failure_stops_before_any_switch(git_site):
    git_site.invoke("build", "deploy")
    good = git_site.current()
    with_database(git_site, "CREATE TABLE broken (id integer PRIMARY KEY,\n")
    proc = git_site.invoke("build", "deploy", check=False)
    assert proc.returncode != 0 and "010_tables.sql" in proc.stderr
    assert git_site.current() == good


def test_older_artifact_with_database_steps_refused(git_site):
    with_database(git_site, SCHEMA_V1)
    git_site.invoke("build")
    old = max((git_site.root / "dist").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    (git_site.root / "site" / "x.txt").write_text("x")
    git_site.commit("newer checkout")
    proc = git_site.invoke("deploy", "--artifact", str(old), check=False)
    assert proc.returncode == 2 and "check out the artifact's revision" in proc.stderr
