"""manifest.json: what an artifact holds and where it came from, every file with its sha256.

The manifest carries no wall-clock time, so building a revision twice gives the
same bytes; build time and builder live in the sidecar instead.
"""

from __future__ import annotations

import hashlib
import os
import platform
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from deploy.artifact.tarball import normal_mode, sorted_entries
from deploy.transport.base import sha256_file

SCHEMA = 1
PAYLOAD_DIRS = ("app", "wheelhouse", "static")


def sha256_stream(stream: BinaryIO, chunk: int = 1 << 20) -> tuple[str, int]:
    """(sha256, size) of a stream read to its end; works on tar members without extracting."""
    h, size = hashlib.sha256(), 0
    while block := stream.read(chunk):
        h.update(block)
        size += len(block)
    return h.hexdigest(), size


def file_entries(staging: Path) -> dict[str, dict[str, Any]]:
    """{relpath: {sha256, size, mode}} for every regular file under the payload dirs."""
    files: dict[str, dict[str, Any]] = {}
    for top in PAYLOAD_DIRS:
        if not (staging / top).is_dir():
            continue
        for path in sorted_entries(staging / top):
            st = path.lstat()
            if not stat.S_ISREG(st.st_mode):  # directories and symlinks carry no content
                continue
            files[path.relative_to(staging).as_posix()] = {
                "sha256": sha256_file(path),
                "size": st.st_size,
                "mode": f"{normal_mode(st.st_mode):04o}",
            }
    return files


def env_key(wheelhouse: Path) -> str:
    """One id per set of wheels: the deploy engine installs dependencies once per env_key."""
    h = hashlib.sha256()
    for wheel in sorted(os.listdir(wheelhouse)) if wheelhouse.is_dir() else []:
        h.update(f"{wheel} {sha256_file(wheelhouse / wheel)}\n".encode())
    return h.hexdigest()


def iso_utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_manifest(staging: Path, *, source: dict[str, Any], requirements_sha256: str | None, hooks: dict[str, Any]) -> dict[str, Any]:
    """The manifest for a staged artifact. `source` holds project/vcs/revision/short/describe/dirty/commit_time."""
    return {
        "schema": SCHEMA,
        "project": source["project"],
        "vcs": source["vcs"],
        "revision": source["revision"],
        "short": source["short"],
        "describe": source["describe"],
        "dirty": source["dirty"],
        "source_date": iso_utc(source["commit_time"]),
        "python": platform.python_version(),
        "requirements_sha256": requirements_sha256,
        "env_key": env_key(staging / "wheelhouse"),
        "hooks": hooks,
        "files": file_entries(staging),
    }
