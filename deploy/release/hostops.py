"""What a deploy asks of one host, independent of its shell.

The deploy flow (stages.py) speaks only these verbs. `PosixHostOps` (posix.py)
implements them with sh over local/SSH transports; `WindowsHostOps` implements
them with scripts/ps1 over WinRM/PsExec. Each verb is one round trip where it can be.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.errors import ShipyardError
from deploy.release.layout import Layout
from deploy.secrets import Secret
from deploy.transport.base import Result, Transport

# Release statuses kept in releases/<id>/release.json
PENDING, GOOD, FAILED, ROLLED_BACK = "pending", "good", "failed", "rolled_back"


@dataclass(frozen=True)
class ReleaseInfo:
    """One release directory as the host reports it."""

    id: str
    status: str
    revision: str = ""
    artifact_sha256: str = ""
    deployed_at: str = ""
    deployed_by: str = ""
    current: bool = False
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # all of release.json

    @classmethod
    def from_json(cls, data: dict[str, Any], current: bool) -> "ReleaseInfo":
        keys = ("id", "status", "revision", "artifact_sha256", "deployed_at", "deployed_by")
        return cls(**{k: str(data.get(k, "")) for k in keys}, current=current, data=dict(data))


def pending_record(info: dict[str, Any], release_id: str) -> dict[str, Any]:
    """The release.json a deploy writes with a release it unpacks (status pending until finishing)."""
    return {**info, "id": release_id, "status": PENDING}


@dataclass
class Finished:
    """What a host's `finishing` did (HostOps.finish): what retention removed (releases, then unused
    uploads and envs), the releases it had to keep, and the journal or retention problem it met
    (never fatal: reported)."""

    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    journal_error: str = ""
    prune_error: str = ""


class HostOps(ABC):
    """Host-side verbs of a deploy. Implementations must keep `switch` atomic."""

    def __init__(self, transport: Transport, layout: Layout, timeout: float = 600.0):
        self.transport = transport
        self.layout = layout
        self.timeout = timeout

    @property
    def host(self) -> str:
        return self.transport.name

    @abstractmethod
    def prepare(self, linked_dirs: list[str], linked_files: list[str]) -> None:
        """Create releases/, shared/ (and the linked dirs), .shipyard/; idempotent."""

    @abstractmethod
    def acquire_lock(self, owner: dict[str, Any]) -> None:
        """Take the host lock atomically or raise LockHeld naming the holder."""

    @abstractmethod
    def release_lock(self, token: str) -> None:
        """Drop the lock if `token` still owns it."""

    @abstractmethod
    def read_lock(self) -> dict[str, Any] | None:
        """The holder's record, or None when free."""

    @abstractmethod
    def upload(self, artifact: Path, sha256: str) -> str:
        """Put the artifact under .shipyard/artifacts/, verified on the far side; return its path.
        Skips the copy when a verified copy is already there."""

    @abstractmethod
    def unpack(self, remote_artifact: str, release_id: str, info: dict[str, Any]) -> None:
        """Extract into releases/<id> (via a temp dir, renamed into place) and write
        release.json with `info` and status pending."""

    @abstractmethod
    def link_shared(self, release_id: str, linked_dirs: list[str], linked_files: list[str]) -> None:
        """Point app/<path> of the release at shared/<path>."""

    @abstractmethod
    def install(self, release_id: str, python: str, env_key: str, requirements: str = "requirements.txt") -> None:
        """Install app/<requirements> from the release's wheelhouse into shared/envs/<env_key>
        (once per key) and link it as releases/<id>/.deps."""

    @abstractmethod
    def write_files(self, release_id: str, files: dict[str, str], dirs: list[str]) -> None:
        """Write rendered files (paths relative to the release) and create `dirs`, in one go."""

    @abstractmethod
    def set_status(self, release_id: str, status: str, extra: dict[str, Any] | None = None) -> None:
        """Rewrite release.json's status (pending, good, failed, rolled_back)."""

    @abstractmethod
    def releases(self) -> list[ReleaseInfo]:
        """Every release directory, oldest first, with the current one marked."""

    @abstractmethod
    def switch(self, release_id: str | None) -> None:
        """Atomically point `current` at releases/<id>; None removes `current`."""

    @abstractmethod
    def remove_releases(self, release_ids: list[str]) -> list[str]:
        """Delete these release dirs; return the ids that could not be removed (never raise)."""

    @abstractmethod
    def append_journal(self, entry: dict[str, Any]) -> None:
        """Append one JSON line to .shipyard/journal.jsonl."""

    @abstractmethod
    def read_journal(self) -> list[dict[str, Any]]:
        """Every journal entry, oldest first."""

    @abstractmethod
    def clean_leftovers(self) -> None:
        """Remove what a failed or killed run left behind: staging dirs (releases/.<id>.tmp),
        partial uploads, delta tarballs, half-installed dependency envs. Only while holding the lock."""

    @abstractmethod
    def disk_space(self, env_key: str) -> tuple[int, bool]:
        """Free bytes on the filesystem that holds (or will hold) deploy_to, and whether the
        dependency env for `env_key` is already installed there; reads only."""

    @abstractmethod
    def read_manifest(self, release_id: str) -> dict[str, Any]:
        """The release's manifest.json (its hooks drive a rollback to it)."""

    @abstractmethod
    def run_hook(
        self, release_id: str | None, command: str, env: dict[str, str], secrets: dict[str, Secret]
    ) -> Result:
        """Run a hook command from the release's app dir (deploy_to before it is unpacked);
        secrets go on stdin."""

    def prune_unused(self) -> list[str]:
        """Remove uploaded artifacts and dependency envs no remaining release uses; return what went.
        Hosts that keep neither (or cannot tell) remove nothing."""
        return []

    def probe(self, env_key: str, python: str = "", bundle_keys: list[str] | None = None) -> tuple[int, bool, dict[str, Any] | None]:
        """Read-only, before any host is touched: disk_space, and the dependency facts (the Python's
        platform tag, the envs there) when `bundle_keys` is given and the host answers both at once;
        None for the facts means: ask for them apart."""
        return (*self.disk_space(env_key), None)

    def begin(self, owner: dict[str, Any], linked_dirs: list[str], linked_files: list[str]) -> list[ReleaseInfo]:
        """The host's `starting`: prepare, take the lock (LockHeld when another run has it) and, once it
        is ours, remove leftovers and list the releases. A host that can do it in one round trip does."""
        self.prepare(linked_dirs, linked_files)
        self.acquire_lock(owner)
        try:
            self.clean_leftovers()
            return self.releases()
        except BaseException:
            with contextlib.suppress(Exception):
                self.release_lock(str(owner["token"]))
            raise

    def finish(self, release_id: str, marks: dict[str, dict[str, Any]], entry: dict[str, Any],
               doomed: list[str]) -> Finished | None:
        """The host's `finishing`, while `current` is still `release_id` (else None, nothing done):
        each release's release.json as `marks` has it (the controller's record, new status), `entry`
        in the journal, `doomed` removed with what no remaining release uses. Only the marks can
        fail it; journal and retention problems are reported in the answer."""
        if self.current() != release_id:
            return None
        for rid, record in marks.items():
            self.set_status(rid, str(record["status"]))
        done = Finished()
        try:
            self.append_journal(entry)
        except ShipyardError as e:
            done.journal_error = str(e)
        try:
            done.kept = self.remove_releases(doomed) if doomed else []
            done.removed = [r for r in doomed if r not in done.kept] + self.prune_unused()
        except ShipyardError as e:
            done.prune_error = str(e)
        return done

    def current(self) -> str | None:
        return next((r.id for r in self.releases() if r.current), None)
