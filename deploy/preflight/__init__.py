"""Preflight checks (`invoke doctor`): what would break a deploy, found before one starts.

Every problem is one line with a one-line fix hint. Windows hosts are checked
through scripts/ps1 (windows.py), POSIX hosts through any Transport (posix.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deploy.errors import ShipyardError, TransportError

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig
    from deploy.transport.base import Transport

MIN_FREE_BYTES = 2 * 2**30


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # shown, but does not fail the doctor

    @property
    def label(self) -> str:
        return "ok" if self.ok else ("warn" if self.warning else "FAIL")


@dataclass
class HostReport:
    host: str
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok and not c.warning]


class DoctorFailed(ShipyardError):
    """At least one preflight check failed."""

    def __init__(self, reports: list[HostReport]):
        bad = [f"{r.host}: {c.name}" for r in reports for c in r.failed]
        super().__init__(f"{len(bad)} preflight check(s) failed: {', '.join(bad)}")


def check_host(host: "HostConfig", env: "EnvConfig", transport: "Transport | None" = None, project: str = "") -> HostReport:
    """All checks for one host; `transport` is opened from config when not given; `project`
    names the IIS site by default."""
    from deploy.preflight import posix, windows

    report = HostReport(host.name)
    if host.is_windows:
        report.checks += windows.network_checks(host)
    if transport is None:
        try:
            from deploy.transport import open_transport

            transport = open_transport(host, env)
        except TransportError as e:
            report.checks.append(Check("connect", False, str(e), "check address, credentials and firewall"))
            return report
    try:
        if host.is_windows:
            report.checks += windows.host_checks(host, env, transport, project)  # type: ignore[arg-type]
        else:
            report.checks += posix.host_checks(host, env, transport)
    finally:
        transport.close()
    return report


def render(reports: list[HostReport]) -> str:
    lines = []
    for report in reports:
        for c in report.checks:
            hint = f"\n      fix: {c.fix}" if c.fix and not c.ok else ""
            lines.append(f"{report.host:<12} {c.label:<4} {c.name}: {c.detail}{hint}")
    return "\n".join(lines)
