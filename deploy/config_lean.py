"""A shipyard.toml read without the config models (pydantic), for the console script's lean
`db.diff` path: only a file with nothing in it that db.diff reads — `[env.NAME]` tables of
`deploy_to` and `database` strings, or no file at all when both sides are given — whose
validation this module can repeat exactly (the same rules, deploy/config_rules.py). For
anything else `lean_config` answers None and the caller loads the config as the tasks do
(deploy.config), which reports whatever is wrong with it."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from deploy.config_rules import deploy_to_problem, root_problems

DEFAULT_FILE = "shipyard.toml"
_DEFAULT_DEPLOY_TO = ".shipyard/local"
_ENV_KEYS = {"deploy_to", "database"}


def resolve_under(root: Path, relative: str) -> Path:
    """A config path: `~` expanded, a relative one hanging off the config's directory."""
    p = Path(os.path.expanduser(relative))
    return p if p.is_absolute() else (root / p).resolve()


def find_config(start: Path | None = None) -> Path | None:
    """shipyard.toml in `start` (default: the working directory) or the nearest parent."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / DEFAULT_FILE).is_file():
            return d / DEFAULT_FILE
    return None


@dataclass(frozen=True)
class DbDefaults:
    """DbConfig's defaults (deploy.config; a unit test compares every field): what an
    environment without a `[env.X.db]` table gets."""

    sql_dir: str = "sql"
    password_secret: str = "DB_PASSWORD"
    test_database: str | None = None
    allow_destructive: bool = False
    deploy_steps: tuple[str, ...] = ()
    renames: tuple[str, ...] = ()
    timeout: int = 10
    shadow_database: str | None = None
    with_privileges: bool = False
    with_owners: bool = False
    concurrently: bool = False
    lock_timeout: str | None = None
    server_version: str | None = None
    schema_dialect: str | None = None
    data: tuple = ()
    data_batch: int = 1000
    data_merge: bool = False


@dataclass(frozen=True)
class LocalHost:
    """The one host an environment without `hosts` has (HostConfig's default)."""

    name: str = "localhost"
    transport: str = "local"
    deploy_to: str | None = None
    is_windows: bool = False

    @property
    def target(self) -> str:
        return self.name


@dataclass(frozen=True)
class LeanEnv:
    deploy_to: str = _DEFAULT_DEPLOY_TO
    database: str | None = None
    db: DbDefaults = DbDefaults()
    secrets: dict[str, str] = field(default_factory=dict)
    hosts: tuple[LocalHost, ...] = (LocalHost(),)

    def host_deploy_to(self, host: LocalHost) -> str:
        return host.deploy_to or self.deploy_to

    def load_secrets(self) -> dict:
        return {}


@dataclass(frozen=True)
class LeanLoaded:
    path: Path

    @property
    def root(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        return resolve_under(self.root, relative)


def chosen_file(config: str | Path | None) -> Path | None:
    """The file a config is read from: --config, else $SHIPYARD_CONFIG, else the nearest
    shipyard.toml (None: there is none)."""
    if config:
        return Path(config)
    if os.environ.get("SHIPYARD_CONFIG"):
        return Path(os.environ["SHIPYARD_CONFIG"])
    return find_config()


def _located(config: str | None, standalone: bool) -> Path | None | bool:
    """The config file deploy.config.load would read; None for "no file, and none is needed";
    False when that is not something this module answers (the file is missing, ...)."""
    file = chosen_file(config)
    if file is None:
        return None if standalone else False
    return file if file.is_file() else False


def _envs(data: dict) -> dict[str, LeanEnv] | None:
    """The file's environments, or None when it holds anything but plain ones."""
    if set(data) - {"env"} or not isinstance(data.get("env", {}), dict):
        return None
    envs = {}
    for name, table in data.get("env", {}).items():
        if not isinstance(table, dict) or set(table) - _ENV_KEYS or not all(isinstance(v, str) for v in table.values()):
            return None
        envs[name] = LeanEnv(**table)
    return envs


def lean_config(config: str | None, env_name: str, standalone: bool) -> tuple[LeanLoaded, LeanEnv] | None:
    """(config, environment) as deploy.config would load and localise them, when the file is
    one this module can validate; None otherwise."""
    file = _located(config, standalone)
    if file is False:
        return None
    if file is None:
        loaded, envs = LeanLoaded(Path.cwd() / DEFAULT_FILE), {}
    else:
        try:
            envs = _envs(tomllib.loads(file.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            return None
        loaded = LeanLoaded(file.resolve())
    if envs is None or (loaded.root / ".shipyard" / "env").is_dir():  # generated environments: the full loader
        return None
    if any(deploy_to_problem(env.deploy_to, False, True) for env in envs.values()):
        return None
    if file is not None and root_problems(envs, str(loaded.root), loaded.resolve):
        return None
    if env_name in envs:
        return loaded, LeanEnv(str(loaded.resolve(envs[env_name].deploy_to)), envs[env_name].database)
    if env_name != "local":
        return None
    env = LeanEnv(str(loaded.resolve(_DEFAULT_DEPLOY_TO)))
    return None if "%" in env.deploy_to else (loaded, env)  # the default local env's supervisord would refuse it
