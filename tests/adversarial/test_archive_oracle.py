"""Generated archives (files, dirs, symlinks, hardlinks, link chains, some escaping) against an
independent oracle: each archive is really extracted, by Python's tarfile (which follows every
link, the most permissive extractor; run chrooted into its sandbox, so an escape cannot climb
out of it) and by GNU tar (what hosts run), into a release directory inside a sandbox full of
bait; then os.path.realpath and a before/after snapshot of the sandbox say whether anything left
the release. Shipyard must refuse every escaping archive, and accept every archive that does not
escape and that both extractors unpack without an error (an archive an extractor chokes on fails
the unpack step anyway, so either verdict is fine there).

SHIPYARD_FUZZ_EXAMPLES raises the number of examples for a deeper run.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings, strategies as st

from deploy.artifact.verify import verify_artifact
from deploy.errors import ArtifactError

EXAMPLES = int(os.environ.get("SHIPYARD_FUZZ_EXAMPLES", "200"))
DEPTH = 3  # levels of sandbox above the release (the chroot keeps deeper climbs at its root)
ABS = "@ABS@"  # stands for an absolute path into the sandbox (never outside it)
CONTAINMENT_WORDS = ("outside the release", "leaves the release", "absolute")
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") else None  # thousands of small files: keep them in memory


@dataclass(frozen=True)
class Member:
    kind: str  # dir, file, sym, hard
    name: str
    target: str = ""
    data: bytes = b""


component = st.sampled_from(["a", "b", "c", "a", "b", ".."])
relative = st.lists(component, min_size=1, max_size=4).map("/".join)


@st.composite
def archives(draw) -> list[Member]:
    members: list[Member] = []
    seen: set[str] = set()
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["dir", "file", "file", "sym", "sym", "sym", "hard"]))
        name = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "x", ".."]), min_size=1, max_size=4).map("/".join))
        norm = posixpath.normpath(name)
        if norm in seen or norm in (".", "..", "manifest.json"):
            continue
        seen.add(norm)
        earlier = [m.name for m in members]
        if kind == "sym":
            choices = [relative, st.just(ABS), st.just(".."), st.just(".")]
            if earlier:
                choices.append(st.sampled_from(earlier))
            target = draw(st.one_of(*choices))
        elif kind == "hard":
            files = [m.name for m in members if m.kind == "file"]
            target = draw(st.one_of(st.sampled_from(files), relative.map(lambda p: p + "/bait")) if files
                          else relative.map(lambda p: p + "/bait"))
        else:
            target = ""
        members.append(Member(kind, name, target, draw(st.binary(max_size=8)) if kind == "file" else b""))
    return members


def tar_info(m: Member, absolute: str) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(m.name)
    if m.kind == "dir":
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    elif m.kind == "file":
        info.size, info.mode = len(m.data), 0o644
        return info, m.data
    else:
        info.type = tarfile.SYMTYPE if m.kind == "sym" else tarfile.LNKTYPE
        info.linkname = m.target.replace(ABS, absolute)
    return info, None


def build(members: list[Member], where: Path, absolute: str) -> Path:
    files = {posixpath.normpath(m.name): m.data for m in members if m.kind == "file"}
    manifest = json.dumps({"schema": 1, "revision": "f" * 40, "short": "fffffff", "files": {
        n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d), "mode": "0644"} for n, d in files.items()}}).encode()
    path = where / "a.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        for m in members:
            info, data = tar_info(m, absolute)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    path.with_name("a.tar.gz.json").write_text(json.dumps({"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}))
    return path


class Sandbox:
    """jail/l1/.../lN/release, with bait files and dirs at every level and an absolute target dir."""

    def __init__(self, root: Path, name: str):
        self.jail = root / name
        level = self.jail
        for i in range(DEPTH):
            level.mkdir(parents=True)
            (level / "bait").write_text(f"bait {i}")
            for sub in ("a", "b", "c"):
                (level / sub).mkdir()
                (level / sub / "bait").write_text(f"bait {i}{sub}")
            level = level / f"l{i}"
        self.release = level
        self.release.mkdir()
        (self.jail / "abs").mkdir()
        (self.jail / "abs" / "bait").write_text("abs bait")
        self.before = self.snapshot()

    def snapshot(self) -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        for dirpath, dirnames, filenames in os.walk(self.jail):
            if Path(dirpath) == self.release:
                dirnames[:] = []
                continue
            for name in [*dirnames, *filenames]:
                p = Path(dirpath) / name
                if p == self.release:
                    continue
                st_ = p.lstat()
                content = p.read_bytes() if p.is_file() and not p.is_symlink() else (os.readlink(p) if p.is_symlink() else "")
                found[str(p.relative_to(self.jail))] = (st_.st_mode, st_.st_ino, st_.st_nlink, content)
        return found

    def escaped(self) -> bool:
        if self.snapshot() != self.before:
            return True
        bait_inodes = {v[1] for v in self.before.values()}
        real = os.path.realpath(self.release)
        for dirpath, dirnames, filenames in os.walk(self.release):
            for name in [*dirnames, *filenames]:
                p = os.path.join(dirpath, name)
                if os.path.islink(p):
                    resolved = os.path.realpath(p)
                    if resolved != real and not resolved.startswith(real + os.sep):
                        return True
                elif os.lstat(p).st_ino in bait_inodes:
                    return True
        return False


def python_extract(archive: Path, box: Sandbox) -> bool:
    """Extract member by member in a child chrooted into the sandbox, following every link;
    True when no member failed."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = tar.getmembers()
                os.chroot(box.jail)
                os.chdir("/")
                release, clean = "/" + str(box.release.relative_to(box.jail)), True
                tar.errorlevel = 2
                for member in members:
                    try:
                        kwargs = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
                        tar.extract(member, release, **kwargs)
                    except Exception:  # noqa: BLE001 - the oracle records that the extractor choked
                        clean = False
            code = 0 if clean else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) in (0, 3), "the oracle's extractor crashed"
    return os.WEXITSTATUS(status) == 0


def gnu_extract(archive: Path, box: Sandbox) -> bool:
    result = subprocess.run(["tar", "-xzf", str(archive), "-C", str(box.release), "--no-same-owner"],
                            capture_output=True, timeout=60)
    return result.returncode == 0


def verdict(archive: Path) -> str | None:
    try:
        verify_artifact(archive)
    except ArtifactError as e:
        return str(e)
    return None


CHAIN = [Member("sym", "c1", ".."), Member("sym", "c2", "c1/.."), Member("sym", "esc", "c2/a")]
THROUGH = [Member("sym", "a", "b/.."), Member("sym", "b", ".."), Member("file", "a/x", data=b"x")]
HARD = [Member("sym", "b", ".."), Member("hard", "h", "b/bait")]
INSIDE = [Member("dir", "a"), Member("sym", "b", "a"), Member("file", "b/x", data=b"1"), Member("hard", "c", "b/x")]


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(archives())
@example(CHAIN)
@example(THROUGH)
@example(HARD)
@example(INSIDE)
def test_shipyard_refuses_exactly_the_archives_that_escape(members):
    with tempfile.TemporaryDirectory(prefix="shipyard-oracle-", dir=SCRATCH) as tmp:
        root = Path(tmp)
        py, gnu = Sandbox(root, "py"), Sandbox(root, "gnu")
        (root / "for-py").mkdir()
        (root / "for-gnu").mkdir()
        archive = build(members, root / "for-py", "/abs")  # inside the chroot
        refused = verdict(archive)
        py_clean = python_extract(archive, py)
        gnu_clean = gnu_extract(build(members, root / "for-gnu", str(gnu.jail / "abs")), gnu)
        escaped = py.escaped() or gnu.escaped()
        shown = "\n".join(f"  {m.kind} {m.name} -> {m.target}" for m in members)
        event("escapes" if escaped else "clean, stays inside" if py_clean and gnu_clean else "stays inside, extractor chokes")
        event(f"shipyard {'refuses' if refused else 'accepts'}")
        if escaped:
            assert refused, f"escaping archive accepted:\n{shown}"
            if py_clean and gnu_clean:  # nothing else wrong with it: the refusal must say why
                assert any(w in refused for w in CONTAINMENT_WORDS), f"{shown}\n{refused}"
        elif py_clean and gnu_clean:
            assert refused is None, f"harmless archive refused:\n{shown}\n{refused}"
