"""From a loaded config and an environment to what the database code needs: the URL,
the password (a Secret from the env's `secrets` table, never the TOML) and the sql/ dir."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.config import DbConfig, EnvConfig, Loaded
from deploy.db.connect import DbUrl, connect, parse_url
from deploy.db.typemap import read_desired
from deploy.db.model import Schema
from deploy.errors import UsageError


@dataclass(frozen=True)
class DbTarget:
    url: DbUrl
    password: str | None = field(repr=False)
    sql_dir: Path
    settings: DbConfig

    shadow: DbUrl | None = None

    def connect(self, autocommit: bool = False) -> Any:
        return connect(self.url, self.password, timeout=self.settings.timeout, autocommit=autocommit)

    def desired(self, directory: Path | None = None) -> Schema:
        """The schema `sql/schema` (or `directory`) declares. MySQL's is read back from a
        shadow database on the server (the server normalises it); the others are parsed."""
        directory = directory or self.sql_dir / "schema"
        if self.url.dialect != "mysql":
            return read_desired(directory, self.url.dialect, self.settings.schema_dialect)[0]
        from deploy.db.mysql.shadow import desired_from_directory, desired_from_files

        if directory.is_file():  # one .sql file
            files = [(str(directory), directory.read_text(encoding="utf-8-sig"))]
            return desired_from_files(self.url, self.password, files, timeout=self.settings.timeout, shadow=self.shadow)
        return desired_from_directory(self.url, self.password, directory, timeout=self.settings.timeout, shadow=self.shadow)


def db_settings(env: EnvConfig) -> DbConfig:
    return env.db or DbConfig()


def target(loaded: Loaded, env: EnvConfig, url: str | None = None) -> DbTarget:
    settings = db_settings(env)
    url = url or env.database
    if not url:
        raise UsageError("this environment has no `database` URL")
    password = None
    if settings.password_secret in env.secrets:
        password = env.load_secrets()[settings.password_secret].reveal()
    shadow = parse_url(settings.shadow_database, loaded.root) if settings.shadow_database else None
    return DbTarget(parse_url(url, loaded.root), password, loaded.resolve(settings.sql_dir), settings, shadow)


def test_target(loaded: Loaded, env: EnvConfig) -> DbTarget:
    settings = db_settings(env)
    if settings.test_database:
        return target(loaded, env, settings.test_database)
    base = target(loaded, env)
    if base.url.dialect == "sqlite":
        p = Path(base.url.database)
        return DbTarget(DbUrl("sqlite", str(p.with_name(f"test_{p.name}"))), None, base.sql_dir, settings)
    return DbTarget(base.url.with_database(f"test_{base.url.database}"), base.password, base.sql_dir, settings, base.shadow)
