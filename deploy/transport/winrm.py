"""WinRM transport (pywinrm): PowerShell over WS-Management.

One WinRS shell per transport, reused by every command and deleted on close().
Shipyard drives the Receive loop itself because pywinrm retries operation
time-outs forever: at the deadline it signals terminate, deletes the shell and
raises CommandTimeout. Files go over SMB when configured (falling back to WinRM
stdin when SMB is unreachable), always verified by sha256 on the far side.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from deploy.config import WinRMOptions
from deploy.errors import CommandTimeout, TransportError
from deploy.secrets import Secret, redact
from deploy.transport.base import sha256_file
from deploy.transport.powershell import PowerShellTransport, rechunk
from deploy.transport.smb import SmbTransfer, SmbUnavailable
from deploy.transport.winrm_protocol import shipyard_protocol
from deploy.transport.winsecrets import host_password

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig

# One WS-Man Send carries at most this much stdin: base64 makes it 4/3 larger, and
# the whole envelope must stay under Windows' default MaxEnvelopeSizekb (500 KB).
STDIN_CHUNK = 256 * 1024
# Raw file bytes per base64 line of an upload (each line is decoded on the host).
UPLOAD_LINE = 192 * 1024
SHELL_NOT_FOUND = 2150858843  # w:InvalidSelectors: the shell (or command) no longer exists on the server


@dataclass
class WinRMTransport(PowerShellTransport):
    options: WinRMOptions = field(default_factory=WinRMOptions)
    password: Secret | None = None
    smb: SmbTransfer | None = None
    _protocol: Any = field(default=None, init=False, repr=False)
    _shell_id: str | None = field(default=None, init=False)
    send_retries: int = field(default=0, init=False)  # Sends answered w:TimedOut and sent again

    @classmethod
    def connect(cls, host: "HostConfig", env: "EnvConfig | None" = None) -> "WinRMTransport":
        options = host.winrm or WinRMOptions()
        password = host_password(host, env, options.password_secret, "winrm")
        smb = None
        if host.smb is not None and host.smb.enabled:
            smb_password = host_password(host, env, host.smb.password_secret, "smb") or password
            smb = SmbTransfer(host.name, host.target, host.user, smb_password, host.smb)
        return cls(host, options=options, password=password, smb=smb)

    @property
    def endpoint(self) -> str:
        o = self.options
        return f"{o.scheme}://{self.host.target}:{o.effective_port}{o.path}"

    @property
    def protocol(self) -> Any:
        if self._protocol is None:
            o = self.options
            self._protocol = shipyard_protocol()(
                self.endpoint,
                transport=o.auth,
                username=self.host.user,
                password=self.password.reveal() if self.password else None,
                server_cert_validation=o.cert_validation,
                ca_trust_path=o.ca_trust_path,
                read_timeout_sec=o.read_timeout,
                operation_timeout_sec=o.operation_timeout,
                message_encryption=o.message_encryption,
                proxy=o.proxy,
            )
        return self._protocol

    # ------------------------------------------------------------ commands

    def _shell(self) -> str:
        if self._shell_id is None:
            with self._mapped_errors("open shell"):
                self._shell_id = self.protocol.open_shell(codepage=self.options.codepage, noprofile=True)
        return self._shell_id

    def _execute(self, command_line: str, stdin: Iterable[bytes], *, timeout: float, label: str) -> tuple[bytes, bytes, int]:
        deadline = time.monotonic() + timeout
        with self._mapped_errors(label):
            shell, command_id = self._start(command_line)
            try:
                for chunk, last in _with_last(rechunk(stdin, STDIN_CHUNK)):
                    self._send(shell, command_id, chunk, last, deadline, label, timeout)
                out, err, rc = self._receive(shell, command_id, deadline, label, timeout)
            except BaseException:
                self._abort(shell, command_id)
                raise
            self.protocol.cleanup_command(shell, command_id)
        return out, err, rc

    def _start(self, command_line: str) -> tuple[str, str]:
        """Command in the transport's shell; a shell Windows deleted meanwhile (IdleTimeout, a
        restarted WinRM service) is opened again once: the command had not started."""
        from winrm.exceptions import WSManFaultError

        executable, _, arguments = command_line.partition(" ")
        for attempt in (1, 2):
            shell = self._shell()
            try:  # stdin is a pipe, not a console: the bootstrap reads it line by line
                return shell, self.protocol.run_command(shell, executable, [arguments] if arguments else [],
                                                        console_mode_stdin=False)
            except WSManFaultError as e:
                if e.wsman_fault_code != SHELL_NOT_FOUND or attempt == 2:
                    raise
                self._shell_id = None
        raise AssertionError("unreachable")

    def _send(self, shell: str, command_id: str, chunk: bytes, last: bool, deadline: float, label: str,
              timeout: float) -> None:
        """One stdin Send; a w:TimedOut answer (a loaded host that did not take the data within
        the operation timeout) is sent again until the deadline, as for Receive."""
        from winrm.exceptions import WinRMOperationTimeoutError

        while True:
            self._check_deadline(deadline, label, timeout)
            try:
                self.protocol.send_command_input(shell, command_id, chunk, end=last)
                return
            except WinRMOperationTimeoutError:
                self.send_retries += 1

    def _receive(self, shell: str, command_id: str, deadline: float, label: str, timeout: float) -> tuple[bytes, bytes, int]:
        from winrm.exceptions import WinRMOperationTimeoutError

        out, err = bytearray(), bytearray()
        while True:
            self._check_deadline(deadline, label, timeout)
            try:
                o, e, rc, done = self.protocol.get_command_output_raw(shell, command_id)
            except WinRMOperationTimeoutError:
                continue  # no output within the operation timeout: ask again
            out += o
            err += e
            if done:
                return bytes(out), bytes(err), rc

    def _check_deadline(self, deadline: float, label: str, timeout: float) -> None:
        if time.monotonic() > deadline:
            raise CommandTimeout(self.name, label, timeout)

    def server_limits(self) -> dict[str, str] | None:
        """winrm/config as the host reports it over WS-Man (None when this account may not read it)."""
        from winrm.exceptions import WSManFaultError

        try:
            with self._mapped_errors("read winrm/config"):
                return self.protocol.server_config()
        except TransportError as e:
            if isinstance(e.__context__, WSManFaultError) or "Access is denied" in str(e):
                return None
            raise

    def _abort(self, shell: str, command_id: str) -> None:
        """Terminate the command and drop its shell; best effort, the caller is already failing."""
        for step in (lambda: self.protocol.cleanup_command(shell, command_id),
                     lambda: self.protocol.close_shell(shell)):
            try:
                step()
            except Exception:
                pass
        self._shell_id = None

    def _mapped_errors(self, label: str) -> "_WinRMErrors":
        return _WinRMErrors(self, label)

    def close(self) -> None:
        if self._shell_id is not None and self._protocol is not None:
            try:
                self._protocol.close_shell(self._shell_id)
            except Exception:
                pass
        self._shell_id = None
        if self.smb is not None:
            self.smb.close()

    # ------------------------------------------------------------ files

    def put(self, local: Path, remote: str, *, sha256: str | None = None, roots: Sequence[str] = ()) -> None:
        """Verified on the far side; with `roots`, refused unless `remote` resolves inside them."""
        expected = sha256 or sha256_file(local)
        if self.smb is not None:
            try:
                self.put_over_smb(self.smb, local, remote, expected, roots)
                return
            except SmbUnavailable:
                self.smb = None  # closed port: WinRM stdin for the rest of this run
        self._put_stdin(local, remote, expected, roots)

    def _put_stdin(self, local: Path, remote: str, expected: str, roots: Sequence[str]) -> None:
        """One command, many Sends: base64 lines decoded and appended on the host."""
        self.call("put_file", {"Path": remote, "Sha256": expected, "Roots": list(roots)},
                  stdin=_base64_lines(local), timeout=max(60.0, local.stat().st_size / 50_000))
        self.transferred_bytes += local.stat().st_size


class _WinRMErrors:
    """Map pywinrm/requests failures to TransportError naming host and step, with the fix
    where the cause is known (Basic switched off, OperationTimeout above MaxTimeoutms)."""

    def __init__(self, transport: WinRMTransport, label: str):
        self.transport, self.label = transport, label

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: BaseException | None, tb: Any) -> bool:
        if error is None or isinstance(error, (CommandTimeout, TransportError)):
            return False
        import requests
        from winrm.exceptions import (
            InvalidCredentialsError, WinRMError, WinRMOperationTimeoutError, WinRMTransportError, WSManFaultError,
        )

        host, o = self.transport.name, self.transport.options
        if isinstance(error, InvalidCredentialsError):
            raise TransportError(host, f"WinRM rejected the credentials of {self.transport.host.user!r} "
                                       f"(auth={o.auth}) at {self.transport.endpoint}{_auth_hint(o)}") from None
        if isinstance(error, (WinRMError, WinRMTransportError, WinRMOperationTimeoutError, requests.RequestException)):
            if not isinstance(error, WSManFaultError):  # a SOAP fault: the server and the shell are fine
                self.transport._shell_id = None
            raise TransportError(host, f"WinRM {self.label} failed: {_describe(error)}{_fault_hint(error, o)}") from None
        return False


def _describe(error: BaseException) -> str:
    """A SOAP fault by its reason and WSManFault code (pywinrm's text dumps the whole fault)."""
    reason, code = getattr(error, "reason", None), getattr(error, "wsman_fault_code", None)
    if reason and code is not None:
        return f"{redact(reason.strip())[:300]} (WSManFault {code})"
    return f"{type(error).__name__}: {redact(str(error))[:300]}"


def _auth_hint(o: WinRMOptions) -> str:
    if o.auth != "basic":
        return ""
    unencrypted = ' and AllowUnencrypted="true" (plain HTTP)' if o.scheme == "http" else ""
    return (f"; Windows refuses Basic unless the service allows it: winrm set winrm/config/service/auth "
            f'@{{Basic="true"}}{unencrypted} — or use auth = "ntlm"')


def _fault_hint(error: BaseException, o: WinRMOptions) -> str:
    if getattr(error, "fault_subcode", None) == "w:UnsupportedFeature" and "OperationTimeout" in str(error):
        return (f"; operation_timeout = {o.operation_timeout} exceeds the host's MaxTimeoutms: lower it, or raise "
                f"MaxTimeoutms on the host and set max_timeout to match")
    return ""


def _with_last(items: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Each piece and whether it is the last (no stdin at all: no Send, as Windows' own clients do)."""
    previous = next(items, None)
    if previous is None:
        return
    for item in items:
        yield previous, False
        previous = item
    yield previous, True


def _base64_lines(local: Path) -> Iterator[bytes]:
    with open(local, "rb") as f:
        while block := f.read(UPLOAD_LINE):
            yield base64.b64encode(block) + b"\r\n"
