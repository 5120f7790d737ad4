"""Restart what serves the release after a switch. One entry point per service kind;
the deploy flow calls `restart_service` for each of env.services on each host."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from deploy.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig, ServiceConfig
    from deploy.transport.base import Transport

RESTARTERS = {
    "supervisor": "deploy.services.supervisorctl",
    "celery": "deploy.services.celery",
    "systemd": "deploy.services.systemd",
}


def restart_service(transport: "Transport", service: "ServiceConfig", env: "EnvConfig", host: "HostConfig") -> None:
    """Restart `service` on `host` and wait until it runs; StepFailed naming host and service otherwise."""
    module = RESTARTERS.get(service.kind)
    if module is None:
        raise ConfigError("shipyard.toml", [f"services.{service.name}: kind {service.kind!r} is not handled on POSIX hosts"])
    importlib.import_module(module).restart(transport, service, env, host)
