"""systemd units: `systemctl restart` then wait for `is-active` to say active.

systemd cannot run on the machines Shipyard is tested on, so the command sequence is
tested against the lab's stand-in systemctl, and generated units are checked with
`systemd-analyze verify`, which works offline (any output counts as a problem: it
reports unknown keys only as warnings)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined

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


def render_unit(**values: object) -> str:
    """The app's unit from templates/systemd/app.service.j2 (description, exec_start,
    working_directory, user, environment: dict, restart)."""
    jinja = Environment(loader=PackageLoader("deploy", "templates"), undefined=StrictUndefined, keep_trailing_newline=True)
    return jinja.get_template("systemd/app.service.j2").render(**values)


def verify_unit(text: str, name: str = "shipyard-app.service") -> list[str]:
    """Problems `systemd-analyze verify` reports for the unit (empty = clean)."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_text(text)
        proc = subprocess.run(
            ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60, cwd=d
        )
    lines = [l for l in (proc.stdout + proc.stderr).splitlines() if l.strip()]
    if proc.returncode != 0 and not lines:
        lines = [f"systemd-analyze verify exited {proc.returncode}"]
    return lines
