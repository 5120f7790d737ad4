"""PsExec transport (pypsexec: PAExec over SMB) for hosts where only port 445 is open.

Same PowerShell bootstrap and JSON protocol as WinRM. Each command connects,
creates the PAExec service (pypsexec creates it demand-start, never auto-start),
runs, and removes service and executable again on every path — success, failure
or Ctrl-C — so no PAExec-* service is left behind. SMB encryption is on by
default. Files go over SMB and are verified on the far side.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from deploy.config import PsExecOptions, SmbOptions
from deploy.errors import CommandTimeout, TransportError
from deploy.secrets import Secret, redact
from deploy.transport.base import sha256_file
from deploy.transport.powershell import PowerShellTransport, rechunk
from deploy.transport.smb import SmbTransfer
from deploy.transport.winsecrets import host_password

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig


# pypsexec writes each stdin piece to the PAExec pipe as one SMB write (and it wants a
# generator *function*, which it calls); keep pieces well under SMB's max write size.
PIPE_CHUNK = 64 * 1024


def _pypsexec_client(*args: Any, **kwargs: Any) -> Any:
    from pypsexec.client import Client

    return Client(*args, **kwargs)


@dataclass
class PsExecTransport(PowerShellTransport):
    options: PsExecOptions = field(default_factory=PsExecOptions)
    password: Secret | None = None
    smb: SmbTransfer | None = None
    client_factory: Callable[..., Any] = _pypsexec_client

    @classmethod
    def connect(cls, host: "HostConfig", env: "EnvConfig | None" = None) -> "PsExecTransport":
        options = host.psexec or PsExecOptions()
        password = host_password(host, env, options.password_secret, "psexec")
        smb_options = host.smb or SmbOptions(port=options.port, encrypt=options.encrypt)
        smb_password = host_password(host, env, smb_options.password_secret, "smb") or password
        smb = SmbTransfer(host.name, host.target, host.user, smb_password, smb_options)
        return cls(host, options=options, password=password, smb=smb)

    def _execute(self, command_line: str, stdin: Iterable[bytes], *, timeout: float, label: str) -> tuple[bytes, bytes, int]:
        client = self.client_factory(self.host.target, username=self.host.user,
                                     password=self.password.reveal() if self.password else None,
                                     port=self.options.port, encrypt=self.options.encrypt)
        undo: list[Callable[[], Any]] = []
        started = time.monotonic()
        try:
            client.connect(timeout=self.options.connection_timeout)
            undo.append(client.disconnect)
            undo.append(client.remove_service)  # before create: a half-made service is removed too
            client.create_service()
            executable, _, arguments = command_line.partition(" ")
            pieces = rechunk(stdin, PIPE_CHUNK)
            out, err, rc = client.run_executable(executable, arguments=arguments, stdin=lambda: pieces,
                                                 timeout_seconds=math.ceil(timeout))
        except BaseException as primary:
            problems = _undo(undo)
            if problems:
                primary.add_note(f"PsExec clean-up also failed: {'; '.join(problems)}")
            mapped = _mapped(self.name, label, primary)
            if mapped is None:
                raise
            raise mapped from None
        problems = _undo(undo)
        if problems:
            raise TransportError(self.name, f"{label}: PsExec clean-up failed, a PAExec service or executable "
                                            f"may be left on the host: {'; '.join(problems)}")
        if time.monotonic() - started >= timeout:
            raise CommandTimeout(self.name, label, timeout)  # PAExec killed the process at its deadline
        return out or b"", err or b"", rc

    def put(self, local: Path, remote: str, *, sha256: str | None = None, roots: Sequence[str] = ()) -> None:
        expected = sha256 or sha256_file(local)
        self.put_over_smb(self.smb, local, remote, expected, roots)  # type: ignore[arg-type]

    def close(self) -> None:
        if self.smb is not None:
            self.smb.close()


def _undo(steps: list[Callable[[], Any]]) -> list[str]:
    """Run clean-up steps newest first; every step runs even if one fails."""
    problems = []
    for step in reversed(steps):
        try:
            step()
        except Exception as e:  # noqa: BLE001 - reported, never swallowed silently
            problems.append(f"{getattr(step, '__name__', 'step')}: {type(e).__name__}: {e}")
    steps.clear()
    return problems


def _mapped(host: str, label: str, error: BaseException) -> TransportError | None:
    """pypsexec/smbprotocol failures as TransportError naming host and step; None = not ours."""
    from pypsexec.exceptions import PypsexecException
    from smbprotocol.exceptions import SMBAuthenticationError, SMBException

    if isinstance(error, SMBAuthenticationError):
        return TransportError(host, f"{label}: SMB rejected the credentials (PsExec)")
    if isinstance(error, PypsexecException):
        return TransportError(host, f"{label}: PAExec failed: {type(error).__name__}: {redact(str(error))[:300]}")
    if isinstance(error, (SMBException, OSError, ValueError)):
        return TransportError(host, f"{label}: SMB connection failed (PsExec): {type(error).__name__}: "
                                    f"{redact(str(error))[:300]}")
    return None
