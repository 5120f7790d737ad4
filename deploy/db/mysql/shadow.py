"""The desired schema as the server itself reads it (Skeema's workspace, Atlas's dev database):
the `sql/schema` files run in a throwaway database on the same server, created with the live
database's character set and collation, read back with the live introspector, then dropped.
A statement the server refuses (a MySQL-only construct on MariaDB, or the reverse) fails
with the file, the line, the statement and the server's own message."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

from deploy.db.connect import DbUrl, connect
from deploy.db.desired import schema_files
from deploy.db.errors import SqlFileError
from deploy.db.model import Schema
from deploy.db.introspect.mysql import introspect_mysql, q
from deploy.db.mysql.reader import PROGRAMMABLE, routine
from deploy.db.mysql.split import runnable
from deploy.db.sqltext import SqlSyntaxError, Statement, split_statements

# statements of a schema file that would leave the shadow database or change the server
_NOT_IN_SHADOW = ("USE", "CREATE DATABASE", "DROP DATABASE", "CREATE SCHEMA", "DROP SCHEMA")
SHADOW_PREFIX = "shipyard_shadow_"


def shadow_name(database: str) -> str:
    """Unique, recognisable, within MySQL's 64-character limit."""
    return f"{SHADOW_PREFIX}{secrets.token_hex(4)}_{database}"[:64]


def desired_from_files(url: DbUrl, password: str | None, sql_files: list[tuple[str, str]], *,
                       timeout: int = 10, shadow: DbUrl | None = None) -> Schema:
    """`sql_files` are (file name, text) pairs, run in order in a shadow database: a new one
    beside `url`'s (dropped afterwards), or the configured `shadow` database (emptied first)."""
    admin = connect(url, password, timeout=timeout, autocommit=True)
    try:
        charset, collation = admin.cursor().execute(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
            "WHERE SCHEMA_NAME = DATABASE()").fetchone()
        target = shadow or url.with_database(shadow_name(url.database))
        if shadow is None:
            admin.cursor().execute(f"CREATE DATABASE {q(target.database)} CHARACTER SET {charset} COLLATE {collation}")
        try:
            return _load(target, password, sql_files, timeout)
        finally:
            if shadow is None:
                admin.cursor().execute(f"DROP DATABASE IF EXISTS {q(target.database)}")
    finally:
        admin.close()


def desired_from_directory(url: DbUrl, password: str | None, directory: Path, **kw: Any) -> Schema:
    if not directory.is_dir():
        raise SqlFileError(str(directory), 0, "", "schema directory not found")
    files = [(str(p), p.read_text(encoding="utf-8-sig")) for p in schema_files(directory)]
    return desired_from_files(url, password, files, **kw)


def _load(target: DbUrl, password: str | None, sql_files: list[tuple[str, str]], timeout: int) -> Schema:
    import pyodbc

    conn = connect(target, password, timeout=timeout, autocommit=True)
    try:
        cur = conn.cursor()
        empty_database(cur)
        written: dict[tuple, str] = {}
        for file, text in sql_files:
            for stmt in _statements(file, text):
                try:
                    cur.execute(stmt.text)
                except pyodbc.Error as e:
                    message = " ".join(str(a) for a in e.args)
                    raise SqlFileError(file, stmt.line, stmt.text, f"the server refused it: {message}") from None
                if PROGRAMMABLE.match(stmt.text):
                    written[routine(stmt.text, stmt.line).key] = stmt.text
        return _as_written(introspect_mysql(conn), written)
    finally:
        conn.close()


def _as_written(schema: Schema, written: dict[tuple, str]) -> Schema:
    """Views, routines, triggers and events are created from the text the user wrote (its
    DEFINER and an event's STARTS default to whoever and whenever runs the script) and
    compared by the server's rendering of it (their `fingerprint`)."""
    for key, found in list(schema.routines.items()):
        if key in written:
            schema.routines[key] = replace(found, definition=written[key].strip().rstrip(";").rstrip())
    return schema


def _statements(file: str, text: str) -> list[Statement]:
    try:
        found = split_statements(text, "mysql")
    except SqlSyntaxError as e:
        raise SqlFileError(file, e.line, "", str(e)) from None
    return [s for s in runnable(found) if not s.text.upper().startswith(_NOT_IN_SHADOW)]


def empty_database(cur: Any) -> None:
    """Drop every object in the connection's database (a configured shadow is reused)."""
    cur.execute("SET FOREIGN_KEY_CHECKS = 0")
    rows = cur.execute("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()").fetchall()
    for name, kind in rows:
        cur.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS {q(name)}")
    for kind, name in cur.execute("SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES "
                                  "WHERE ROUTINE_SCHEMA = DATABASE()").fetchall():
        cur.execute(f"DROP {kind} IF EXISTS {q(name)}")
    for (name,) in cur.execute("SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()").fetchall():
        cur.execute(f"DROP EVENT IF EXISTS {q(name)}")
    cur.execute("SET FOREIGN_KEY_CHECKS = 1")
