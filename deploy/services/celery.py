"""Celery workers: a graceful restart. TERM asks for a warm shutdown (finish the tasks
in hand); after the service's timeout the worker is KILLed. Then `command` starts the
new worker from the current release and the pidfile must name a live process.

The whole stop is one sh round trip on the host (no polling over the network)."""

from __future__ import annotations

import logging
import shlex
from typing import TYPE_CHECKING

from deploy.errors import ConfigError, StepFailed
from deploy.services.common import expand, wait_until

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig, ServiceConfig
    from deploy.transport.base import Transport

log = logging.getLogger("shipyard.services")

ALIVE = 'kill -0 "$1" 2>/dev/null && ! grep -q "^State:.Z" /proc/"$1"/status 2>/dev/null'

STOP_SCRIPT = """alive() {{ {alive}; }}
pidfile={pidfile}; ticks={ticks}
pid=$(cat "$pidfile" 2>/dev/null) || {{ echo absent; exit 0; }}
alive "$pid" || {{ rm -f "$pidfile"; echo absent; exit 0; }}
kill -TERM "$pid"
while alive "$pid"; do
  if [ "$ticks" -le 0 ]; then kill -KILL "$pid"; sleep 0.2; rm -f "$pidfile"; echo killed; exit 0; fi
  ticks=$((ticks - 1)); sleep 0.1
done
rm -f "$pidfile"; echo stopped
"""


def _fields(service: "ServiceConfig", env: "EnvConfig", host: "HostConfig") -> tuple[str, str]:
    if not service.pidfile or not service.command:
        raise ConfigError("shipyard.toml", [f"services.{service.name}: kind celery needs pidfile and command"])
    return expand(service.pidfile, env, host), expand(service.command, env, host)


def stop(transport: "Transport", service: "ServiceConfig", env: "EnvConfig", host: "HostConfig") -> str:
    """TERM, wait up to the service timeout for the warm shutdown, then KILL: 'stopped', 'killed' or 'absent'."""
    pidfile, _ = _fields(service, env, host)
    script = STOP_SCRIPT.format(alive=ALIVE, pidfile=shlex.quote(pidfile), ticks=int(service.timeout * 10))
    outcome = transport.run(script, timeout=service.timeout + 30).stdout.strip()
    if outcome == "killed":
        log.warning("%s: celery %s ignored TERM for %gs and was killed", host.name, service.name, service.timeout)
    return outcome


def start(transport: "Transport", service: "ServiceConfig", env: "EnvConfig", host: "HostConfig") -> None:
    pidfile, command = _fields(service, env, host)
    current = f"{env.host_deploy_to(host)}/current/app"
    transport.run(command, cwd=current, timeout=service.timeout)
    check = f"pid=$(cat {shlex.quote(pidfile)} 2>/dev/null) && set -- $pid && {ALIVE}"
    started, _ = wait_until(lambda: (transport.run(check, timeout=30, check=False).ok, ""), service.timeout)
    if not started:
        raise StepFailed(host.name, f"start celery:{service.name}", f"no live process in {pidfile} after {service.timeout:g}s")


def restart(transport: "Transport", service: "ServiceConfig", env: "EnvConfig", host: "HostConfig") -> None:
    stop(transport, service, env, host)
    start(transport, service, env, host)
