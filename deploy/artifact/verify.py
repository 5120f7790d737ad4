"""Check an artifact before anything unpacks it: its sha256 against the sidecar (or
the caller's), well-formed metadata, every member safe to extract (names, types,
sizes, and where it lands once the archive's own links are followed), every file
matching the manifest.

One streaming pass over the archive: nothing is extracted. The gzip stream is read
to its end, so a CRC error or trailing garbage is caught here, not on a host.
"""

from __future__ import annotations

import gzip
import posixpath
import tarfile
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from deploy.artifact.manifest import sha256_stream
from deploy.artifact.metadata import checked_manifest, checked_sidecar, parse_json
from deploy.artifact.tree_walk import Escape, Node, VirtualTree, check_final_links, landing
from deploy.errors import ArtifactError, UsageError
from deploy.transport.base import sha256_file

MANIFEST = "manifest.json"
RESERVED = ("release.json", ".deps")  # written by Shipyard into every release: never taken from an archive
BLOCK = 512  # every member costs at least a tar header's worth on disk
_VERIFIED: dict[tuple[str, int, int], "Verified"] = {}  # what this process read verifying an artifact
DEFAULT_MAX_UNPACKED = 2 << 30
DEFAULT_MAX_RATIO = 200.0
RATIO_FLOOR = 64 << 20  # below this, a high ratio (a file of zeros) is harmless


@dataclass(frozen=True)
class Limits:
    """How much an artifact may unpack to (config: max_unpacked_bytes, max_compression_ratio)."""

    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED
    max_ratio: float = DEFAULT_MAX_RATIO

    @classmethod
    def of(cls, env: Any) -> "Limits":
        """An environment's limits (deploy.config.EnvConfig)."""
        return cls(env.max_unpacked_bytes, env.max_compression_ratio)


def read_sidecar(artifact: Path) -> dict[str, Any]:
    sidecar = artifact.with_name(artifact.name + ".json")
    try:
        text = sidecar.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArtifactError(f"{artifact}: no sidecar {sidecar.name}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ArtifactError(f"{sidecar}: unreadable: {e}") from None
    return checked_sidecar(parse_json(text, str(sidecar)), str(sidecar))


def sidecars(dist_dir: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(artifact, sidecar) for every well-formed sidecar in `dist_dir` whose artifact exists;
    anything else there (a half-written or unrelated *.tar.gz.json) is not ours to judge."""
    for sidecar in sorted(Path(dist_dir).glob("*.tar.gz.json")):
        artifact = sidecar.with_name(sidecar.name[: -len(".json")])
        try:
            data = read_sidecar(artifact)
        except ArtifactError:
            continue
        if artifact.is_file():
            yield artifact, data


def latest_artifact(dist_dir: Path) -> Path:
    """The newest artifact in `dist_dir` by its sidecar's built_at."""
    built = [(data["built_at"], artifact) for artifact, data in sidecars(dist_dir)]
    if not built:
        raise UsageError(f"no artifact in {dist_dir}: run `invoke build` first (or pass --artifact PATH)")
    return max(built)[1]


def verify_artifact(path: Path, expected_sha256: str | None = None, limits: Limits = Limits()) -> dict[str, Any]:
    """The artifact's manifest, once the artifact is proven whole and safe; ArtifactError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: no such artifact")
    check_sha256(path, expected_sha256)
    try:
        return check_members(path, limits)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise ArtifactError(f"{path}: not a readable .tar.gz: {e}") from None


def check_sha256(path: Path, expected: str | None) -> None:
    wanted = {"expected": expected} if expected else {}
    if path.with_name(path.name + ".json").is_file():
        wanted["sidecar"] = read_sidecar(path)["sha256"]
    if not wanted:
        raise ArtifactError(f"{path}: no sidecar and no expected sha256: nothing to check it against")
    actual = sha256_file(path)
    for source, sha in wanted.items():
        if sha != actual:
            raise ArtifactError(f"{path}: sha256 mismatch: {source} says {sha}, file has {actual}")


def check_members(path: Path, limits: Limits = Limits()) -> dict[str, Any]:
    manifest_bytes, found, members = read_members(path, limits)
    where = f"{path}: {MANIFEST}"
    manifest = checked_manifest(parse_json(manifest_bytes, where), where)
    check_manifest(path, manifest, found)
    _VERIFIED.clear()  # one artifact per run: keep only the latest
    _VERIFIED[_file_key(path)] = Verified(manifest_bytes, members)
    return manifest


def check_part(path: Path, sha256: str, manifest_bytes: bytes, omit: tuple[str, ...],
               limits: Limits = Limits()) -> None:
    """A part of a verified artifact (dist/.payload/: the artifact less its wheelhouse) checked as
    that artifact was: its sha256, every member safe, manifest.json the artifact's very bytes, and
    its files exactly the manifest's outside `omit`, by sha256 and size. A host may then trust
    its files as it trusts the artifact's: by the stream's sha256, without reading them again."""
    path = Path(path)
    check_sha256(path, sha256)
    try:
        found_manifest, found, _ = read_members(path, limits)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise ArtifactError(f"{path}: not a readable .tar.gz: {e}") from None
    if found_manifest != manifest_bytes:
        raise ArtifactError(f"{path}: its {MANIFEST} is not the artifact's")
    manifest = parse_json(manifest_bytes, f"{path}: {MANIFEST}")
    kept = {name: meta for name, meta in manifest["files"].items() if not name.startswith(omit)}
    check_manifest(path, {"files": kept}, found)


def read_members(path: Path, limits: Limits) -> tuple[bytes, dict[str, tuple[str, int]], list[tarfile.TarInfo]]:
    """One streaming pass: every member checked safe, manifest.json's bytes, (sha256, size) of the
    other regular files, and every member header in archive order."""
    found: dict[str, tuple[str, int]] = {}
    placer = Placer(path)
    budget = Budget(path, limits, path.stat().st_size)
    manifest_bytes: bytes | None = None
    with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
        with tarfile.open(fileobj=gz, mode="r|") as tar:
            members = tar.members  # a stream keeps every header it read: the archive's index, for free
            for member in tar:
                name = member_name(path, member)
                budget.add(member)
                placer.place(member, name)
                if not member.isreg():
                    continue
                stream = tar.extractfile(member)
                assert stream is not None  # a regular member always has a stream
                if name == MANIFEST:
                    manifest_bytes = stream.read()
                else:
                    found[name] = sha256_stream(stream)
            check_end(path, tar)
    placer.finish()
    if manifest_bytes is None:
        raise ArtifactError(f"{path}: no {MANIFEST}")
    return manifest_bytes, found, members


@dataclass(frozen=True)
class Verified:
    """An artifact as its verification read it: manifest.json's exact bytes, and every member's
    header in archive order (offset_data: where its bytes start in the uncompressed stream)."""

    manifest_bytes: bytes
    members: list[tarfile.TarInfo]


def _file_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def verified(path: Path) -> Verified | None:
    """What this process read verifying `path` (unchanged since, by size and mtime), so whoever needs
    its manifest text or member list does not parse the archive again; None otherwise."""
    try:
        return _VERIFIED.get(_file_key(Path(path)))
    except OSError:
        return None


def check_end(path: Path, tar: tarfile.TarFile) -> None:
    """Read the stream to its end: only zero padding may follow the archive, and reaching the
    end of the gzip stream checks its CRC and length."""
    while block := tar.fileobj.read(1 << 16):
        if block.strip(b"\0"):
            raise ArtifactError(f"{path}: data after the end of the tar archive")


class Budget:
    """The unpacked size, added up from member headers before any content is read."""

    def __init__(self, path: Path, limits: Limits, compressed: int):
        self.path, self.limits, self.compressed, self.total = path, limits, max(compressed, 1), 0

    def add(self, member: tarfile.TarInfo) -> None:
        self.total += BLOCK + (member.size if member.isreg() else 0)
        if self.total > self.limits.max_unpacked_bytes:
            raise ArtifactError(f"{self.path}: unpacks to more than {self.limits.max_unpacked_bytes} bytes "
                                f"(max_unpacked_bytes); refused before extraction")
        ratio = self.total / self.compressed
        if self.total > RATIO_FLOOR and ratio > self.limits.max_ratio:
            raise ArtifactError(f"{self.path}: unpacks to over {ratio:.0f}x its compressed size "
                                f"(max_compression_ratio {self.limits.max_ratio:g}): refused as a decompression bomb")


def bad_character(text: str) -> str | None:
    """Why `text` cannot be a path on a host (newline, backslash, control or invisible character)."""
    for ch in text:
        if ch == "\n":
            return "a newline"
        if ch == "\\":
            return "a backslash"
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return "a surrogate (not UTF-8)" if unicodedata.category(ch) == "Cs" else f"control character U+{ord(ch):04X}"
    return None


def member_name(path: Path, member: tarfile.TarInfo) -> str:
    """The member's clean relative name; ArtifactError for any name or type unsafe to extract."""
    name = member.name
    unsafe = f"{path}: unsafe member {name!r}"
    if (why := bad_character(name)) or (member.issym() or member.islnk()) and (why := bad_character(member.linkname)):
        raise ArtifactError(f"{unsafe}: its name or link target contains {why}")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArtifactError(f"{unsafe}: absolute path")
    if len(name.encode()) > 4095 or any(len(p.encode()) > 255 for p in name.split("/")):
        raise ArtifactError(f"{unsafe}: name too long for a filesystem")
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise ArtifactError(f"{unsafe}: device, fifo or unknown type")
    if member.issparse():
        raise ArtifactError(f"{unsafe}: sparse file (its real size is not what the header says)")
    clean = posixpath.normpath(name) if name.strip("/") not in ("", ".") else "."
    if clean.split("/")[0] in RESERVED:
        raise ArtifactError(f"{unsafe}: {clean.split('/')[0]} is reserved (Shipyard writes it into each release)")
    if clean == MANIFEST and not member.isreg():
        raise ArtifactError(f"{unsafe}: {MANIFEST} must be a regular file")
    return clean


class Placer:
    """Replays the archive into a VirtualTree; refuses any member written, or link resolving,
    outside the release root."""

    def __init__(self, path: Path):
        self.path, self.tree, self.seen = path, VirtualTree(), set()

    def refuse(self, name: str, why: str) -> ArtifactError:
        return ArtifactError(f"{self.path}: unsafe member {name!r}: {why}")

    def place(self, member: tarfile.TarInfo, name: str) -> None:
        if name in self.seen:
            raise ArtifactError(f"{self.path}: duplicate member {name}: a later copy would overwrite the checked one")
        self.seen.add(name)
        try:
            where = landing(self.tree, member.name, follow_last=not member.issym())
        except Escape as e:
            raise self.refuse(name, f"lands outside the release ({e})") from None
        if where is None:  # behind a symlink loop: no extractor can write it
            return
        if where == () and not member.isdir():
            raise self.refuse(name, "would replace the release root")
        old = self.tree.nodes.get(where)
        if not member.isdir() and old is not None and old.kind == "dir" and self.tree.has_children(where):
            raise self.refuse(name, "would replace a directory that holds other members")
        self.tree.place(where, self.node(member, name))

    def node(self, member: tarfile.TarInfo, name: str) -> Node:
        if member.isdir():
            return Node("dir")
        if member.issym():
            return Node("link", member.linkname)
        if member.isreg():
            return Node("file")
        return self.hardlink(member, name)

    def hardlink(self, member: tarfile.TarInfo, name: str) -> Node:
        """A hardlink's target is resolved from the root; it must be a file placed earlier. A hardlink
        to a symlink is a copy of that symlink for GNU tar and its target for Python: both are checked."""
        try:
            source = self.tree.resolve((), member.linkname, follow_last=False)
            target = self.tree.nodes.get(source) if source is not None else None
            if target is not None and target.kind == "link":
                self.tree.resolve(source[:-1], target.target, follow_last=True)
                return Node("link", target.target)
        except Escape as e:
            raise self.refuse(name, f"hardlink to {member.linkname!r} leaves the release ({e})") from None
        if target is None or target.kind != "file":
            raise self.refuse(name, f"hardlink to {member.linkname!r}, which is not a file earlier in the archive")
        return Node("file")

    def finish(self) -> None:
        try:
            check_final_links(self.tree)
        except Escape as e:
            raise ArtifactError(f"{self.path}: unsafe member: {e}") from None


def check_manifest(path: Path, manifest: dict[str, Any], found: dict[str, tuple[str, int]]) -> None:
    listed = manifest["files"]
    for name in sorted(set(listed) | set(found)):
        if name not in found:
            raise ArtifactError(f"{path}: {name} is in the manifest but not in the archive")
        if name not in listed:
            raise ArtifactError(f"{path}: {name} is in the archive but not in the manifest")
        sha, size = found[name]
        if listed[name]["sha256"] != sha or listed[name]["size"] != size:
            raise ArtifactError(f"{path}: {name} does not match its manifest entry (sha256/size)")
