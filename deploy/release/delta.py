"""What travels to a POSIX host for a release: the whole artifact, or only what its previous
release lacks — worked out once per run and previous release, never once per host.

Files are content-addressed by the manifest's (sha256, mode). A host whose previous release
came from an artifact we know (it is still in dist/, or one host of the same previous
artifact sent us its manifest) gets the new manifest as a patch against that one, and a
small tar.gz of the files no previous file has (plus symlinks and empty directories);
the host hard-links the rest (deploy/release/receiver.py). The delta tarball is built from
the verified artifact in one streaming pass and shared by every host with that previous
release, so the controller reads the artifact once per run whatever the number of hosts.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from deploy.errors import ArtifactError

MANIFEST = "manifest.json"
OMIT = ("wheelhouse/",)  # what a host that gets the dependency bundle does not need
CheckPart = Callable[[Path, str, bytes, tuple[str, ...]], None]  # deploy.artifact.verify.check_part


class NeedFull(Exception):
    """The host could not use the delta (its previous release changed): send the whole artifact."""


@dataclass(frozen=True)
class Part:
    """One stream the host unpacks: bytes in memory (a delta) or a file read as it is sent."""

    kind: str  # "release" or "deps"
    sha256: str
    size: int
    data: bytes | None = None
    path: Path | None = None
    verified: bool = False  # the bytes are the artifact this run verified member by member (sha256 above)

    def chunks(self, size: int = 1 << 18):
        if self.data is not None:
            yield from (self.data[i:i + size] for i in range(0, len(self.data), size))
            return
        assert self.path is not None
        with open(self.path, "rb") as f:
            while block := f.read(size):
                yield block

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "size": self.size, "sha256": self.sha256, "verified": self.verified}


@dataclass(frozen=True)
class Shipment:
    """The release part for one host and what the receiver needs to rebuild the manifest."""

    part: Part
    manifest: dict[str, Any]  # {"sha256": ...} (whole artifact) or {"patch": ..., "sha256": ...}
    ship: list[str] | None  # paths the delta carries; None: the whole artifact
    omit: tuple[str, ...] = ()  # manifest paths under these prefixes stay off the host (wheelhouse/)


def manifest_patch(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new` as a change to `base`: top-level fields, changed or added files, removed paths."""
    old_files, new_files = base.get("files", {}), new["files"]
    return {
        "top": {k: v for k, v in new.items() if k != "files"},
        "set": {p: m for p, m in new_files.items() if old_files.get(p) != m},
        "drop": sorted(set(old_files) - set(new_files)),
    }


def read_manifest_text(artifact: Path) -> bytes:
    """The artifact's manifest.json: as verified in this run, else out of the archive (it is its
    last member, so this costs a whole decompression: GNU tar's when there is one, else tarfile's)."""
    from deploy.artifact.verify import verified

    if (seen := verified(artifact)) is not None:
        return seen.manifest_bytes
    if tar := shutil.which("tar"):
        done = subprocess.run([tar, "-xzOf", str(artifact), "--occurrence=1", MANIFEST], capture_output=True)
        if done.returncode == 0 and done.stdout:
            return done.stdout
    with tarfile.open(artifact, "r:gz") as archive:
        member = archive.extractfile(MANIFEST)
        if member is None:
            raise ArtifactError(f"{artifact}: no {MANIFEST}")
        return member.read()


def dist_index(dist_dir: Path) -> dict[str, Path]:
    """{artifact sha256: path} for every artifact in dist/ with a well-formed sidecar."""
    from deploy.artifact.verify import sidecars

    return {data["sha256"]: artifact for artifact, data in sidecars(dist_dir)}


def delta_paths(manifest: dict[str, Any], base_files: dict[str, Any], omit: tuple[str, ...] = ()) -> list[str]:
    """Files whose (content, mode) no file of the base has: the only ones that must travel."""
    have = {(m.get("sha256"), m.get("mode")) for p, m in base_files.items() if not p.startswith(omit)}
    return sorted(p for p, m in manifest["files"].items()
                  if (m["sha256"], m["mode"]) not in have and not p.startswith(omit))


def build_delta(artifact: Path, manifest: dict[str, Any], ship: set[str], omit: tuple[str, ...] = ()) -> bytes:
    """A tar.gz of the shipped files, every symlink and every directory that holds no file
    (linking or extracting a file creates its directories). With the member headers the
    artifact's verification kept, only the shipped files' bytes are read (the gzip stream
    decompressed up to each, no header parsed twice); else one pass over the artifact."""
    from deploy.artifact.verify import verified

    parents = {str(parent) for f in manifest["files"] for parent in Path(f).parents}

    def wanted(member: tarfile.TarInfo) -> bool:
        name = member.name.removeprefix("./").rstrip("/")
        if omit and f"{name}/".startswith(omit):
            return False
        return (member.isreg() and name in ship) or member.issym() or (member.isdir() and name not in parents)

    out = io.BytesIO()
    seen = verified(artifact)
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=6) as tar:
        if seen is None:
            with tarfile.open(artifact, "r|gz") as src:
                for member in filter(wanted, src):
                    tar.addfile(member, src.extractfile(member) if member.isreg() else None)
        else:
            with gzip.open(artifact, "rb") as raw:
                for member in filter(wanted, seen.members):
                    if member.isreg():
                        raw.seek(member.offset_data)  # forward only: members are in archive order
                    tar.addfile(member, raw if member.isreg() else None)  # copies exactly member.size bytes
    return out.getvalue()


class Shipments:
    """Per run: the release part each host needs, computed once per previous artifact."""

    def __init__(self, artifact: Path, sha256: str, manifest: dict[str, Any], payload: dict[str, Any] | None = None,
                 check_part: CheckPart | None = None):
        self.artifact, self.manifest = artifact, manifest
        self.manifest_text = read_manifest_text(artifact)
        self.manifest_sha256 = hashlib.sha256(self.manifest_text).hexdigest()
        self.full = Shipment(Part("release", sha256, artifact.stat().st_size, path=artifact, verified=True),
                             {"sha256": self.manifest_sha256}, None)
        self.payload = self.full
        if payload:  # the artifact less its wheelhouse, for hosts that get the dependency bundle
            part = Part("release", payload["sha256"], payload["size"], path=artifact.parent / payload["file"])
            self.payload = Shipment(part, self.full.manifest, None, OMIT)
        self._check_part = check_part if payload else None
        self._dist: dict[str, Path] | None = None
        self._bases: dict[str, dict[str, Any]] = {}
        self._deltas: dict[tuple[str, tuple[str, ...]], Shipment] = {}
        self._lock = threading.Lock()

    def whole(self, bundled: bool) -> Shipment:
        """The whole release for a host: without the wheelhouse when it gets the dependency bundle.
        That part, checked member by member once per run (`check_part`), travels as verified: no
        host hashes its files again."""
        if not bundled:
            return self.full
        with self._lock:
            if self._check_part is not None:
                part = self.payload.part
                assert part.path is not None
                self._check_part(part.path, part.sha256, self.manifest_text, self.payload.omit)
                self.payload, self._check_part = replace(self.payload, part=replace(part, verified=True)), None
            return self.payload

    def for_previous(self, previous_sha256: str, fetch_manifest: Callable[[], dict[str, Any]],
                     bundled: bool = False) -> Shipment:
        """The delta against the previous release's artifact; its manifest comes from dist/ when the
        artifact is still there, else from `fetch_manifest` (asked of one host per previous artifact)."""
        omit = self.payload.omit if bundled else ()  # not whole(): a delta needs no check of the payload
        with self._lock:
            if (previous_sha256, omit) not in self._deltas:
                if previous_sha256 not in self._bases:
                    self._bases[previous_sha256] = self._base_manifest(previous_sha256, fetch_manifest)
                self._deltas[(previous_sha256, omit)] = self._delta(self._bases[previous_sha256], omit)
            return self._deltas[(previous_sha256, omit)]

    def _base_manifest(self, sha256: str, fetch: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if self._dist is None:
            self._dist = dist_index(self.artifact.parent)
        if sha256 in self._dist:
            try:
                return json.loads(read_manifest_text(self._dist[sha256]))
            except (OSError, ValueError, tarfile.TarError, ArtifactError):
                pass
        return fetch()

    def _delta(self, base: dict[str, Any], omit: tuple[str, ...]) -> Shipment:
        ship = delta_paths(self.manifest, base.get("files", {}), omit)
        data = build_delta(self.artifact, self.manifest, set(ship), omit)
        part = Part("release", hashlib.sha256(data).hexdigest(), len(data), data=data)
        return Shipment(part, {"patch": manifest_patch(base, self.manifest), "sha256": self.manifest_sha256}, ship, omit)
