"""A real PostgreSQL 15 for the session (initdb as user postgres in a /tmp dir it can
traverse, fsync off, a free 127.0.0.1 port), stopped at the end; the same for MariaDB
(its own data directory, socket and port); SQLite files per test."""

from __future__ import annotations

import itertools
import os

import pytest

from deploy.db.connect import DbUrl, connect
from deploy.db.mysql.throwaway import ThrowawayMariaDB
from deploy.db.throwaway import ThrowawayPostgres

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    with ThrowawayPostgres() as url:
        yield url


@pytest.fixture(scope="session")
def pg_with_roles(pg_server):
    """The session's server with the roles the privilege and owner tests name (one needs quoting)."""
    from pg_oracle import ensure_roles

    return ensure_roles(pg_server, "dp_reader", "dp writer", "own_a", "own b")


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


@pytest.fixture(scope="session")
def mariadb():
    """The throwaway server itself (for its port and client)."""
    server = ThrowawayMariaDB()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mysql_url(mariadb):
    """A fresh database per test, dropped afterwards."""
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = connect(mariadb.url, autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield mariadb.url.with_database(name)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()
