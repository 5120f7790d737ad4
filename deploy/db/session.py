"""From a loaded config and an environment to what the database code needs: the URL,
the password (a Secret from the env's `secrets` table, never the TOML) and the sql/ dir."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy.db.connect import DbUrl, connect, parse_url
from deploy.errors import UsageError

if TYPE_CHECKING:  # the config models (pydantic) are not needed to use a loaded config
    from deploy.config import DbConfig, EnvConfig, Loaded
    from deploy.db.model import Schema


@dataclass(frozen=True)
class DbTarget:
    url: DbUrl
    password: str | None = field(repr=False)
    sql_dir: Path
    settings: DbConfig
    shadow: DbUrl | None = None  # MySQL: the configured shadow database (default: a throwaway beside)

    def connect(self, autocommit: bool = False) -> Any:
        return connect(self.url, self.password, timeout=self.settings.timeout, autocommit=autocommit)

    def mysql_desired(self, path: Path) -> Schema:
        """What a MySQL `sql/schema` dir (or one .sql file) declares, read back from a shadow
        database on this target's server: the server normalises it."""
        from deploy.db.mysql.shadow import desired_from_directory, desired_from_files

        if path.is_file():
            files = [(str(path), path.read_text(encoding="utf-8-sig"))]
            return desired_from_files(self.url, self.password, files, timeout=self.settings.timeout, shadow=self.shadow)
        return desired_from_directory(self.url, self.password, path, timeout=self.settings.timeout, shadow=self.shadow)


def db_settings(env: EnvConfig) -> DbConfig:
    if env.db is not None:
        return env.db
    from deploy.config import DbConfig

    return DbConfig()


def target(loaded: Loaded, env: EnvConfig, url: str | None = None) -> DbTarget:
    settings = db_settings(env)
    url = url or env.database
    if not url:
        raise UsageError("this environment has no `database` URL")
    password = None
    if settings.password_secret in env.secrets:
        password = env.load_secrets()[settings.password_secret].reveal()
    configured = settings.shadow_database or ""
    shadow = parse_url(configured, loaded.root) if configured.startswith(("mysql:", "mariadb:")) else None
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
