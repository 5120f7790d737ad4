"""The site model (`[env.X.site]` in shipyard.toml) the server configs render from.

Kept beside the renderer rather than in deploy/config.py, which imports it for
EnvConfig.site; the same strict base (unknown keys are errors) is repeated here
because config.py cannot be imported from a module it imports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from deploy.config_base import Strict


_HOST_PORT = r"^[A-Za-z0-9_.:\[\]-]+:\d{1,5}$"
_DOTTED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


class TlsConfig(Strict):
    """Certificate files as they exist on the hosts (never in the repo)."""

    cert: str = Field(min_length=1)
    key: str = Field(min_length=1)
    pem: str | None = Field(default=None, min_length=1)  # cert + key in one file, as HAProxy wants it


class VarnishHookConfig(Strict):
    """Ban objects after a deploy through varnishadm: `-n workdir` or `-T admin -S secret`."""

    workdir: str | None = None
    admin: str | None = Field(default=None, pattern=_HOST_PORT)
    secret: str | None = None
    bans: list[str] = Field(default_factory=lambda: ["req.url ~ ."], min_length=1)
    timeout: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _one_way_in(self) -> "VarnishHookConfig":
        if (self.workdir is None) == (self.admin is None):
            raise ValueError("set exactly one of workdir (varnishadm -n) or admin (varnishadm -T)")
        if self.admin is not None and self.secret is None:
            raise ValueError("admin needs secret (the -S file varnishd was started with)")
        return self


class MemcachedHookConfig(Strict):
    """After a deploy: `flush` every server, or `bump` a counter the app puts in its cache keys."""

    servers: list[str] = Field(min_length=1)
    action: Literal["flush", "bump"] = "bump"
    prefix_key: str = Field(default="shipyard:cache-prefix", pattern=r"^[^\s]{1,250}$")
    timeout: float = Field(default=5.0, gt=0)

    @field_validator("servers")
    @classmethod
    def _host_ports(cls, v: list[str]) -> list[str]:
        for s in v:
            if not re.fullmatch(_HOST_PORT, s):
                raise ValueError(f"must be host:port, got {s!r}")
        return v


class IisConfig(Strict):
    """The IIS site a Windows host serves the app from (deploy/release/windows_iis.py). The site
    and app pool default to the project's name; the id is picked (highest + 1) when not given."""

    site: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_. -]+$")
    app_pool: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_. -]+$")
    site_id: int | None = Field(default=None, ge=1)
    certificate_thumbprint: str | None = Field(default=None, pattern=r"^[0-9A-Fa-f]{40}$")
    certificate_store: str = Field(default="My", pattern=r"^[A-Za-z]+$")


class CacheHooksConfig(Strict):
    varnish: VarnishHookConfig | None = None
    memcached: MemcachedHookConfig | None = None


class SiteConfig(Strict):
    """One site model the server configs are rendered from (deploy/siteconfig).

    Relative paths hang off the host's deploy_to (`current/...` is the live release)."""

    servers: list[Literal["apache", "iis", "nginx", "haproxy", "supervisor", "systemd", "varnish"]] = ["nginx", "supervisor"]
    server_names: list[str] = Field(default_factory=lambda: ["localhost"], min_length=1)
    http_port: int = Field(default=80, ge=1, le=65535)
    https_port: int = Field(default=443, ge=1, le=65535)
    tls: TlsConfig | None = None
    static_url: str = Field(default="/static/", pattern=r"^/([A-Za-z0-9._~-]+/)+$")
    static_root: str = "current/static"
    media_url: str = Field(default="/media/", pattern=r"^/([A-Za-z0-9._~-]+/)+$")
    media_root: str = "current/media"
    workers: int = Field(default=2, ge=1, le=64)
    threads: int = Field(default=25, ge=1, le=64)
    base_port: int = Field(default=9001, ge=1, le=65535)
    venv: str = "shared/venv"
    app_dir: str = "current/app"
    log_dir: str = "shared/log"
    run_dir: str = "shared/run"
    wsgi_module: str = Field(default="shipsite.wsgi", pattern=_DOTTED)
    wsgi_callable: str = Field(default="application", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    settings_module: str = Field(default="shipsite.settings", pattern=_DOTTED)
    gunicorn_args: list[str] = []  # appended as given, e.g. ["--timeout", "60"]
    celery_app: str | None = Field(default=None, pattern=_DOTTED)
    health_url: str = Field(default="/health/", pattern=r"^/\S*$")
    user: str = "www-data"
    group: str = "www-data"
    lb_role: str = "lb"
    max_body: str = Field(default="20m", pattern=r"^\d+[km]?$")
    haproxy_backend: str = Field(default="app", pattern=r"^[A-Za-z0-9_.:-]+$")
    haproxy_socket: str = "/run/haproxy/admin.sock"
    haproxy_user: str = "haproxy"
    varnish_purgers: list[str] = ["127.0.0.1"]
    windows_apache_root: str = "C:/Apache24"
    windows_python_dll: str | None = None
    windows_mod_wsgi: str | None = None
    variables: dict[str, str] = {}
    substitute: list[str] = []
    cache: CacheHooksConfig = CacheHooksConfig()
    iis: IisConfig = IisConfig()

    @field_validator("servers")
    @classmethod
    def _no_repeats(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"lists a server twice: {v}")
        return v

    @field_validator("server_names")
    @classmethod
    def _hostnames(cls, v: list[str]) -> list[str]:
        for name in v:
            if not re.fullmatch(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", name):
                raise ValueError(f"{name!r} is not a host name")
        return v

    @field_validator("variables")
    @classmethod
    def _variable_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name in v:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.:-]*", name):
                raise ValueError(f"{name!r} is not a variable name (letters, digits, _ . : -)")
        return v

    @field_validator("substitute")
    @classmethod
    def _inside_app(cls, v: list[str]) -> list[str]:
        for p in v:
            if not p or p.startswith(("/", "\\")) or ".." in Path(p).parts or ":" in p:
                raise ValueError(f"must be a relative path inside the app, got {p!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "SiteConfig":
        chosen = set(self.servers)
        for a, b, why in (("apache", "nginx", "both would front the app on the host's app_port"),
                          ("apache", "iis", "both would serve the app on the Windows hosts"),
                          ("supervisor", "systemd", "both would run the same gunicorn and celery")):
            if {a, b} <= chosen:
                raise ValueError(f"servers: {a} and {b} cannot both be rendered: {why}")
        if "apache" in chosen and chosen & {"supervisor", "systemd"} and not self.celery_app:
            raise ValueError("servers: with apache, mod_wsgi runs the app; supervisor/systemd would only run "
                             "celery, and celery_app is not set")
        if "apache" in chosen and self.tls is not None and "haproxy" not in chosen:
            raise ValueError("tls with apache needs haproxy in servers: the farm's balancer speaks plain HTTP "
                             "behind HAProxy, which terminates TLS")
        if "haproxy" in self.servers and self.tls is not None and self.tls.pem is None:
            raise ValueError("tls.pem is required when haproxy terminates TLS (certificate and key in one file)")
        if "iis" in self.servers and self.static_root.rstrip("/") != "current" + self.static_url.rstrip("/"):
            raise ValueError(f"iis serves static files from the site directory: static_root must be "
                             f"'current{self.static_url.rstrip('/')}', got {self.static_root!r}")
        return self

