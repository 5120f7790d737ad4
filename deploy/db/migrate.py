"""Journaled migrations: `sql/migrations/NNNN_name.sql`, each applied once, in order, in its
own transaction, recorded with checksum, duration and who ran it. An applied script whose
checksum changed is an error naming the file; `baseline` records scripts without running them.

The journal table is created inside the first migration's transaction, so a migration
that fails leaves no trace at all: not its changes, not its journal row, not the table.
Not so on MySQL/MariaDB, which commits before and after every DDL statement: there a
failure says which statements of the script stayed committed (`MigrationPartlyApplied`),
the journal table is made only when a script is about to run, and dropped again if the
first run journals nothing."""

from __future__ import annotations

import getpass
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from deploy.db.errors import MigrationChanged, MigrationPartlyApplied, SqlFileError, StatementFailed
from deploy.db.execute import run_statements
from deploy.db.introspect import JOURNAL_TABLE
from deploy.db.mysql.split import commits_implicitly, runnable
from deploy.db.sqltext import SqlSyntaxError, Statement, split_statements

_NAME = re.compile(r"^(\d{4,})_[A-Za-z0-9_.-]+\.sql$")

_CREATE_JOURNAL = {
    "postgres": f"CREATE TABLE IF NOT EXISTS {JOURNAL_TABLE} (version varchar(32) PRIMARY KEY, name varchar(255) NOT NULL, "
                "checksum char(64) NOT NULL, applied_at varchar(32) NOT NULL, duration_ms integer NOT NULL, applied_by varchar(128) NOT NULL)",
    "sqlite": f"CREATE TABLE IF NOT EXISTS {JOURNAL_TABLE} (version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, "
              "applied_at text NOT NULL, duration_ms integer NOT NULL, applied_by text NOT NULL)",
    "mysql": f"CREATE TABLE IF NOT EXISTS {JOURNAL_TABLE} (version varchar(32) NOT NULL PRIMARY KEY, name varchar(255) NOT NULL, "
             "checksum char(64) NOT NULL, applied_at varchar(32) NOT NULL, duration_ms int NOT NULL, applied_by varchar(128) NOT NULL)",
    "tsql": f"IF OBJECT_ID(N'dbo.{JOURNAL_TABLE}', N'U') IS NULL CREATE TABLE dbo.{JOURNAL_TABLE} (version varchar(32) NOT NULL "
            "PRIMARY KEY, name nvarchar(255) NOT NULL, checksum char(64) NOT NULL, applied_at varchar(32) NOT NULL, "
            "duration_ms int NOT NULL, applied_by nvarchar(128) NOT NULL)",
}


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path

    @property
    def checksum(self) -> str:
        """Over the text with line endings unified, so a checkout on Windows is not a change."""
        text = self.path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
        return hashlib.sha256(text.encode()).hexdigest()


def find_migrations(directory: Path) -> list[Migration]:
    if not directory.is_dir():
        return []
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise SqlFileError(str(path), 0, "", "migration files are named NNNN_name.sql")
        found.append(Migration(m.group(1), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        dupes = sorted({v for v in versions if versions.count(v) > 1})
        raise SqlFileError(str(directory), 0, "", f"duplicate migration number(s) {', '.join(dupes)}")
    return found


def applied(conn: Any, dialect: str) -> dict[str, tuple[str, str]]:
    """What the journal holds. Creates the table in the caller's open transaction: it is
    committed with the first migration, or rolled back with everything else (on MySQL,
    where CREATE TABLE commits at once, an absent journal is read as empty instead)."""
    if dialect == "mysql" and not _mysql_journal_exists(conn):
        return {}
    conn.cursor().execute(_CREATE_JOURNAL[dialect])
    rows = conn.cursor().execute(f"SELECT version, name, checksum FROM {JOURNAL_TABLE}").fetchall()
    return {str(v): (str(n), str(c).strip()) for v, n, c in rows}


def pending(conn: Any, dialect: str, directory: Path) -> list[Migration]:
    """Scripts not yet applied; raises if an applied one has changed since."""
    done = applied(conn, dialect)
    todo = []
    for mig in find_migrations(directory):
        if mig.version in done:
            if done[mig.version][1] != mig.checksum:
                raise MigrationChanged(str(mig.path), done[mig.version][1], mig.checksum)
            continue
        todo.append(mig)
    return todo


def pending_preview(conn: Any, dialect: str, directory: Path) -> str:
    """What `invoke plan` shows of the migrate step (read-only; the caller rolls back): the
    scripts that would run and, on MySQL, which of their statements commit on their own."""
    todo = pending(conn, dialect, directory)
    if not todo:
        return "-- migrations: none pending"
    lines = [f"-- migrations to run, in order: {', '.join(m.path.name for m in todo)}"]
    for mig in todo if dialect == "mysql" else []:
        statements = runnable(split_statements(mig.path.read_text(encoding="utf-8-sig"), dialect))
        ddl = [str(i) for i, s in enumerate(statements, 1) if commits_implicitly(s.text)]
        if ddl:
            lines.append(f"-- {mig.path.name}: statement(s) {', '.join(ddl)} of {len(statements)} not transactional "
                         "(MySQL commits DDL implicitly; a failure after one leaves it applied)")
    return "\n".join(lines)


def migrate(conn: Any, dialect: str, directory: Path, *, baseline: bool = False,
            log: Callable[[str], None] = print) -> list[dict]:
    """Apply (or with `baseline`, only record) every pending script; returns what ran.
    Each script and its journal row commit together; on any failure the open
    transaction is rolled back, so nothing of the failed script remains."""
    conn.autocommit = False
    ran: list[dict] = []
    created = False
    try:
        todo = pending(conn, dialect, directory)
        if todo and dialect == "mysql" and not _mysql_journal_exists(conn):
            conn.cursor().execute(_CREATE_JOURNAL[dialect])  # commits: MySQL has no transactional DDL
            created = True
        for mig in todo:
            ran.append(_apply(conn, dialect, mig, baseline, log))
        conn.rollback()  # nothing pending: a journal table created just now is not kept
    except BaseException:
        conn.rollback()
        if created and not ran:
            conn.cursor().execute(f"DROP TABLE IF EXISTS {JOURNAL_TABLE}")
        raise
    return ran


def _mysql_journal_exists(conn: Any) -> bool:
    return conn.cursor().execute("SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                                 "AND TABLE_NAME = ?", JOURNAL_TABLE).fetchone()[0] > 0


def _apply(conn: Any, dialect: str, mig: Migration, baseline: bool, log: Callable[[str], None]) -> dict:
    started = time.monotonic()
    if baseline:
        log(f"Baseline: marking {mig.path.name} as applied")
    else:
        log(f"Applying {mig.path.name}")
        try:
            statements = split_statements(mig.path.read_text(encoding="utf-8-sig"), dialect)
        except SqlSyntaxError as e:
            raise SqlFileError(str(mig.path), e.line, "", str(e)) from None
        if dialect == "mysql":
            _run_mysql(conn, runnable(statements), str(mig.path))
        else:
            run_statements(conn, statements, str(mig.path))
    duration = int((time.monotonic() - started) * 1000)
    _record(conn, mig, duration)
    conn.commit()
    return {"version": mig.version, "name": mig.path.name, "checksum": mig.checksum,
            "duration_ms": duration, "baseline": baseline}


def _run_mysql(conn: Any, statements: list[Statement], source: str) -> None:
    """One statement at a time, so a failure can say how many of them MySQL had already
    committed: all before a failing DDL statement, else up to the last DDL one before it."""
    for index, stmt in enumerate(statements):
        try:
            run_statements(conn, [stmt], source)
        except StatementFailed as failed:
            earlier = [i + 1 for i, s in enumerate(statements[:index]) if commits_implicitly(s.text)]
            committed = index if commits_implicitly(stmt.text) else max(earlier, default=0)
            if committed:
                raise MigrationPartlyApplied(failed, Path(source).name, committed, len(statements)) from None
            raise


def _record(conn: Any, mig: Migration, duration_ms: int) -> None:
    conn.cursor().execute(
        f"INSERT INTO {JOURNAL_TABLE} (version, name, checksum, applied_at, duration_ms, applied_by) VALUES (?, ?, ?, ?, ?, ?)",
        mig.version, mig.path.name, mig.checksum, datetime.now(timezone.utc).isoformat(timespec="seconds"),
        duration_ms, _who(),
    )


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
