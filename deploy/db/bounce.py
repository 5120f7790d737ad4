"""Bounce the test database: drop it, create it, load `sql/schema` then `sql/seed`,
saying each file it reads (what the old create_test_db command printed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from deploy.db.connect import DbUrl, connect
from deploy.db.desired import schema_files
from deploy.db.errors import SqlFileError
from deploy.db.execute import run_statements
from deploy.db.mysql.split import runnable
from deploy.db.sqltext import SqlSyntaxError, split_statements


def _drop_create(url: DbUrl, password: str | None, timeout: int) -> list[str]:
    if url.dialect == "sqlite":
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
        return []
    name = url.database
    if url.dialect == "postgres":
        admin_db = url.params.get("maintenance_db", "postgres")
        q = '"' + name.replace('"', '""') + '"'
        stmts = [f"DROP DATABASE IF EXISTS {q} WITH (FORCE)", f"CREATE DATABASE {q}"]
    elif url.dialect == "mysql":
        admin_db = ""  # no database selected: the login alone
        q = "`" + name.replace("`", "``") + "`"
        stmts = [f"DROP DATABASE IF EXISTS {q}", f"CREATE DATABASE {q}"]
    else:
        admin_db = "master"
        q = "[" + name.replace("]", "]]") + "]"
        stmts = [f"IF DB_ID(N'{name}') IS NOT NULL ALTER DATABASE {q} SET SINGLE_USER WITH ROLLBACK IMMEDIATE",
                 f"IF DB_ID(N'{name}') IS NOT NULL DROP DATABASE {q}", f"CREATE DATABASE {q}"]
    admin = connect(url.with_database(admin_db), password, timeout=timeout, autocommit=True)
    try:
        for stmt in stmts:
            admin.cursor().execute(stmt)
    finally:
        admin.close()
    return stmts


def load_files(conn: Any, files: list[Path], dialect: str, log: Callable[[str], None]) -> None:
    for path in files:
        log(f"Reading File {path}")
        try:
            statements = split_statements(path.read_text(encoding="utf-8-sig"), dialect)
        except SqlSyntaxError as e:
            raise SqlFileError(str(path), e.line, "", str(e)) from None
        statements = runnable(statements) if dialect == "mysql" else statements
        run_statements(conn, statements, str(path))
    conn.commit()


def bounce(url: DbUrl, sql_dir: Path, *, password: str | None = None, timeout: int = 10,
           log: Callable[[str], None] = print, settings: Any = None) -> dict:
    """`settings` (the env's DbConfig): its reference tables are loaded from sql/data with the seed."""
    log(f"Bouncing database {url.database}")
    log(f"Dropping and Creating {url.database}")
    _drop_create(url, password, timeout)
    conn = connect(url, password, timeout=timeout)
    try:
        log(f"Finding Files in {sql_dir / 'schema'}")
        schema = schema_files(sql_dir / "schema") if (sql_dir / "schema").is_dir() else []
        load_files(conn, schema, url.dialect, log)
        seed = schema_files(sql_dir / "seed") if (sql_dir / "seed").is_dir() else []
        log("Loading Seed Data")
        load_files(conn, seed, url.dialect, log)
        if settings is not None and settings.data:
            _load_reference_data(conn, url.dialect, settings, sql_dir, log)
    finally:
        conn.close()
    return {"database": url.database, "schema_files": [str(p) for p in schema], "seed_files": [str(p) for p in seed]}


def _load_reference_data(conn: Any, dialect: str, settings: Any, sql_dir: Path, log: Callable[[str], None]) -> None:
    """The reference tables' rows, by the same data compare a deploy runs (into an empty table: inserts)."""
    from deploy.db.data import live_tables, sync_data
    from deploy.db.data.compare import resolve_specs

    schema = live_tables(conn, dialect)
    for spec in resolve_specs(schema, settings.data, sql_dir / "data"):
        log(f"Reading File {spec.file}")
    result = sync_data(conn, dialect, settings, sql_dir, apply_it=True, allow_destructive=True, write=lambda _: None, schema=schema)
    log(f"Loaded {result.total} reference row(s)")
