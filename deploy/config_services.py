"""The [env.X] tables about what runs on a host: its services, the managed supervisord,
HAProxy's runtime API and the health check (split from deploy.config, which re-exports them)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from deploy.config_base import Strict
from deploy.config_rules import HEALTH_PLACEHOLDERS, SERVICE_PLACEHOLDERS, known_placeholders


class HealthConfig(Strict):
    url: str | None = "http://{address}:{app_port}/health/"
    command: str | None = None
    timeout: float = Field(default=30.0, gt=0)
    interval: float = Field(default=0.25, gt=0)  # the longest wait between probes (from 50 ms, doubling)
    expect_release: bool = True
    cert_validation: Literal["validate", "ignore"] = "validate"  # HTTPS health URLs; "ignore" is warned about

    @field_validator("url")
    @classmethod
    def _url_placeholders(cls, v: str | None) -> str | None:
        return known_placeholders(v, HEALTH_PLACEHOLDERS)


class SupervisorConfig(Strict):
    """A supervisord that Shipyard runs itself under `deploy_to` (the local env's process manager)."""

    managed: bool = True
    program: str = Field(default="web", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # a section name and a file name
    workers: int = Field(default=2, ge=1, le=64)
    wsgi: str = Field(default="shipsite.wsgi", pattern=r"^[A-Za-z_][A-Za-z0-9_.]*(:[A-Za-z_][A-Za-z0-9_]*)?$")
    preload: bool = False  # gunicorn --preload: the master imports the app once; each deploy is then a new master (USR2)


class HaproxyConfig(Strict):
    """HAProxy's runtime API: the admin socket and the backend whose servers are the hosts.
    A host's server name is `haproxy_server` on the host, else its name."""

    socket: str
    backend: str = Field(min_length=1)
    drain_timeout: float = Field(default=30.0, gt=0)
    ready_timeout: float = Field(default=30.0, gt=0)


class ServiceConfig(Strict):
    kind: Literal["supervisor", "systemd", "windows", "iis_apppool", "celery"]
    name: str = Field(min_length=1)
    timeout: float = Field(default=60.0, gt=0)
    supervisor_socket: str | None = None  # supervisorctl -s unix://...; {deploy_to} is expanded
    pidfile: str | None = None  # celery: the worker's pidfile
    command: str | None = None  # celery: how to start it (run in current/app, e.g. `celery ... --detach`)
    unit: str | None = None  # systemd: unit name when it differs from `name`
    # supervisor: reload with `supervisorctl signal` instead of a stop/start (gunicorn: HUP, new workers)
    signal: Literal["HUP", "USR1", "USR2"] | None = None

    @field_validator("supervisor_socket", "pidfile", "command")
    @classmethod
    def _placeholders(cls, v: str | None) -> str | None:
        return known_placeholders(v, SERVICE_PLACEHOLDERS)
