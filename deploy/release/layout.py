"""Where things live under a host's deploy_to. Pure functions, no I/O.

    deploy_to/releases/<id>/         one unpacked artifact per release (+ release.json)
    deploy_to/shared/                survives releases: linked dirs/files, dependency envs
    deploy_to/current                -> releases/<id>   (symlink on POSIX, junction on Windows)
    deploy_to/.shipyard/journal.jsonl, .shipyard/lock, .shipyard/artifacts/<sha256>.tar.gz
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import PurePath, PurePosixPath, PureWindowsPath

RELEASE_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{7,40}(-dirty)?$")


def new_release_id(short_rev: str, now: datetime | None = None, dirty: bool = False) -> str:
    """`YYYYMMDD-HHMMSS-<shortrev>` in UTC: sorts by time, names the revision."""
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{short_rev}{'-dirty' if dirty else ''}"


def is_release_id(text: str) -> bool:
    return bool(RELEASE_ID.match(text))


@dataclass(frozen=True)
class Layout:
    """Paths on one host; `windows` picks the path flavour, nothing else."""

    deploy_to: str
    windows: bool = False

    @property
    def _root(self) -> PurePath:
        return PureWindowsPath(self.deploy_to) if self.windows else PurePosixPath(self.deploy_to)

    def _join(self, *parts: str) -> str:
        return str(self._root.joinpath(*parts))

    @property
    def releases(self) -> str:
        return self._join("releases")

    def release(self, release_id: str) -> str:
        return self._join("releases", release_id)

    def release_app(self, release_id: str) -> str:
        return self._join("releases", release_id, "app")

    def release_info(self, release_id: str) -> str:
        return self._join("releases", release_id, "release.json")

    @property
    def shared(self) -> str:
        return self._join("shared")

    def shared_path(self, relative: str) -> str:
        return self._join("shared", relative)

    def dependency_env(self, key: str) -> str:
        return self._join("shared", "envs", key)

    @property
    def current(self) -> str:
        return self._join("current")

    @property
    def meta(self) -> str:
        return self._join(".shipyard")

    @property
    def journal(self) -> str:
        return self._join(".shipyard", "journal.jsonl")

    @property
    def lock(self) -> str:
        return self._join(".shipyard", "lock")

    def artifact(self, sha256: str) -> str:
        return self._join(".shipyard", "artifacts", f"{sha256}.tar.gz")
