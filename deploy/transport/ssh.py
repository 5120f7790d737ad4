"""A host over SSH (fabric/paramiko): one connection per host, reused for every command.

Host keys are verified against the configured known_hosts (see hostkeys.py).
Scripts run in /bin/sh like the local transport; stdin is fed then closed, so
secrets can travel on it. With `sudo`/`become`, commands run through
`sudo -n [-u USER] -- /bin/sh -c ...`.
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import paramiko
from fabric import Config, Connection

from deploy.config import SshOptions
from deploy.errors import ArtifactError, CommandTimeout, TransportError
from deploy.transport.base import Command, Result, Stdin, Transport, sha256_file
from deploy.transport.hostkeys import ChangedHostKey, apply_policy

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig

POLL_SECONDS = 0.02


def said(e: BaseException) -> str:
    """An OS or SSH error as people write it: `Connection refused`, not paramiko's
    `[Errno None] Unable to connect to port 22 on 10.0.0.1`; never an empty string."""
    if isinstance(e, paramiko.ssh_exception.NoValidConnectionsError):
        return ", ".join(sorted({err.strerror or str(err) for err in e.errors.values()})) or "no address answered"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    if isinstance(e, EOFError) or not str(e):
        return "the connection was closed by the host"
    return str(e)


def no_delay(sock: object) -> None:
    """Turn Nagle off, as OpenSSH's client does: a command is a few small packets each way
    (channel open, exec, eof, exit status), and with Nagle on, each waits for the host's
    delayed ACK — ~50 ms per command on the lab, ~5 ms without. Bulk streams send whole
    packets, so they lose nothing. A socket that is not TCP (a proxy command) is left alone."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]


@dataclass
class SshTransport(Transport):
    options: SshOptions = field(default_factory=SshOptions)
    _conn: Connection | None = field(default=None, init=False, repr=False)
    _sftp_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def connect(cls, host: "HostConfig", env: "EnvConfig | None" = None) -> "SshTransport":
        """Open (and verify) the connection now, so an unreachable host fails before any work."""
        options = env.host_ssh(host) if env is not None else (host.ssh or SshOptions())
        transport = cls(host, options)
        transport.open()
        return transport

    @property
    def _where(self) -> str:
        return f"{self.host.target}:{self.host.port or 22}"

    def open(self) -> None:
        opts = self.options
        kwargs: dict = {"allow_agent": opts.agent, "look_for_keys": opts.key_filename is None and opts.agent}
        if opts.key_filename:
            kwargs["key_filename"] = os.path.expanduser(opts.key_filename)
        kwargs.update(banner_timeout=opts.connect_timeout, auth_timeout=opts.connect_timeout)
        conn = Connection(
            self.host.target,
            user=self.host.user,
            port=self.host.port or 22,
            connect_timeout=max(1, round(opts.connect_timeout)),
            connect_kwargs=kwargs,
            config=Config(overrides={"load_ssh_configs": False}),
        )
        apply_policy(conn.client, self.name, opts.known_hosts, opts.trust_on_first_use)
        try:
            conn.open()
        except TransportError:
            conn.close()
            raise
        except paramiko.BadHostKeyException as e:
            conn.close()
            raise ChangedHostKey(self.name, e.key, e.expected_key, os.path.expanduser(opts.known_hosts)) from None
        except paramiko.AuthenticationException as e:
            conn.close()
            raise TransportError(self.name, f"authentication failed at {self._where} as {conn.user}: {e}") from None
        except (socket.timeout, TimeoutError):
            conn.close()
            raise TransportError(self.name, f"no answer from {self._where} within {opts.connect_timeout:g}s") from None
        except (OSError, EOFError, paramiko.SSHException) as e:
            conn.close()
            raise TransportError(self.name, f"cannot connect to {self._where}: {said(e)}") from None
        if opts.keepalive:
            conn.transport.set_keepalive(opts.keepalive)
        no_delay(conn.transport.sock)
        self._conn = conn

    def _connection(self) -> Connection:
        """The host's one connection, reopened if it dropped."""
        if self._conn is None or not self._conn.is_connected:
            self.open()
        return self._conn

    def _session(self) -> paramiko.Channel:
        conn = self._connection()
        try:
            return conn.client.get_transport().open_session(timeout=self.options.connect_timeout)
        except (paramiko.SSHException, EOFError, OSError) as e:
            raise TransportError(self.name, f"connection to {self._where} lost: {said(e)}") from None

    def remote_command(self, command: Command, env: dict[str, str] | None, cwd: str | None) -> str:
        """The command line sshd is given: argv quoted, scripts wrapped in /bin/sh -c."""
        body = command if isinstance(command, str) else shlex.join(command)
        prologue = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in (env or {}).items())
        if cwd:
            prologue += f"cd {shlex.quote(cwd)} || exit 125\n"
        script = prologue + body
        if self._becomes:
            user = f"-u {shlex.quote(self.options.become)} " if self.options.become else ""
            return f"sudo -n {user}-- /bin/sh -c {shlex.quote(script)}"
        return f"/bin/sh -c {shlex.quote(script)}" if prologue or isinstance(command, str) else body

    def run(self, command: Command, *, timeout: float, env=None, stdin=None, cwd=None, check=True) -> Result:
        started = time.monotonic()
        chan = self._session()
        self.commands += 1
        try:
            chan.exec_command(self.remote_command(command, env, cwd))
            self._send(chan, stdin, timeout)
            chan.shutdown_write()
            out, err = self._collect(chan, command, started + timeout, timeout)
            rc = chan.recv_exit_status()
        except (paramiko.SSHException, EOFError, OSError) as e:
            raise TransportError(self.name, f"connection to {self._where} lost: {said(e)}") from None
        finally:
            with contextlib.suppress(paramiko.SSHException, EOFError, OSError):  # a dead link cannot say goodbye
                chan.close()
        if rc == -1:
            raise TransportError(self.name, f"connection to {self._where} lost while running a command")
        result = Result(self.name, command, rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                        time.monotonic() - started)
        return self._checked(result, check)

    def _send(self, chan: paramiko.Channel, stdin: Stdin, timeout: float) -> None:
        """Feed stdin (bytes, or chunks as they come); a host that stops reading for `timeout`
        seconds, or drops, fails the command instead of hanging it."""
        if not stdin:
            return
        chan.settimeout(timeout)
        try:
            for chunk in [stdin] if isinstance(stdin, (bytes, bytearray)) else stdin:
                chan.sendall(chunk)
                self.transferred_bytes += len(chunk)
        except socket.timeout:
            raise CommandTimeout(self.name, "sending stdin", timeout) from None
        finally:
            chan.settimeout(None)

    def _collect(self, chan: paramiko.Channel, command: Command, deadline: float, timeout: float) -> tuple[bytes, bytes]:
        out, err = bytearray(), bytearray()

        def drain() -> None:
            while chan.recv_ready():
                out.extend(chan.recv(65536))
            while chan.recv_stderr_ready():
                err.extend(chan.recv_stderr(65536))

        while True:
            drain()
            if chan.closed or (chan.eof_received and chan.exit_status_ready()):
                drain()
                return bytes(out), bytes(err)
            if time.monotonic() > deadline:
                raise CommandTimeout(self.name, Result(self.name, command, -1, "", "", 0).display_command, timeout)
            select.select([chan], [], [], POLL_SECONDS)

    def put(self, local: Path, remote: str, *, sha256: str | None = None) -> None:
        """Upload to a temp name, check sha256sum on the host, then rename into place."""
        expected = sha256 or sha256_file(Path(local))
        staged = f"/tmp/.shipyard-{uuid.uuid4().hex}.part" if self._becomes else f"{remote}.{uuid.uuid4().hex[:8]}.part"
        if not self._becomes:
            self.run(["mkdir", "-p", os.path.dirname(remote) or "."], timeout=60)
        with self._sftp_lock:
            try:
                self._connection().sftp().put(str(local), staged)
            except (OSError, EOFError, paramiko.SSHException) as e:
                self.run(["rm", "-f", staged], timeout=60, check=False)  # e.g. a partial file on a full disk
                raise TransportError(self.name, f"upload of {local} to {remote} failed: {e or type(e).__name__}") from None
        q = shlex.quote
        verify = (
            f"mkdir -p {q(os.path.dirname(remote) or '.')}\n"
            f"got=$(sha256sum {q(staged)} | cut -d' ' -f1)\n"
            f"if [ \"$got\" != {q(expected)} ]; then rm -f {q(staged)}; echo \"$got\"; exit 3; fi\n"
            f"mv -f {q(staged)} {q(remote)}"
        )
        result = self.run(verify, timeout=300, check=False)
        if result.rc == 3:
            raise ArtifactError(f"{self.name}: {remote}: sha256 {result.stdout.strip()} after upload, expected {expected}")
        self._checked(result, True)
        self.transferred_bytes += Path(local).stat().st_size

    @property
    def _becomes(self) -> bool:
        return bool(self.options.sudo or self.options.become)

    def get(self, remote: str, local: Path) -> None:
        with self._sftp_lock:
            try:
                self._connection().sftp().get(remote, str(local))
            except (OSError, EOFError, paramiko.SSHException) as e:
                raise TransportError(self.name, f"download of {remote} failed: {said(e)}") from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
