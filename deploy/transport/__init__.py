"""Pick a transport by the host's `transport` key (like invoke's runner class as a config value).

Transports are imported lazily so that `invoke --list` never pays for fabric or pywinrm.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig
    from deploy.transport.base import Transport

REGISTRY: dict[str, str] = {
    "local": "deploy.transport.local:LocalTransport",
    "ssh": "deploy.transport.ssh:SshTransport",
    "winrm": "deploy.transport.winrm:WinRMTransport",
    "psexec": "deploy.transport.psexec:PsExecTransport",
}


def transport_class(kind: str) -> type["Transport"]:
    module, _, name = REGISTRY[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def open_transport(host: "HostConfig", env: "EnvConfig | None" = None) -> "Transport":
    """A connected transport for `host`. Each class takes (host, **options from env)."""
    cls = transport_class(host.transport)
    return cls.connect(host, env) if hasattr(cls, "connect") else cls(host)
