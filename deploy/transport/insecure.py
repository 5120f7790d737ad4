"""Transport settings that turn a security check off, announced on every run.

`doctor` reports them too, but a setting that is only reported when someone runs doctor is
a setting nobody sees: each command that connects prints one warning per host and setting
(stderr), and a deploy or rollback also records an `insecure` event (events file, JUnit,
HTML, webhook) right after run.start.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, TextIO

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig


@dataclass(frozen=True)
class Insecure:
    host: str
    setting: str
    risk: str

    def line(self) -> str:
        return f"shipyard: warning: {self.host}: {self.setting}: {self.risk}"


def insecure_settings(env: "EnvConfig") -> list[Insecure]:
    found = [i for host in env.hosts for i in _host_settings(env, host)]
    if env.health.cert_validation == "ignore":
        found.append(Insecure("*", 'health.cert_validation = "ignore"',
                              "health checks accept any certificate, so a health URL can be answered by an impostor"))
    return found


def _host_settings(env: "EnvConfig", host: "HostConfig") -> list[Insecure]:
    from deploy.config import SshOptions, WinRMOptions

    found = []
    if host.transport == "winrm":
        o = host.winrm or WinRMOptions()
        if o.scheme == "https" and o.cert_validation == "ignore":
            found.append(Insecure(host.name, 'winrm.cert_validation = "ignore"',
                                  "the WinRM listener's certificate is not checked: anyone on the path can pose as the host"))
        if o.scheme == "http" and o.auth == "basic":
            found.append(Insecure(host.name, 'winrm.auth = "basic" over http',
                                  "the password crosses the network base64-encoded, readable by anyone on the path"))
        elif o.scheme == "http" and o.message_encryption == "never":
            found.append(Insecure(host.name, 'winrm.message_encryption = "never" over http',
                                  "scripts, parameters and answers cross the network in clear"))
    if host.transport == "ssh":
        ssh = host.ssh or env.ssh or SshOptions()
        if ssh.trust_on_first_use:
            found.append(Insecure(host.name, "ssh.trust_on_first_use = true",
                                  "an unknown host key is accepted and remembered instead of refused"))
    smb = host.smb if host.smb is not None else (host.psexec if host.transport == "psexec" else None)
    if smb is not None and getattr(smb, "enabled", True) and not smb.encrypt:
        found.append(Insecure(host.name, "smb.encrypt = false" if host.smb is not None else "psexec.encrypt = false",
                              "files (and PsExec's commands) cross the network unencrypted"))
    return found


def print_warnings(env: "EnvConfig", stream: TextIO | None = None) -> list[Insecure]:
    found = insecure_settings(env)
    for item in found:
        print(item.line(), file=stream or sys.stderr)
    return found


def emit_events(env: "EnvConfig", emit: Callable[..., Any]) -> None:
    for item in insecure_settings(env):
        emit("insecure", host=item.host, setting=item.setting, risk=item.risk)
