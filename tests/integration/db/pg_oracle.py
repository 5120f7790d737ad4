"""PostgreSQL as its own oracle, for acceptance tests: throwaway databases built from SQL
text, and their normalised pg_dump --schema-only units (the vendored scorer's split, which
Shipyard's reader never sees)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from hypothesis import HealthCheck, Phase, settings

from deploy.db.connect import DbUrl, connect
from deploy.db.execute import run_script
from deploy.db.throwaway import PG_BIN

sys.path.insert(0, str(Path(__file__).parents[2] / "pgscore"))
from score_pg import dump_units  # noqa: E402

_ids = itertools.count()


def database(server: DbUrl, sql: str) -> DbUrl:
    """A new database on `server` (from template0) holding `sql`."""
    name = f"o{os.getpid()}_{next(_ids)}"
    admin = connect(server, autocommit=True)
    admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    admin.close()
    conn = connect(server.with_database(name), autocommit=True)
    if sql.strip():
        conn.execute(sql)
    conn.close()
    return server.with_database(name)


def dump(url: DbUrl, part: int = 0) -> list[str]:
    """The schema units of pg_dump --schema-only --no-owner, column order ignored (part 1: its
    GRANT, REVOKE and ALTER DEFAULT PRIVILEGES statements)."""
    out = subprocess.run([str(PG_BIN / "pg_dump"), "--schema-only", "--no-owner", "-h", url.host, "-p", str(url.port),
                          "-U", "postgres", url.database], capture_output=True, text=True, check=True, timeout=120)
    return dump_units(out.stdout)[part]


def drop(server: DbUrl, *urls: DbUrl) -> None:
    admin = connect(server, autocommit=True)
    for url in urls:
        admin.execute(f"DROP DATABASE {url.database} WITH (FORCE)")
    admin.close()


@contextmanager
def databases(server: DbUrl, *sqls: str) -> Iterator[list[DbUrl]]:
    """One new database per SQL text, dropped afterwards."""
    urls = [database(server, sql) for sql in sqls]
    try:
        yield urls
    finally:
        drop(server, *urls)


def apply(url: DbUrl, script: Any) -> None:
    """Run a rendered script on `url` as db.sync --apply does."""
    conn = connect(url)
    try:
        run_script(conn, script)
    finally:
        conn.close()


def values(url: DbUrl, sql: str) -> list:
    """The first column of a query's rows: what the server's own catalog says."""
    conn = connect(url)
    try:
        return [r[0] for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def ensure_roles(server: DbUrl, *names: str) -> DbUrl:
    """Roles are the cluster's: created once (any name, quoted), kept for the session."""
    conn = connect(server, autocommit=True)
    for role in names:
        conn.execute(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
                     f"CREATE ROLE \"{role}\"; END IF; END $$")
    conn.close()
    return server


def examples(n: int) -> settings:
    """Hypothesis settings for tests whose examples build databases: no deadline, and no
    shrinking (each example is costly; an unshrunk failure is printed whole)."""
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
                    phases=[Phase.explicit, Phase.reuse, Phase.generate])
