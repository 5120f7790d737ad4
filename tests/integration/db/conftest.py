"""A real PostgreSQL 15 for the session (initdb as user postgres in a /tmp dir it can
traverse, fsync off, a free 127.0.0.1 port), stopped at the end; SQLite files per test."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from deploy.db.connect import DbUrl, connect

PG_BIN = Path("/usr/lib/postgresql/15/bin")
_counter = itertools.count()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def pg_server():
    base = Path(tempfile.mkdtemp(prefix="shipyard-db-pg-", dir="/tmp"))
    base.chmod(0o755)
    shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()
    _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o", opts, "start")
    try:
        yield DbUrl("postgres", "postgres", "127.0.0.1", port, "postgres")
    finally:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A fresh database per test, dropped afterwards."""
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = connect(pg_server, autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield pg_server.with_database(name)
    finally:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        admin.close()


@pytest.fixture
def sqlite_url(tmp_path):
    return DbUrl("sqlite", str(tmp_path / "test.db"))
