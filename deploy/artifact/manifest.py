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


def tree_entries(root: Path, tops: tuple[str, ...] | None = None) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """({relpath: {sha256, size, mode}} for regular files, {relpath: target} for symlinks) under
    `root` (only under its `tops` dirs when given). Hosts check their unpacked tree against both:
    a file or link the manifest does not name, or one that differs, is refused."""
    files: dict[str, dict[str, Any]] = {}
    links: dict[str, str] = {}
    for top in tops if tops is not None else (".",):
        base = root / top
        if not base.is_dir():
            continue
        for path in sorted_entries(base):
            st = path.lstat()
            rel = path.relative_to(root).as_posix()
            if stat.S_ISLNK(st.st_mode):
                links[rel] = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):  # directories carry no content
                files[rel] = {"sha256": sha256_file(path), "size": st.st_size, "mode": f"{normal_mode(st.st_mode):04o}"}
    return files, links


def env_key(wheelhouse: Path) -> str:
    """One id per set of wheels: the deploy engine installs dependencies once per env_key."""
    h = hashlib.sha256()
    for wheel in sorted(os.listdir(wheelhouse)) if wheelhouse.is_dir() else []:
        if wheel.startswith("."):  # a wheel cache's .complete marker is not part of the set
            continue
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
        **dict(zip(("files", "links"), tree_entries(staging, PAYLOAD_DIRS))),
    }
