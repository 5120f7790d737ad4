"""POSIX preflight through any Transport: the host answers (host key verified), sudo, disk, deploy_to."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from deploy.errors import CommandTimeout, TransportError
from deploy.preflight import MIN_FREE_BYTES, Check

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig
    from deploy.transport.base import Transport


def host_checks(host: "HostConfig", env: "EnvConfig", transport: "Transport") -> list[Check]:
    try:
        transport.run(["true"], timeout=30)
    except (TransportError, CommandTimeout) as e:
        fix = ("verify the fingerprint, then add it: ssh-keyscan -H HOST >> ~/.ssh/known_hosts"
               if "host key" in str(e).lower() else "check address, user, key and firewall")
        return [Check("connect", False, str(e), fix)]
    checks = [Check("connect", True, f"{host.transport} connection works" +
                    (" (host key verified)" if host.transport == "ssh" else ""))]
    sudo = transport.run(["sudo", "-n", "true"], timeout=30, check=False)
    checks.append(Check("sudo", sudo.ok, "passwordless sudo works" if sudo.ok else (sudo.stderr.strip() or f"rc {sudo.rc}"),
                        "allow the deploy user NOPASSWD sudo for the service commands (visudo)"))
    checks += _deploy_to_checks(env.host_deploy_to(host), transport)
    return checks


def _deploy_to_checks(deploy_to: str, transport: "Transport") -> list[Check]:
    quoted = shlex.quote(deploy_to)
    probe = (f"d={quoted}; while [ ! -d \"$d\" ]; do d=$(dirname \"$d\"); done; "
             f"df -Pk \"$d\" | awk 'NR==2 {{print $4}}'; [ -w \"$d\" ] && echo writable || echo readonly")
    result = transport.run(probe, timeout=30, check=False)
    lines = result.stdout.split()
    if not result.ok or len(lines) != 2 or not lines[0].isdigit():
        return [Check("free disk", False, f"could not measure ({result.stderr.strip() or result.stdout.strip()})",
                      "make sure df and awk exist on the host")]
    free = int(lines[0]) * 1024
    return [
        Check("free disk", free >= MIN_FREE_BYTES, f"{free / 2**30:.1f} GiB free for {deploy_to}",
              f"free at least {MIN_FREE_BYTES / 2**30:.0f} GiB (old releases: `invoke releases`)"),
        Check("deploy_to writable", lines[1] == "writable", f"{deploy_to} (or its nearest parent) is {lines[1]}",
              f"chown the deploy user {deploy_to}"),
    ]
