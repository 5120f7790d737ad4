"""`db.sync --skip-destructive` (sqldef's enable_drop: false) on the real engines: the
harmless part of a change runs, the drops and the narrowing are withheld, and the rows of
what was withheld are still there — checked with plain catalog queries and SELECTs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.db.connect import connect

ROOT = Path(__file__).parents[3]
LIVE = ("CREATE TABLE t (id integer PRIMARY KEY, a integer, b bigint);\nCREATE TABLE x (id integer PRIMARY KEY);\n"
        "INSERT INTO t VALUES (1, 10, 20);\nINSERT INTO x VALUES (7);\n")
DESIRED = "CREATE TABLE t (id integer PRIMARY KEY, b integer, c integer);\n"


@pytest.fixture(params=["sqlite_url", "pg_url", "mysql_url"])
def url(request):
    return request.getfixturevalue(request.param)


def _database(url) -> str:
    if url.dialect == "sqlite":
        return f"sqlite:///{url.database}"
    scheme = {"postgres": "postgresql", "mysql": "mysql"}[url.dialect]
    user = "postgres" if url.dialect == "postgres" else "root"
    return f"{scheme}://{user}@{url.host}:{url.port}/{url.database}"


def _columns(conn, dialect: str, table: str) -> list[str]:
    if dialect == "sqlite":
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]
    where = "table_schema = 'public'" if dialect == "postgres" else "table_schema = DATABASE()"
    rows = conn.execute(f"SELECT column_name FROM information_schema.columns WHERE {where} AND table_name = ? "
                        "ORDER BY ordinal_position", table).fetchall()
    return [r[0] for r in rows]


def _shipyard(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from deploy.cli import main; main()", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=180, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_skip_destructive_applies_the_rest_and_keeps_the_data(url, tmp_path) -> None:
    conn = connect(url, autocommit=True)
    for statement in LIVE.strip().split(";\n"):
        conn.execute(statement.rstrip(";"))
    (tmp_path / "sql" / "schema").mkdir(parents=True)
    (tmp_path / "sql" / "schema" / "010.sql").write_text(DESIRED)
    (tmp_path / "shipyard.toml").write_text(f'[env.local]\ndatabase = "{_database(url)}"\n')
    run = _shipyard(tmp_path, "db.sync", "--apply", "--skip-destructive")
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"-- withheld \(--skip-destructive\): drop[ _]table (public\.)?x\n", run.stdout), run.stdout
    assert re.search(r"-- withheld \(--skip-destructive\): drop[ _]column (public\.)?t\.a\n", run.stdout), run.stdout
    assert _columns(conn, url.dialect, "t") == ["id", "a", "b", "c"]
    assert tuple(conn.execute("SELECT a, b FROM t").fetchall()[0]) == (10, 20)
    assert conn.execute("SELECT id FROM x").fetchall()[0][0] == 7
    again = _shipyard(tmp_path, "db.diff", "--skip-destructive")
    assert again.returncode == 0 and "no differences" in again.stdout, again.stdout + again.stderr
    conn.close()
