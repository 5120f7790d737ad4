"""Check an artifact before anything unpacks it: its sha256 against the sidecar (or
the caller's), every member safe to extract, every file matching the manifest.

One streaming pass over the archive (`r|gz`): nothing is extracted, and the
same code works on a pipe.
"""

from __future__ import annotations

import json
import posixpath
import tarfile
from pathlib import Path
from typing import Any

from deploy.artifact.manifest import sha256_stream
from deploy.errors import ArtifactError, UsageError
from deploy.transport.base import sha256_file

MANIFEST = "manifest.json"


def read_sidecar(artifact: Path) -> dict[str, Any]:
    sidecar = artifact.with_name(artifact.name + ".json")
    try:
        return json.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{artifact}: no sidecar {sidecar.name}") from None
    except ValueError as e:
        raise ArtifactError(f"{sidecar}: not valid JSON: {e}") from None


def latest_artifact(dist_dir: Path) -> Path:
    """The newest artifact in `dist_dir` by its sidecar's built_at."""
    built: list[tuple[str, Path]] = []
    for sidecar in Path(dist_dir).glob("*.tar.gz.json"):
        artifact = sidecar.with_name(sidecar.name[: -len(".json")])
        try:
            stamp = json.loads(sidecar.read_text(encoding="utf-8"))["built_at"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if artifact.is_file():
            built.append((stamp, artifact))
    if not built:
        raise UsageError(f"no artifact in {dist_dir}: run `invoke build` first (or pass --artifact PATH)")
    return max(built)[1]


def verify_artifact(path: Path, expected_sha256: str | None = None) -> dict[str, Any]:
    """The artifact's manifest, once the artifact is proven whole and safe; ArtifactError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: no such artifact")
    check_sha256(path, expected_sha256)
    try:
        return check_members(path)
    except (tarfile.TarError, EOFError, OSError, ValueError) as e:
        raise ArtifactError(f"{path}: not a readable .tar.gz: {e}") from None


def check_sha256(path: Path, expected: str | None) -> None:
    wanted = {"expected": expected} if expected else {}
    if path.with_name(path.name + ".json").is_file():
        wanted["sidecar"] = read_sidecar(path).get("sha256")
    if not wanted:
        raise ArtifactError(f"{path}: no sidecar and no expected sha256: nothing to check it against")
    actual = sha256_file(path)
    for source, sha in wanted.items():
        if sha != actual:
            raise ArtifactError(f"{path}: sha256 mismatch: {source} says {sha}, file has {actual}")


def check_members(path: Path) -> dict[str, Any]:
    found: dict[str, tuple[str, int]] = {}
    seen: set[str] = set()
    symlinks: set[str] = set()
    manifest: dict[str, Any] | None = None
    with tarfile.open(path, mode="r|gz") as tar:
        for member in tar:
            name = member_name(path, member)
            check_placement(path, name, member.issym(), seen, symlinks)
            if not member.isreg():
                continue
            stream = tar.extractfile(member)
            assert stream is not None  # a regular member always has a stream
            if name == MANIFEST:
                manifest = json.loads(stream.read().decode("utf-8"))
            else:
                found[name] = sha256_stream(stream)
    if manifest is None:
        raise ArtifactError(f"{path}: no {MANIFEST}")
    check_manifest(path, manifest, found)
    return manifest


def member_name(path: Path, member: tarfile.TarInfo) -> str:
    """The member's clean relative name; ArtifactError for anything unsafe to extract."""
    name = member.name
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ArtifactError(f"{path}: unsafe member {name!r}: absolute path")
    if ".." in name.replace("\\", "/").split("/"):
        raise ArtifactError(f"{path}: unsafe member {name!r}: '..' component")
    if member.ischr() or member.isblk() or member.isfifo() or not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise ArtifactError(f"{path}: unsafe member {name!r}: device, fifo or unknown type")
    if member.issym() or member.islnk():
        base = posixpath.dirname(name) if member.issym() else ""
        target = posixpath.normpath(posixpath.join(base, member.linkname))
        if member.linkname.startswith("/") or target == ".." or target.startswith("../"):
            kind = "symlink" if member.issym() else "hardlink"
            raise ArtifactError(f"{path}: unsafe member {name!r}: {kind} to {member.linkname!r} leaves the archive")
    return posixpath.normpath(name)


def check_placement(path: Path, name: str, is_symlink: bool, seen: set[str], symlinks: set[str]) -> None:
    """No member twice (the later copy would win), none under a symlink in either order
    (it would land wherever the link points, which a per-member check cannot see).
    Records `name` in `seen` (and `symlinks`)."""
    if name in seen:
        raise ArtifactError(f"{path}: duplicate member {name}: a later copy would overwrite the checked one")
    parts = name.split("/")
    for depth in range(1, len(parts)):
        parent = "/".join(parts[:depth])
        if parent in symlinks:
            raise ArtifactError(f"{path}: unsafe member {name!r}: inside symlink {parent!r}")
    if is_symlink:
        if any(other.startswith(name + "/") for other in seen):
            raise ArtifactError(f"{path}: unsafe member {name!r}: symlink over a directory with members")
        symlinks.add(name)
    seen.add(name)


def check_manifest(path: Path, manifest: dict[str, Any], found: dict[str, tuple[str, int]]) -> None:
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise ArtifactError(f"{path}: {MANIFEST} has no files table")
    for name in sorted(set(listed) | set(found)):
        if name not in found:
            raise ArtifactError(f"{path}: {name} is in the manifest but not in the archive")
        if name not in listed:
            raise ArtifactError(f"{path}: {name} is in the archive but not in the manifest")
        sha, size = found[name]
        if listed[name].get("sha256") != sha or listed[name].get("size") != size:
            raise ArtifactError(f"{path}: {name} does not match its manifest entry (sha256/size)")
