"""Load and validate shipyard.toml before anything touches a host.

Every mistake is reported as `file: key.path: what is wrong` and exits 2.
Unknown keys are errors: a typo must never be silently ignored.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from deploy.config_base import Strict
from deploy.config_lean import DEFAULT_FILE, chosen_file, find_config as nearest_config, resolve_under
from deploy.config_messages import describe, key_path, looks_like_a_variable_name, problems  # noqa: F401 (re-exported)
from deploy.config_rules import deploy_to_problem, linked_path_problem, lock_timeout_problem, overlapping, root_problems
from deploy.config_hosts import HostConfig, PsExecOptions, SmbOptions, SshOptions, WinRMOptions  # noqa: F401 (re-exported)
from deploy.config_services import HaproxyConfig, HealthConfig, ServiceConfig, SupervisorConfig  # noqa: F401 (re-exported)
from deploy.errors import ConfigError
from deploy.secrets import Secret, load_secret, withhold
from deploy.siteconfig.model import SiteConfig

STAGES = ("starting", "updating", "publishing", "finishing", "failed")
class RolloutConfig(Strict):
    batch: int | str = 1
    drain: Literal["none", "haproxy"] = "none"
    max_fail: str = "0%"

    @field_validator("batch")
    @classmethod
    def _batch(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 1:
            raise ValueError(f"must be >= 1 or a percentage like \"25%\", got {v}")
        if isinstance(v, str) and not re.fullmatch(r"(100|[1-9]\d?)%", v):
            raise ValueError(f"must be a whole number or a percentage from 1% to 100%, got {v!r}")
        return v

    @field_validator("max_fail")
    @classmethod
    def _max_fail(cls, v: str) -> str:
        if not re.fullmatch(r"(100|[1-9]?\d)%", v):
            raise ValueError(f"must be a percentage from 0% to 100%, got {v!r}")
        return v


class HooksConfig(Strict):
    before_starting: list[str] = []
    after_starting: list[str] = []
    before_updating: list[str] = []
    after_updating: list[str] = []
    before_publishing: list[str] = []
    after_publishing: list[str] = []
    before_finishing: list[str] = []
    after_finishing: list[str] = []
    failed: list[str] = []

    def commands(self, when: str, stage: str) -> list[str]:
        return list(getattr(self, stage if when == "on" else f"{when}_{stage}", []))


class NotifyConfig(Strict):
    """A webhook told when a deploy starts, fails and ends (JSON POST; Slack/Teams-style `text` included)."""

    url: str = Field(pattern=r"^https?://\S+$")
    token_secret: str | None = None  # a name from env.secrets, sent as `Authorization: Bearer ...`
    on: list[Literal["start", "failure", "end"]] = ["start", "failure", "end"]
    timeout: float = Field(default=10.0, gt=0, le=120)
    retries: int = Field(default=3, ge=0, le=10)


class DataTableConfig(Strict):
    """A reference table whose rows Shipyard keeps equal to its data file (`[[env.X.db.data]]`)."""

    table: str = Field(min_length=1)
    key: list[str] | None = None  # default: the primary key; or a declared unique key
    file: str | None = None  # default: <sql_dir>/data/<table>.csv | .json | .sql


class DbConfig(Strict):
    """How Shipyard treats an environment's database (`[env.X.db]`)."""

    sql_dir: str = "sql"
    password_secret: str = "DB_PASSWORD"
    test_database: str | None = None
    allow_destructive: bool = False
    deploy_steps: list[Literal["migrate", "sync", "data"]] = []
    renames: list[str] = []
    timeout: int = Field(default=10, ge=1, le=600)
    # sql/schema read back in: PostgreSQL an admin URL or "local", MySQL a database to reuse (default: a throwaway one)
    shadow_database: str | None = Field(default=None, pattern=r"^(local|(postgres(ql)?|mysql|mariadb)://.+)$")
    with_privileges: bool = False  # PostgreSQL: compare and sync GRANT/REVOKE too
    with_owners: bool = False  # PostgreSQL: and owners (ALTER ... OWNER TO)
    concurrently: bool = False  # PostgreSQL: indexes on tables that stay built CONCURRENTLY after the transaction
    # PostgreSQL: how long a statement of the script waits for a lock (default 3s with concurrently, else the server's)
    lock_timeout: str | None = None
    # SQL Server only: the version scripts are written for (default: what the server reports, else 2016)
    server_version: Literal["2008R2", "2012", "2014", "2016", "2017", "2019", "2022"] | None = None
    schema_dialect: Literal["postgres", "sqlite", "tsql"] | None = None  # what sql/schema is written for (default: the target's)
    data: list[DataTableConfig] = []  # reference data compare (db.data-diff / db.data-sync)
    data_batch: int = Field(default=1000, ge=10, le=100000)  # rows per keyed page of a live table
    data_merge: bool = False  # SQL Server: inserts and updates as MERGE statements

    @field_validator("lock_timeout")
    @classmethod
    def _lock_timeout(cls, v: str | None) -> str | None:
        problem = None if v is None else lock_timeout_problem(v)
        if problem:
            raise ValueError(problem)
        return v


class EnvConfig(Strict):
    deploy_to: str = ".shipyard/local"
    database: str | None = None
    hosts: list[HostConfig] = Field(default_factory=lambda: [HostConfig(name="localhost", transport="local")])
    keep_releases: int = Field(default=5, ge=1)
    linked_dirs: list[str] = []
    linked_files: list[str] = []
    app_port: int = Field(default=8000, ge=1, le=65535)
    python: str | None = None
    rollout: RolloutConfig = RolloutConfig()
    health: HealthConfig = HealthConfig()
    supervisor: SupervisorConfig | None = None
    services: list[ServiceConfig] = []
    secrets: dict[str, str] = {}
    command_timeout: float = Field(default=600.0, gt=0)
    parallel: int = Field(default=32, ge=1, le=256)
    notify: NotifyConfig | None = None
    site: SiteConfig | None = None
    db: DbConfig | None = None
    ssh: SshOptions | None = None
    haproxy: HaproxyConfig | None = None
    lock_ttl: float = Field(default=3600.0, gt=0)
    max_unpacked_bytes: int = Field(default=2 << 30, ge=1 << 20)  # an artifact unpacking to more is refused
    max_compression_ratio: float = Field(default=200.0, gt=1)  # unpacked/compressed above this: a bomb

    @field_validator("linked_dirs", "linked_files")
    @classmethod
    def _relative(cls, v: list[str]) -> list[str]:
        for p in v:
            if problem := linked_path_problem(p):
                raise ValueError(f"must be a relative path inside the app, got {p!r} ({problem})")
        return v

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name, var in v.items():
            if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
                raise ValueError("each key must be a variable name (A-Z, 0-9, _); the key is not shown, "
                                 "in case it is a secret pasted by mistake")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
                raise ValueError(f"{name}: must name the environment variable that holds the secret, not the "
                                 "secret itself (what is written there is not shown, in case it is one)")
        return v

    @model_validator(mode="after")
    def _unique_hosts(self) -> "EnvConfig":
        names = [h.name for h in self.hosts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"hosts: duplicate host name(s) {', '.join(dupes)}")
        if not self.hosts:
            raise ValueError("hosts: at least one host is required")
        return self

    @model_validator(mode="after")
    def _linked_apart(self) -> "EnvConfig":
        if problem := overlapping([*self.linked_dirs, *self.linked_files]):
            raise ValueError(f"linked_dirs/linked_files: {problem}")
        return self

    @model_validator(mode="after")
    def _deploy_roots(self) -> "EnvConfig":
        explicit = "deploy_to" in self.model_fields_set
        for i, host in enumerate(self.hosts):
            if not (host.deploy_to or explicit or host.transport == "local"):
                continue  # Loaded gives it the remote default
            if problem := deploy_to_problem(self.host_deploy_to(host), host.is_windows, host.transport == "local"):
                raise ValueError(f"{f'hosts[{i}].deploy_to' if host.deploy_to else 'deploy_to'}: {problem}")
        return self

    @model_validator(mode="after")
    def _notify_token_is_a_secret(self) -> "EnvConfig":
        token = self.notify.token_secret if self.notify else None
        if token and token not in self.secrets:
            known = ", ".join(sorted(self.secrets)) or "none"
            raise ValueError(f"notify.token_secret: {token!r} is not a name in secrets (defined: {known})")
        return self

    def host_deploy_to(self, host: HostConfig) -> str:
        return host.deploy_to or self.deploy_to

    def host_app_port(self, host: HostConfig) -> int:
        return host.app_port or self.app_port

    def host_ssh(self, host: HostConfig) -> SshOptions:
        return host.ssh or self.ssh or SshOptions()

    def load_secrets(self, environ: dict[str, str] | None = None, withhold_vars: bool = False) -> dict[str, Secret]:
        """Every secret, from `environ` (default: this process's); with `withhold_vars` the variables
        they came from then leave this process's environment, so no child process inherits them."""
        found = self._read_secrets(environ)
        if withhold_vars and environ is None:
            withhold(self.secrets.values())
        return found

    def _read_secrets(self, environ: dict[str, str] | None) -> dict[str, Secret]:
        found, missing = {}, []
        for name, var in self.secrets.items():
            secret = load_secret(name, var, environ)
            if secret is None:
                shown = var if looks_like_a_variable_name(var) else "(named in shipyard.toml; not shown: it may be a secret)"
                missing.append(f"secrets.{name}: environment variable {shown} is not set")
            else:
                found[name] = secret
        if missing:
            raise ConfigError("environment", missing)
        return found


class ProjectConfig(Strict):
    name: str = Field(default="site", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    repo: str = "."
    app_dir: str = "."
    vcs: Literal["auto", "git", "hg"] = "auto"


class BuildConfig(Strict):
    dist_dir: str = "dist"
    requirements: str | None = "requirements.txt"
    collectstatic: bool = True
    settings_module: str | None = None
    wheel_cache: str = ".shipyard/cache/wheels"
    windows_bundles: bool = True  # a win_amd64 bundle per Windows Python named (false: hosts install wheels)


class ShipyardConfig(Strict):
    project: ProjectConfig = ProjectConfig()
    build: BuildConfig = BuildConfig()
    hooks: HooksConfig = HooksConfig()
    env: dict[str, EnvConfig] = {}


class Loaded:
    """A validated config with the directory it came from (relative paths hang off it)."""

    def __init__(self, path: Path, model: ShipyardConfig):
        self.path = path
        self.root = path.parent
        self.model = model

    @property
    def project(self) -> ProjectConfig:
        return self.model.project

    @property
    def build(self) -> BuildConfig:
        return self.model.build

    def resolve(self, relative: str) -> Path:
        return resolve_under(self.root, relative)

    def environment(self, name: str) -> EnvConfig:
        if name in self.model.env:
            env = self.model.env[name]
        elif (generated := self.generated_env(name)) is not None:
            env = generated
        elif name == "local":
            env = EnvConfig(supervisor=SupervisorConfig())
        else:
            known = ", ".join(sorted(self.model.env)) or "none"
            raise ConfigError(str(self.path), [f"env.{name}: no such environment (defined: {known})"])
        return self._localise(name, env)

    def all_envs(self) -> dict[str, EnvConfig]:
        """The environments of the file and those tools generated (a broken generated one is
        reported when it is selected, not here)."""
        envs = dict(self.model.env)
        for path in sorted((self.root / ".shipyard" / "env").glob("*.toml")):
            if path.stem not in envs:
                try:
                    envs[path.stem] = self.generated_env(path.stem)
                except ConfigError:
                    continue
        return {name: env for name, env in envs.items() if env is not None}

    def generated_env_path(self, name: str) -> Path:
        """Where tools (`invoke lab.up`) write an environment for this project: not in shipyard.toml."""
        return self.root / ".shipyard" / "env" / f"{name}.toml"

    def generated_env(self, name: str) -> EnvConfig | None:
        path = self.generated_env_path(name)
        if not path.is_file():
            return None
        try:
            return EnvConfig.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(str(path), [f"not valid TOML: {e}"]) from None
        except ValidationError as e:
            raise ConfigError(str(path), problems(e, EnvConfig)) from None

    def _localise(self, name: str, env: EnvConfig) -> EnvConfig:
        """Local hosts' relative deploy_to paths hang off the config's directory; a remote host
        with no deploy_to anywhere gets Capistrano's default, /var/www/<project>
        (C:\\Shipyard\\<project> on Windows), never a path relative to its login directory."""
        if all(h.transport == "local" for h in env.hosts):
            env = env.model_copy(update={"deploy_to": str(self.resolve(env.deploy_to))})
        explicit = "deploy_to" in env.model_fields_set
        hosts = [h.model_copy(update={"deploy_to": self._host_root(h, env.deploy_to, explicit)}) for h in env.hosts]
        env = env.model_copy(update={"hosts": hosts})
        if env.supervisor and env.supervisor.managed:  # supervisord %-expands its values, whatever the quoting
            bad = [h.deploy_to for h in hosts if not h.is_windows and "%" in (h.deploy_to or "")]
            if bad:
                raise ConfigError(self.path.name, [f"env.{name}.deploy_to: {bad[0]} holds a '%', which the managed "
                                                   "supervisord would expand: choose a path without one"])
        return env

    def _host_root(self, host: HostConfig, env_root: str, explicit: bool) -> str | None:
        if host.transport == "local":
            return str(self.resolve(host.deploy_to or env_root))
        if host.deploy_to or explicit:
            return host.deploy_to
        return f"C:\\Shipyard\\{self.project.name}" if host.is_windows else f"/var/www/{self.project.name}"


def parse(text: str, file: str) -> ShipyardConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(file, [f"not valid TOML: {e}"]) from None
    try:
        return ShipyardConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(file, problems(e, ShipyardConfig)) from None


def find_config(start: Path | None = None) -> Path:
    found = nearest_config(start)
    if found is not None:
        return found
    here = (start or Path.cwd()).resolve()
    raise ConfigError(DEFAULT_FILE, [f"not found in {here} or any parent directory (use --config PATH)"])


def load(path: str | Path | None = None) -> Loaded:
    file = chosen_file(path) or find_config()  # none found: find_config says where it looked
    if not file.is_file():
        raise ConfigError(str(file), ["file not found"])
    loaded = Loaded(file.resolve(), parse(file.read_text(encoding="utf-8"), file.name))
    if nested := root_problems(loaded.all_envs(), str(loaded.root), loaded.resolve):
        raise ConfigError(file.name, nested)
    return loaded
