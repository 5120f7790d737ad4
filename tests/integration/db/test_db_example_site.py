"""The example site's database story holds together on a real SQLite: the database
Django's migrations build, plus sql/migrations on top, is the one sql/schema describes.

The oracle is SQLite itself (PRAGMA table_info / index_list / foreign_key_list over two
databases, one built by Django, one by sqlite3 from sql/schema), not Shipyard's reader;
then Shipyard's own tasks must agree: db.diff proposes nothing, db.migrate has nothing left."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
SITE = ROOT / "examples" / "site"
SQL = ROOT / "sql"


def django_migrate(db: Path) -> None:
    """`manage.py migrate` as the deploy's hook runs it (settings put site.db in SHIPYARD_SHARED)."""
    env = {**os.environ, "SHIPYARD_SHARED": str(db.parent), "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=SITE, env=env,
                   check=True, timeout=300)


def shape(db: Path) -> dict:
    """Every table and view with its columns, indexes and foreign keys, as SQLite reports them."""
    con = sqlite3.connect(db)
    try:
        objects = con.execute("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') "
                              "AND name NOT LIKE 'sqlite_%' AND name <> 'shipyard_migrations'").fetchall()
        found = {}
        for kind, name in objects:
            indexes = {row[1]: (row[2], [c[2] for c in con.execute(f'PRAGMA index_info("{row[1]}")')])
                       for row in con.execute(f'PRAGMA index_list("{name}")')}
            found[name] = {"kind": kind,
                           "columns": [tuple(r[1:]) for r in con.execute(f'PRAGMA table_info("{name}")')],
                           "indexes": indexes,
                           "foreign_keys": sorted(tuple(r[2:]) for r in con.execute(f'PRAGMA foreign_key_list("{name}")'))}
        return found
    finally:
        con.close()


def run_sql_files(db: Path, files: list[Path]) -> None:
    con = sqlite3.connect(db)
    try:
        for path in files:
            con.executescript(path.read_text(encoding="utf-8"))
    finally:
        con.close()


def invoke(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def deployed_db(tmp_path) -> Path:
    """What a deploy of the example leaves: Django's migrations, then sql/migrations."""
    db = tmp_path / "shared" / "site.db"
    db.parent.mkdir()
    django_migrate(db)
    run_sql_files(db, sorted((SQL / "migrations").glob("*.sql")))
    return db


@pytest.mark.slow
def test_sql_schema_builds_the_database_django_and_the_migrations_build(deployed_db, tmp_path):
    from_sql = tmp_path / "from_sql.db"
    run_sql_files(from_sql, sorted((SQL / "schema").glob("*.sql")))
    django, described = shape(deployed_db), shape(from_sql)
    assert {"notes_author", "notes_post", "published_post", "auth_user", "django_migrations"} <= set(django)
    assert described == django


@pytest.mark.slow
def test_db_diff_proposes_nothing_and_db_migrate_has_nothing_left(deployed_db, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    os.symlink(SQL, project / "sql")
    (project / "tasks.py").write_text("from deploy.tasks import ns  # noqa: F401\n")
    (project / "shipyard.toml").write_text(f'[env.local]\ndatabase = "sqlite:///{deployed_db}"\n')
    diff = invoke(project, "db.diff")
    assert (diff.returncode, diff.stdout.strip()) == (0, "-- no differences"), diff.stdout + diff.stderr
    # db.migrate on a database Django built but sql/migrations never touched applies both, in order
    fresh = tmp_path / "fresh" / "site.db"
    fresh.parent.mkdir()
    django_migrate(fresh)
    (project / "shipyard.toml").write_text(f'[env.local]\ndatabase = "sqlite:///{fresh}"\n')
    first, again = invoke(project, "db.migrate"), invoke(project, "db.migrate")
    assert first.returncode == 0 and "2 migration(s) applied" in first.stdout, first.stderr
    assert again.returncode == 0 and "0 migration(s) applied" in again.stdout
    assert shape(fresh) == shape(deployed_db)


@pytest.mark.slow
def test_the_generated_schema_is_what_the_models_create(tmp_path, wheel_cache):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SHIPYARD_WHEEL_CACHE": str(wheel_cache)}
    check = subprocess.run([sys.executable, "-m", "invoke", "db.django-schema", "--check"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
    assert check.returncode == 0, check.stdout + check.stderr
    stale = tmp_path / "010_django.sql"
    stale.write_text((SQL / "schema" / "010_django.sql").read_text().replace('"title" varchar(200)', '"title" varchar(99)'))
    refused = subprocess.run([sys.executable, "-m", "invoke", "db.django-schema", "--check", "--output", str(stale)],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 1 and "out of date" in refused.stdout
