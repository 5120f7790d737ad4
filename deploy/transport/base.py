"""The one seam through which everything touches a host (after invoke's Runner
and Ansible's ConnectionBase). Transports move bytes and run commands; the
shell dialect (POSIX sh or PowerShell) is chosen by the caller, not here."""

from __future__ import annotations

import hashlib
import shlex
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from deploy.errors import CommandFailed

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import HostConfig

Command = str | Sequence[str]
Stdin = bytes | Iterable[bytes] | None  # bytes, or chunks streamed to the command as they come


@dataclass(frozen=True)
class Result:
    """What one command did on one host."""

    host: str
    command: Command
    rc: int
    stdout: str
    stderr: str
    duration: float

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def display_command(self) -> str:
        text = self.command if isinstance(self.command, str) else shlex.join(self.command)
        first = text.strip().splitlines()[0] if text.strip() else ""
        return first if len(first) <= 120 else first[:117] + "..."


@dataclass
class Transport(ABC):
    """Run commands and move files on one host. `check=True` raises CommandFailed."""

    host: "HostConfig"
    transferred_bytes: int = field(default=0, init=False)
    commands: int = field(default=0, init=False)  # remote commands run: the benchmarks count round trips

    @property
    def name(self) -> str:
        return self.host.name

    @abstractmethod
    def run(
        self,
        command: Command,
        *,
        timeout: float,
        env: dict[str, str] | None = None,
        stdin: Stdin = None,
        cwd: str | None = None,
        check: bool = True,
    ) -> Result:
        """Run argv (no shell) or a script in the host's shell. `env` must not carry
        secrets: pass those on `stdin` (process listings show environments). `stdin` may be
        an iterable of chunks: they are sent as they are produced (an upload streamed into
        the command), and closed after the last."""

    @abstractmethod
    def put(self, local: Path, remote: str, *, sha256: str | None = None) -> None:
        """Copy a file to the host; with `sha256`, verify it on the far side."""

    @abstractmethod
    def get(self, remote: str, local: Path) -> None:
        """Copy a file from the host."""

    def close(self) -> None:
        """Release the connection; safe to call twice."""

    def _checked(self, result: Result, check: bool) -> Result:
        if check and result.rc != 0:
            raise CommandFailed(result)
        return result

    def __enter__(self) -> "Transport":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
