"""A supervisor program on the host, restarted with `supervisorctl` through the transport
(so it works the same on local and SSH hosts) and confirmed RUNNING afterwards. With
`signal = "HUP"` it is signalled instead of stopped and started (gunicorn: new workers
on the new code while the old ones finish their requests)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from deploy.errors import StepFailed
from deploy.services.common import expand, wait_until

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig, ServiceConfig
    from deploy.transport.base import Transport


def supervisorctl(service: "ServiceConfig", env: "EnvConfig", host: "HostConfig") -> list[str]:
    argv = ["supervisorctl"]
    if service.supervisor_socket:
        argv += ["-s", "unix://" + expand(service.supervisor_socket, env, host)]
    return argv


def program_status(transport: "Transport", service: "ServiceConfig", env: "EnvConfig", host: "HostConfig") -> str:
    """RUNNING, STARTING, FATAL, STOPPED, BACKOFF, EXITED... (supervisorctl status exits non-zero unless RUNNING)."""
    argv = [*supervisorctl(service, env, host), "status", service.name]
    out = transport.run(argv, timeout=30, check=False).stdout.split()
    return out[1] if len(out) > 1 and out[0] == service.name else " ".join(out) or "unknown"


def restart(transport: "Transport", service: "ServiceConfig", env: "EnvConfig", host: "HostConfig") -> None:
    step = f"restart supervisor:{service.name}"
    verb = ["signal", service.signal] if service.signal else ["restart"]
    argv = [*supervisorctl(service, env, host), *verb, service.name]
    said = transport.run(argv, timeout=service.timeout, check=False)
    output = (said.stdout + said.stderr).strip()
    # "ERROR (not running)" is only the stop half of a restart of a stopped program
    if "ERROR" in output.replace("ERROR (not running)", ""):
        raise StepFailed(host.name, step, f"`{shlex.join(argv)}` said: {output}")
    running, seen = wait_until(
        lambda: ((s := program_status(transport, service, env, host)) == "RUNNING", s), service.timeout
    )
    if not running:
        raise StepFailed(host.name, step, f"program is {seen}, not RUNNING, after {service.timeout:g}s ({output})")
