"""The site model seen from one host: absolute paths in the host's flavour,
upstreams from the environment's hosts, and which servers this host runs.

Templates get only what this module computes, so they stay free of logic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from deploy.config import EnvConfig, HostConfig
from deploy.siteconfig.model import SiteConfig
from deploy.errors import ConfigError

FRONT_KINDS = ("haproxy", "varnish")  # run on load-balancer hosts
WEB_KINDS = ("apache", "iis", "nginx", "supervisor", "systemd")
WINDOWS_KINDS = ("apache", "iis")


@dataclass(frozen=True)
class Upstream:
    """One web host as a load balancer sees it."""

    name: str
    address: str
    port: int

    @property
    def ident(self) -> str:
        """The name as an identifier every config language accepts (VCL, nginx variables)."""
        return slug(self.name)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def site_of(env_name: str, env: EnvConfig) -> SiteConfig:
    if env.site is None:
        raise ConfigError("shipyard.toml", [f"env.{env_name}.site: not set (no server configs to render)"])
    return env.site


def web_hosts(env: EnvConfig) -> list[HostConfig]:
    return [h for h in env.hosts if "web" in h.roles]


def upstreams(env: EnvConfig) -> list[Upstream]:
    return [Upstream(h.name, h.target, env.host_app_port(h)) for h in web_hosts(env)]


def lb_hosts(env: EnvConfig, site: SiteConfig) -> list[HostConfig]:
    """Hosts with the load-balancer role; with none, every host balances for itself."""
    marked = [h for h in env.hosts if site.lb_role in h.roles]
    return marked or list(env.hosts)


def kinds_for(env: EnvConfig, site: SiteConfig, host: HostConfig) -> list[str]:
    """The servers (from site.servers, in order) this host runs."""
    is_lb = host in lb_hosts(env, site)
    is_web = "web" in host.roles
    on_platform = WINDOWS_KINDS if host.is_windows else tuple(k for k in site.servers if k != "iis")
    return [
        k for k in site.servers
        if k in on_platform and ((k in FRONT_KINDS and is_lb) or (k in WEB_KINDS and is_web))
    ]


def trusted_proxies(env: EnvConfig, site: SiteConfig) -> list[str]:
    """Addresses whose X-Forwarded-For we believe: loopback plus the balancers."""
    found = ["127.0.0.1"]
    for h in lb_hosts(env, site):
        if h.target not in found and re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", h.target):
            found.append(h.target)
    return found


def bind_address(env: EnvConfig) -> str:
    """Loopback when every web host is this box's loopback, else all interfaces."""
    local = all(h.transport == "local" or h.target.startswith("127.") for h in web_hosts(env))
    return "127.0.0.1" if local else "0.0.0.0"


@dataclass(frozen=True)
class HostPaths:
    """Absolute paths on one host; Windows hosts get drive paths in forward-slash form
    (Apache) and backslash form (IIS) from the same values."""

    deploy_to: str
    windows: bool
    site: SiteConfig

    def _path(self, relative: str) -> PurePosixPath | PureWindowsPath:
        flavour = PureWindowsPath if self.windows else PurePosixPath
        p = flavour(relative)
        return p if p.is_absolute() else flavour(self.deploy_to) / p

    def get(self, relative: str) -> str:
        p = self._path(relative)
        return p.as_posix() if self.windows else str(p)

    def native(self, relative: str) -> str:
        return str(self._path(relative))

    @property
    def current(self) -> str:
        return self.get("current")

    @property
    def etc(self) -> str:
        return self.get("current/etc")

    def venv_bin(self, program: str) -> str:
        if self.windows:
            return self.native(f"{self.site.venv}/Scripts/{program}.exe")
        return self.get(f"{self.site.venv}/bin/{program}")

    def host_roots(self) -> list[str]:
        """Every host directory a rendered file points into (the validator relocates them)."""
        names = ("current", "shared", self.site.app_dir, self.site.log_dir,
                 self.site.run_dir, self.site.static_root, self.site.media_root)
        return sorted({self.get(n) for n in names}, key=lambda p: (-len(p), p))

    def host_programs(self) -> list[str]:
        """Programs the configs start from the venv (the venv may be a system prefix like
        /usr, so the validator stands in for these files, not for the whole venv)."""
        return [] if self.windows else [self.venv_bin("gunicorn"), self.venv_bin("celery")]
