"""The desired state in a shadow database: the `sql/` files are checked with PostgreSQL's
own grammar (pglast, i.e. libpg_query), loaded into a throwaway database, and read back
with the same catalog introspector as the live side, so both are compared through the
engine's own renderings. The shadow is, in this order: `db.shadow_database` (an admin URL
on a server where Shipyard may CREATE DATABASE, or "local"), a database created next to the
live one on the same server, or a local throwaway cluster when initdb is installed."""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from deploy.db.connect import DbUrl, connect
from deploy.db.errors import DbConnectError, SqlFileError, StatementFailed
from deploy.db.postgres.model import Catalog, q
from deploy.errors import UsageError


@dataclass(frozen=True)
class ShadowSource:
    """Where a shadow database can be made: the live server (and how to log in), or an
    explicit admin URL, or "local"."""

    server: DbUrl | None = None
    password: str | None = field(default=None, repr=False)
    setting: str | None = None  # db.shadow_database
    timeout: int = 10


def statements(text: str, file: str) -> list[tuple[int, str]]:
    """(line, statement) pairs, split by PostgreSQL's own grammar; a syntax error names
    the file and line as the server would."""
    from pglast import parser

    try:
        slices = parser.split(text, with_parser=True, only_slices=True)
    except parser.ParseError as e:
        message, offset = (e.args + (0,))[:2]
        where = min(max(int(offset or 0), 0), len(text))
        start = text.rfind(";", 0, where) + 1
        start += len(text[start:]) - len(text[start:].lstrip())
        line = text.count("\n", 0, start) + 1
        raise SqlFileError(file, line, text[start:where + 40].strip(), str(message)) from None
    out, line, counted = [], 1, 0
    for s in slices:  # lines counted on from the previous statement: 4,000 statements stay linear
        line += text.count("\n", counted, s.start)
        counted = s.start
        out.append((line + _leading_newlines(text[s]), text[s]))
    return out


def _leading_newlines(stmt: str) -> int:
    return len(stmt) - len(stmt.lstrip()) and stmt[: len(stmt) - len(stmt.lstrip())].count("\n")


def load(conn: Any, files: list[tuple[str, str]]) -> None:
    """Each file as one batch (one round trip). A batch that fails (it rolled back whole) is
    run statement by statement, and what still fails is retried while anything else makes
    progress, so files need not be in dependency order; what never loads is reported with
    the server's own error, the file, the line and the statement."""
    import pyodbc

    pending: list[tuple[str, int, str]] = []
    for file, text in files:
        parts = statements(text, file)
        if not parts:
            continue
        try:
            conn.execute(text)
        except pyodbc.Error:
            pending += [(file, line, stmt) for line, stmt in parts]
    while pending:
        failed: list[tuple[str, int, str, str]] = []
        for file, line, stmt in pending:
            try:
                conn.execute(stmt)
            except pyodbc.Error as e:
                failed.append((file, line, stmt, _server_message(e)))
        if len(failed) == len(pending):
            file, line, stmt, message = failed[0]
            raise SqlFileError(file, line, stmt, message)
        pending = [f[:3] for f in failed]


def _server_message(e: Exception) -> str:
    text = " ".join(str(a) for a in e.args)
    return text.split("ERROR: ", 1)[-1].split(";\nError while executing")[0].strip()


def desired_catalog(files: list[tuple[str, str]], source: ShadowSource) -> Catalog:
    from deploy.db.postgres.introspect import introspect_catalog

    with shadow_database(source) as (url, password):
        conn = connect(url, password, timeout=source.timeout, autocommit=True)
        try:
            load(conn, files)
            conn.autocommit = False
            return introspect_catalog(conn)
        finally:
            conn.close()


@contextmanager
def shadow_database(source: ShadowSource) -> Iterator[tuple[DbUrl, str | None]]:
    if source.setting == "local" or (source.setting is None and source.server is None):
        with _local() as url:
            yield url, None
        return
    admin = source.server
    if source.setting:
        from deploy.db.connect import parse_url

        admin = parse_url(source.setting)
    assert admin is not None
    try:
        with _database_on(admin, source) as url:
            yield url, source.password
    except _CannotCreate as e:
        if source.setting is not None or not _local_available():
            raise UsageError(f"no shadow database for the desired schema: {e} (set db.shadow_database to an admin "
                             "URL, or \"local\" with PostgreSQL's initdb installed)") from None
        with _local() as url:
            yield url, None


class _CannotCreate(Exception):
    pass


@contextmanager
def _database_on(admin: DbUrl, source: ShadowSource) -> Iterator[DbUrl]:
    import pyodbc

    name = f"shipyard_shadow_{secrets.token_hex(6)}"
    try:
        conn = connect(admin, source.password, timeout=source.timeout, autocommit=True)
    except DbConnectError as e:
        raise _CannotCreate(str(e)) from None
    try:
        try:
            conn.execute(f"CREATE DATABASE {q(name)} TEMPLATE template0 ENCODING 'UTF8'")
        except pyodbc.Error as e:
            raise _CannotCreate(f"CREATE DATABASE on {admin.server} failed: {_server_message(e)}") from None
        try:
            yield admin.with_database(name)
        finally:
            _drop(conn, name)
    finally:
        conn.close()


def _drop(conn: Any, name: str) -> None:
    import pyodbc

    try:
        conn.execute(f"DROP DATABASE IF EXISTS {q(name)} WITH (FORCE)")
    except pyodbc.Error as e:
        raise StatementFailed(f"DROP DATABASE {name}", 1, _server_message(e), "shadow database") from None


def _local_available() -> bool:
    from deploy.db.throwaway import PG_BIN

    return (PG_BIN / "initdb").exists()


@contextmanager
def _local() -> Iterator[DbUrl]:
    from deploy.db.throwaway import ThrowawayPostgres

    if not _local_available():
        raise UsageError("no shadow database: PostgreSQL's initdb is not installed here and no server was given "
                         "(set db.shadow_database to an admin URL)")
    with ThrowawayPostgres() as server:
        with _database_on(server, ShadowSource(server)) as url:
            yield url


def schema_files(directory: Path) -> list[tuple[str, str]]:
    from deploy.db.desired import schema_files as paths

    if not directory.is_dir():
        raise SqlFileError(str(directory), 0, "", "schema directory not found")
    return [(str(p), p.read_text(encoding="utf-8-sig")) for p in paths(directory)]
