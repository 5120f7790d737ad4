"""Bulk file transfer to Windows hosts over SMB 3 (smbprotocol's smbclient).

Signing is required and encryption on by default. Each transfer object keeps its
own connection cache: smbclient's global pool never rechecks a password, so a
wrong password would "succeed" while a good session is pooled.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from deploy.config import SmbOptions
from deploy.errors import TransportError
from deploy.secrets import Secret


class SmbUnavailable(TransportError):
    """SMB could not be reached at all (port closed or filtered): callers may fall back."""


class SmbCannotEncrypt(SmbUnavailable):
    """The server's dialect cannot encrypt (Server 2008 R2: SMB 2.1): WinRM hosts fall back to
    stdin uploads; PsExec hosts, which have only SMB, fail with this message."""


def unc_path(server: str, remote: str, options: SmbOptions) -> str:
    """`C:\\deploy\\x` -> `\\\\server\\C$\\deploy\\x`, or under `share_root` -> `\\\\server\\share\\...`."""
    path = PureWindowsPath(remote)
    if not path.drive or not path.is_absolute():
        raise ValueError(f"not an absolute Windows path: {remote!r}")
    if options.share is None:
        if not path.drive.endswith(":"):
            raise ValueError(f"{remote!r}: only drive-letter paths map to an admin share")
        return str(PureWindowsPath(f"\\\\{server}\\{path.drive[0]}$", *path.parts[1:]))
    root = PureWindowsPath(options.share_root or "")
    try:
        relative = path.relative_to(root)
    except ValueError:
        raise ValueError(f"{remote!r} is not under share_root {options.share_root!r}") from None
    return str(PureWindowsPath(f"\\\\{server}\\{options.share}", *relative.parts))


@dataclass
class SmbTransfer:
    """Copies files to one server; `copy` returns the sha256 of the bytes it sent."""

    host: str
    server: str
    username: str | None
    password: Secret | None
    options: SmbOptions
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _registered: bool = field(default=False, init=False)
    dialect: str = field(default="", init=False)  # negotiated, e.g. "3.1.1"

    def _kwargs(self) -> dict[str, Any]:
        return {"port": self.options.port, "connection_cache": self._cache}

    def _session(self) -> None:
        import smbclient
        from smbprotocol.exceptions import SMBAuthenticationError, SMBException

        if self._registered:
            return
        try:
            session = smbclient.register_session(
                self.server, username=self.username, password=self.password.reveal() if self.password else None,
                encrypt=self.options.encrypt, require_signing=True,
                connection_timeout=self.options.connection_timeout, **self._kwargs(),
            )
        except (SMBAuthenticationError, SMBException) as e:
            if "does not support it" in str(e):
                raise SmbCannotEncrypt(self.host, "SMB encryption is required (smb.encrypt) but the server's dialect "
                                                  "cannot encrypt (SMB 2.x; Server 2008 R2 speaks 2.1)") from None
            if _unreachable(e):
                raise SmbUnavailable(self.host, f"SMB port {self.options.port} unreachable: {e}") from None
            raise TransportError(self.host, f"SMB session failed: {type(e).__name__}: {e}") from None
        except (OSError, ValueError) as e:
            raise SmbUnavailable(self.host, f"SMB port {self.options.port} unreachable: {e}") from None
        dialect = session.connection.dialect
        self.dialect = f"{dialect >> 8}.{(dialect >> 4) & 0xF}.{dialect & 0xF}"
        self._registered = True

    def probe(self) -> tuple[str, str]:
        """(negotiated dialect, '') or ('', why a session cannot be had) — for `invoke doctor`."""
        try:
            self._session()
        except TransportError as e:
            return "", str(e).split(": ", 1)[-1]
        return self.dialect, ""

    def _unc(self, remote: str) -> str:
        try:
            return unc_path(self.server, remote, self.options)
        except ValueError as e:
            raise TransportError(self.host, f"SMB: {e}") from None

    def copy(self, local: Path, remote: str) -> str:
        """Write `local` to `remote` (parents created); the caller verifies on the far side."""
        import smbclient
        from smbprotocol.exceptions import SMBException

        target = self._unc(remote)
        self._session()
        digest = hashlib.sha256()
        try:
            smbclient.makedirs(str(PureWindowsPath(target).parent), exist_ok=True, **self._kwargs())
            with open(local, "rb") as src, smbclient.open_file(target, mode="wb", **self._kwargs()) as dst:
                while block := src.read(self.options.chunk_size):
                    dst.write(block)
                    digest.update(block)
        except (SMBException, OSError) as e:
            raise TransportError(self.host, f"SMB copy to {target} failed: {type(e).__name__}: {e}") from None
        return digest.hexdigest()

    def close(self) -> None:
        from smbclient import reset_connection_cache

        if self._cache:
            reset_connection_cache(connection_cache=self._cache)
        self._registered = False


def _unreachable(error: Exception) -> bool:
    text = str(error).lower()
    return any(s in text for s in ("failed to connect", "connection timeout", "refused", "timed out"))
