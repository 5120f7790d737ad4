"""The one small interface every version control system implements.

pip's versioncontrol.py is the model: one class per VCS, the same verbs, a
registry by name. Every command runs with a timeout and without a shell; a
failure is a `VcsCommandFailed` that carries the command, exit code and stderr.
"""

from __future__ import annotations

import os
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from deploy.errors import CommandTimeout, VcsError

DEFAULT_TIMEOUT = 120.0


class VcsCommandFailed(VcsError):
    """A git/hg command exited non-zero."""

    def __init__(self, command: list[str], rc: int, stderr: str):
        self.command, self.rc, self.stderr = command, rc, stderr
        tail = " ".join(stderr.strip().splitlines()[-3:])
        super().__init__(f"`{' '.join(command)}` exited {rc}: {tail}")


class Vcs(ABC):
    """A working copy rooted at `root`. Subclasses set the class attributes and the verbs."""

    kind: ClassVar[str]
    metadata_dir: ClassVar[str]
    short_length: ClassVar[int]
    program: ClassVar[str]

    def __init__(self, root: Path, timeout: float = DEFAULT_TIMEOUT):
        self.root = Path(root).resolve()
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"

    # -- the verbs -------------------------------------------------------
    @abstractmethod
    def resolve(self, rev: str | None) -> str:
        """Full id of `rev` (branch, tag, short hash); None means the working copy's revision."""

    def short(self, full_id: str) -> str:
        return full_id[: self.short_length]

    @abstractmethod
    def export(self, full_id: str, dest: Path, subdir: str = ".") -> None:
        """The tree of `subdir` at `full_id`, its contents directly in `dest`, no VCS metadata."""

    def is_dirty(self, subdir: str = ".") -> bool:
        """Uncommitted changes under `subdir`, untracked-but-not-ignored files included."""
        return bool(self.changed_files(subdir))

    @abstractmethod
    def changed_files(self, subdir: str = ".") -> list[str]:
        """Root-relative paths with uncommitted changes under `subdir` (what makes it dirty)."""

    @abstractmethod
    def working_files(self, subdir: str = ".") -> list[str]:
        """Files a dirty export takes: tracked and present, plus untracked-not-ignored (root-relative)."""

    @abstractmethod
    def read_file(self, full_id: str, path: str) -> bytes | None:
        """Contents of `path` (root-relative) at `full_id`, or None if it does not exist there."""

    @abstractmethod
    def commit_time(self, full_id: str) -> int:
        """Commit time in unix seconds: the fixed mtime of every artifact member."""

    @abstractmethod
    def describe(self, full_id: str) -> str:
        """A human name for the revision, relative to the nearest tag when there is one."""

    # -- shared plumbing -------------------------------------------------
    def env(self) -> dict[str, str]:
        """Environment for every command: subclasses pin identity and plain output."""
        return {**os.environ, "LC_ALL": "C"}

    def run(self, *args: str, check: bool = True, ok_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[bytes]:
        argv = [self.program, *args]
        try:
            proc = subprocess.run(argv, cwd=self.root, capture_output=True, timeout=self.timeout, env=self.env(), stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise CommandTimeout("localhost", " ".join(argv), self.timeout) from None
        except FileNotFoundError:
            raise VcsError(f"{self.program} is not installed (needed for {self.root})") from None
        if check and proc.returncode not in ok_codes:
            raise VcsCommandFailed(argv, proc.returncode, proc.stderr.decode("utf-8", "replace"))
        return proc

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.decode("utf-8", "replace").strip()

    @staticmethod
    def check_rev(rev: str) -> str:
        """A revision is never an option: `--output=...` must not reach the command line."""
        if not rev or rev.startswith("-") or "\n" in rev:
            raise VcsError(f"unknown revision {rev!r}")
        return rev

    def subdir_path(self, subdir: str) -> str:
        """`subdir` as a clean root-relative POSIX path ('.' for the root); refuse escapes."""
        parts = Path(subdir).as_posix().strip("/").split("/")
        clean = [p for p in parts if p not in ("", ".")]
        if ".." in clean or Path(subdir).is_absolute():
            raise VcsError(f"{subdir!r} is not a directory inside {self.root}")
        return "/".join(clean) or "."
