"""systemd units: `systemctl restart` then wait for `is-active` to say active.

systemd cannot run on the machines Shipyard is tested on, so this command sequence is
tested against the lab's stand-in systemctl. The units themselves are generated and
checked with `systemd-analyze verify` by deploy.siteconfig (templates/systemd/unit.service.j2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deploy.errors import StepFailed
from deploy.services.common import wait_until

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig, ServiceConfig
    from deploy.transport.base import Transport


def unit_name(service: "ServiceConfig") -> str:
    name = service.unit or service.name
    return name if "." in name else f"{name}.service"


def restart(transport: "Transport", service: "ServiceConfig", env: "EnvConfig", host: "HostConfig") -> None:
    unit = unit_name(service)
    step = f"restart systemd:{unit}"
    result = transport.run(["systemctl", "restart", unit], timeout=service.timeout, check=False)
    if result.rc != 0:
        raise StepFailed(host.name, step, f"systemctl restart exited {result.rc}: {(result.stderr or result.stdout).strip()}")

    def active() -> tuple[bool, str]:
        state = transport.run(["systemctl", "is-active", unit], timeout=30, check=False).stdout.strip()
        if state == "failed":
            raise StepFailed(host.name, step, f"unit is failed: {status_tail(transport, unit)}")
        return state == "active", state

    ok, seen = wait_until(active, service.timeout)
    if not ok:
        raise StepFailed(host.name, step, f"unit is {seen or 'unknown'}, not active, after {service.timeout:g}s")


def status_tail(transport: "Transport", unit: str) -> str:
    out = transport.run(["systemctl", "status", "--no-pager", unit], timeout=30, check=False)
    return " | ".join((out.stdout + out.stderr).strip().splitlines()[-5:])
