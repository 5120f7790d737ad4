"""The streamed POSIX update (deploy/release/receiver.py via PosixHostOps.receive) on this
machine: whole artifact and delta, checked against an independent reading of the tree
(os.walk + hashlib here, not the receiver's own verification), and every way a stream
can be wrong failing with nothing left behind."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from deploy.artifact.manifest import make_manifest
from deploy.artifact.tarball import write_tarball
from deploy.config import HostConfig
from deploy.errors import ArtifactError
from deploy.release.delta import NeedFull, Part, Shipments
from deploy.release.layout import Layout
from deploy.release.posix import PosixHostOps
from deploy.release.upload import ReleaseUpload, send_release
from deploy.transport.local import LocalTransport

SOURCE = {"project": "p", "vcs": "git", "revision": "r" * 40, "short": "rrrrrrr", "describe": "", "dirty": False,
          "commit_time": 1700000000}


def build(tmp: Path, name: str, tree: dict[str, str | bytes], links: dict[str, str] | None = None) -> tuple[Path, str, dict]:
    staging = tmp / f"staging-{name}"
    for rel, body in tree.items():
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body.encode() if isinstance(body, str) else body)
        if rel.endswith(".sh"):
            path.chmod(0o755)
    for rel, target in (links or {}).items():
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, staging / rel)
    manifest = make_manifest(staging, source=SOURCE, requirements_sha256=None, hooks={})
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    artifact = tmp / "dist" / f"{name}.tar.gz"
    artifact.parent.mkdir(exist_ok=True)
    write_tarball(staging, artifact, 1700000000)
    sha = hashlib.sha256(artifact.read_bytes()).hexdigest()
    (artifact.parent / f"{name}.tar.gz.json").write_text(json.dumps({"sha256": sha}))
    return artifact, sha, manifest


@pytest.fixture
def ops(tmp_path):
    o = PosixHostOps(LocalTransport(HostConfig(name="here", transport="local")), Layout(str(tmp_path / "site")), 60)
    o.prepare([], [])
    return o


def upload(rid: str, shipments: Shipments, previous: str | None = None) -> ReleaseUpload:
    return ReleaseUpload(rid, {"revision": "x"}, sys.executable, previous, shipments.full, [], [])


def tree_of(root: str) -> dict[str, tuple]:
    """What an independent reader sees: content hash and mode of files, targets of links."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                out[rel] = ("link", os.readlink(full))
            elif os.path.isfile(full):
                out[rel] = ("file", hashlib.sha256(open(full, "rb").read()).hexdigest(), os.stat(full).st_mode & 0o777)
    return out


def payload(root: str) -> dict[str, tuple]:
    return {k: v for k, v in tree_of(root).items() if k.split("/")[0] in ("app", "static", "wheelhouse")}


BASE = {f"app/pkg{i // 10}/m{i}.py": f"# module {i}\n" * (i + 1) for i in range(40)} | {"app/run.sh": "#!/bin/sh\n"}


def test_whole_artifact_then_delta_links_unchanged_files_and_ships_only_changes(ops, tmp_path):
    a1, sha1, m1 = build(tmp_path, "v1", BASE, {"app/latest": "pkg0/m1.py"})
    s1 = Shipments(a1, sha1, m1)
    commands = ops.transport.commands
    first = send_release(ops, s1, upload("20260101-000001-aaaaaaa", s1), "")
    assert ops.transport.commands - commands == 1  # stream, unpack, verify, index, rename: one remote command
    assert first["written"] == len(m1["files"]) and first["linked"] == 0
    rel1 = ops.layout.release("20260101-000001-aaaaaaa")
    assert payload(rel1) == payload(str(tmp_path / "staging-v1"))
    assert oct(os.stat(f"{rel1}/release.json").st_mode & 0o777) == "0o600"

    changed = dict(BASE, **{"app/pkg1/m12.py": "changed\n", "app/new.txt": "new\n"})
    del changed["app/pkg3/m30.py"]
    a2, sha2, m2 = build(tmp_path, "v2", changed, {"app/latest": "pkg0/m2.py"})
    s2 = Shipments(a2, sha2, m2)
    before = tree_of(rel1)
    commands = ops.transport.commands
    second = send_release(ops, s2, upload("20260101-000002-bbbbbbb", s2, "20260101-000001-aaaaaaa"), sha1)
    assert ops.transport.commands - commands == 1  # the delta too (the previous manifest came from dist/)
    rel2 = ops.layout.release("20260101-000002-bbbbbbb")
    assert payload(rel2) == payload(str(tmp_path / "staging-v2"))
    assert tree_of(rel1) == before  # nothing written through the links
    assert second["written"] == 2 and second["linked"] == len(m2["files"]) - 2
    assert second["hashed_to_link"] == 0  # the stat index vouched for every linked file
    assert os.stat(f"{rel2}/app/pkg0/m5.py").st_ino == os.stat(f"{rel1}/app/pkg0/m5.py").st_ino
    assert second["sent"] < a2.stat().st_size / 2



def test_an_artifact_without_wheels_gets_its_env_in_the_receiving_command(ops, tmp_path):
    """No requirements: the empty env and the .deps link come with the stream (what `install`
    did in a command of its own), a redeploy links the same env, and it is still one command."""
    a1, sha1, m1 = build(tmp_path, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    env = Path(ops.layout.dependency_env("e" * 64))
    for rid in ("20260101-000001-aaaaaaa", "20260101-000002-bbbbbbb"):
        commands = ops.transport.commands
        send_release(ops, s1, replace(upload(rid, s1), install=("e" * 64, "requirements.txt")), "")
        assert ops.transport.commands - commands == 1
        assert os.readlink(f"{ops.layout.release(rid)}/.deps") == str(env)
    assert sorted(os.listdir(env)) == [".complete"] and not os.path.exists(f"{env}.tmp")

def test_a_previous_file_changed_in_place_is_not_linked(ops, tmp_path):
    a1, sha1, m1 = build(tmp_path, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    send_release(ops, s1, upload("20260101-000001-aaaaaaa", s1), "")
    victim = Path(ops.layout.release("20260101-000001-aaaaaaa")) / "app/pkg0/m3.py"
    victim.write_text(victim.read_text().upper())  # same size, new content and mtime
    a2, sha2, m2 = build(tmp_path, "v2", dict(BASE, **{"app/x.txt": "x"}))
    s2 = Shipments(a2, sha2, m2)
    answer = send_release(ops, s2, upload("20260101-000002-bbbbbbb", s2, "20260101-000001-aaaaaaa"), sha1)
    assert answer["written"] == len(m2["files"])  # the delta could not be used: the whole artifact went
    assert payload(ops.layout.release("20260101-000002-bbbbbbb")) == payload(str(tmp_path / "staging-v2"))


def test_files_behind_a_symlinked_dir_of_the_previous_release_are_never_linked(ops, tmp_path):
    a1, sha1, m1 = build(tmp_path, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    send_release(ops, s1, upload("20260101-000001-aaaaaaa", s1), "")
    rel1 = Path(ops.layout.release("20260101-000001-aaaaaaa"))
    outside = tmp_path / "outside"
    (rel1 / "app/pkg2").rename(outside)
    (rel1 / "app/pkg2").symlink_to(outside)
    a2, sha2, m2 = build(tmp_path, "v2", dict(BASE, **{"app/x.txt": "x"}))
    s2 = Shipments(a2, sha2, m2)
    send_release(ops, s2, upload("20260101-000002-bbbbbbb", s2, "20260101-000001-aaaaaaa"), sha1)
    rel2 = ops.layout.release("20260101-000002-bbbbbbb")
    assert os.stat(f"{rel2}/app/pkg2/m20.py").st_ino != os.stat(outside / "m20.py").st_ino


def corrupt_crc(data: bytes) -> bytes:
    raw = bytearray(data)
    raw[-6] ^= 0xFF
    return bytes(raw)


def with_member(data: bytes, info: tarfile.TarInfo, body: bytes | None = None) -> bytes:
    """The artifact rewritten with one more member appended."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as src, tarfile.open(fileobj=buf, mode="w:gz") as out:
        for m in src:
            out.addfile(m, src.extractfile(m) if m.isreg() else None)
        out.addfile(info, io.BytesIO(body) if body is not None else None)
    return buf.getvalue()


def hardlink_to_missing(data: bytes) -> bytes:
    link = tarfile.TarInfo("app/evil")
    link.type, link.linkname = tarfile.LNKTYPE, "app/nothing-here"
    return with_member(data, link)


def extra_member(data: bytes) -> bytes:
    extra = tarfile.TarInfo("app/unlisted.py")
    extra.size = 3
    return with_member(data, extra, b"x=1")


@pytest.mark.parametrize("mangle, says", [
    (corrupt_crc, "not one whole gzip stream: .*incorrect data check"),
    (lambda d: d + b"trailing garbage", "not one whole gzip stream: data after the end"),
    (lambda d: d[:-4], "not one whole gzip stream: it ends before its gzip trailer"),
    (hardlink_to_missing, "tar exited"),
    (extra_member, "not in the manifest"),
])
def test_a_bad_stream_fails_and_leaves_nothing(ops, tmp_path, mangle, says):
    a1, sha1, m1 = build(tmp_path, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    bad = mangle(a1.read_bytes())
    part = Part("release", hashlib.sha256(bad).hexdigest(), len(bad), data=bad)
    with pytest.raises(ArtifactError, match=says):
        ops.receive(replace(upload("20260101-000001-aaaaaaa", s1), shipment=replace(s1.full, part=part)))
    assert os.listdir(ops.layout.releases) == []


@pytest.mark.parametrize("mangle, says", [
    (corrupt_crc, "not one whole gzip stream: .*incorrect data check"),
    (lambda d: d + b"trailing garbage", "not one whole gzip stream: data after the end"),
    (lambda d: d[:-4], "not one whole gzip stream: it ends before its gzip trailer"),
    (hardlink_to_missing, "tar exited"),
])
def test_a_bad_delta_stream_fails_and_leaves_the_previous_release_alone(ops, tmp_path, mangle, says):
    a1, sha1, m1 = build(tmp_path, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    send_release(ops, s1, upload("20260101-000001-aaaaaaa", s1), "")
    before = tree_of(ops.layout.release("20260101-000001-aaaaaaa"))
    a2, sha2, m2 = build(tmp_path, "v2", dict(BASE, **{"app/x.txt": "x"}))
    s2 = Shipments(a2, sha2, m2)
    delta = s2.for_previous(sha1, lambda: {})
    bad = mangle(delta.part.data)
    part = Part("release", hashlib.sha256(bad).hexdigest(), len(bad), data=bad)
    with pytest.raises(ArtifactError, match=says):
        ops.receive(replace(upload("20260101-000002-bbbbbbb", s2, "20260101-000001-aaaaaaa"),
                            shipment=replace(delta, part=part)))
    assert os.listdir(ops.layout.releases) == ["20260101-000001-aaaaaaa"]
    assert tree_of(ops.layout.release("20260101-000001-aaaaaaa")) == before


def same_size_other_content(data: bytes) -> bytes:
    """The artifact rewritten with one file's bytes changed, its size and the manifest kept."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as src, tarfile.open(fileobj=buf, mode="w:gz") as out:
        for m in src:
            body = src.extractfile(m).read() if m.isreg() else None
            if m.name.endswith("app/pkg0/m3.py"):
                body = body.upper()
            out.addfile(m, io.BytesIO(body) if body is not None else None)
    return buf.getvalue()


def test_a_part_the_controller_did_not_verify_is_hashed_file_by_file(ops, tmp_path):
    """Only the verified artifact's own bytes skip the per-file sha256 (its stream's sha256 proves
    them, as do those of the artifact less its wheelhouse once deploy.artifact.verify.check_part
    vouched for it); any other part with a file that is not the manifest's is refused, even with
    the right size and a stream sha256 of its own."""
    a1, sha1, m1 = build(tmp_path, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    assert s1.full.part.verified and s1.full.part.sha256 == sha1
    bad = same_size_other_content(a1.read_bytes())
    part = Part("release", hashlib.sha256(bad).hexdigest(), len(bad), data=bad)
    with pytest.raises(ArtifactError, match="app/pkg0/m3.py: content differs"):
        ops.receive(replace(upload("20260101-000001-aaaaaaa", s1), shipment=replace(s1.full, part=part)))
    forged = replace(part, verified=True, sha256=sha1)  # claims to be the verified artifact: its sha256 says no
    with pytest.raises(ArtifactError, match="sha256"):
        ops.receive(replace(upload("20260101-000001-aaaaaaa", s1), shipment=replace(s1.full, part=forged)))
    assert os.listdir(ops.layout.releases) == []


def test_the_manifest_text_and_delta_are_the_archives_own_verified_or_not(tmp_path, monkeypatch):
    """What the controller takes from its verification of the artifact (manifest text, member
    headers) against tarfile's own reading: the manifest member's bytes, and a delta whose tar
    is byte for byte the one a fresh pass over the archive builds; none of it once the file changed."""
    from deploy.artifact.verify import verified, verify_artifact
    from deploy.release.delta import build_delta, read_manifest_text

    monkeypatch.setitem(SOURCE, "revision", "ab" * 20)
    monkeypatch.setitem(SOURCE, "short", "ababab1")  # what verify_artifact accepts
    a1, sha1, m1 = build(tmp_path, "v1", BASE, {"app/latest": "pkg0/m1.py"})
    a2, _, _ = build(tmp_path, "v2", dict(BASE, **{"app/x.txt": "x"}))
    oracle = {a: tarfile.open(a).extractfile("manifest.json").read() for a in (a1, a2)}
    ship = {"app/pkg1/m12.py", "app/pkg3/m33.py", "app/run.sh"}
    fresh = gzip.decompress(build_delta(a1, m1, ship))
    verify_artifact(a1, sha1)
    assert verified(a1).manifest_bytes == oracle[a1] and verified(a2) is None
    assert read_manifest_text(a1) == oracle[a1] and read_manifest_text(a2) == oracle[a2]
    assert gzip.decompress(build_delta(a1, m1, ship)) == fresh
    with tarfile.open(fileobj=io.BytesIO(fresh)) as delta:
        assert {m.name for m in delta if m.isreg()} == ship
    os.utime(a1, ns=(1, 1))  # changed since it was verified: not vouched for any more
    assert verified(a1) is None and read_manifest_text(a1) == oracle[a1]


def test_a_stream_that_ends_early_or_differs_from_its_sha256_fails(ops, tmp_path):
    a1, sha1, m1 = build(tmp_path, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    data = a1.read_bytes()
    short = Part("release", sha1, len(data) + 100, data=data)  # the connection "drops" 100 bytes early
    with pytest.raises(ArtifactError, match="ended 100 bytes early"):
        ops.receive(replace(upload("20260101-000001-aaaaaaa", s1), shipment=replace(s1.full, part=short)))
    wrong = Part("release", "0" * 64, len(data), data=data)
    with pytest.raises(ArtifactError, match="sha256"):
        ops.receive(replace(upload("20260101-000001-aaaaaaa", s1), shipment=replace(s1.full, part=wrong)))
    assert os.listdir(ops.layout.releases) == []


def test_a_patch_the_host_cannot_reproduce_asks_for_the_whole_artifact(ops, tmp_path):
    a1, sha1, m1 = build(tmp_path, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    send_release(ops, s1, upload("20260101-000001-aaaaaaa", s1), "")
    (Path(ops.layout.release("20260101-000001-aaaaaaa")) / "manifest.json").write_text('{"files": {}}')
    a2, sha2, m2 = build(tmp_path, "v2", dict(BASE, **{"app/x.txt": "x"}))
    s2 = Shipments(a2, sha2, m2)
    delta = s2.for_previous(sha1, lambda: {})
    with pytest.raises(NeedFull):
        ops.receive(replace(upload("20260101-000002-bbbbbbb", s2, "20260101-000001-aaaaaaa"), shipment=delta))


names = st.text(alphabet="abcde", min_size=1, max_size=3)
trees = st.dictionaries(st.tuples(names, names).map(lambda p: f"app/{p[0]}/{p[1]}.py"),
                        st.binary(max_size=64), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old=trees, new=trees, keep=st.booleans())
def test_delta_result_equals_a_whole_unpack_for_any_change(tmp_path_factory, old, new, keep):
    tmp = tmp_path_factory.mktemp("prop")
    ops = PosixHostOps(LocalTransport(HostConfig(name="here", transport="local")), Layout(str(tmp / "site")), 60)
    ops.prepare([], [])
    new = {**old, **new} if keep else new
    a1, sha1, m1 = build(tmp, "v1", old)
    s1 = Shipments(a1, sha1, m1)
    send_release(ops, s1, upload("20260101-000001-aaaaaaa", s1), "")
    before = tree_of(ops.layout.release("20260101-000001-aaaaaaa"))
    a2, sha2, m2 = build(tmp, "v2", new)
    s2 = Shipments(a2, sha2, m2)
    send_release(ops, s2, upload("20260101-000002-bbbbbbb", s2, "20260101-000001-aaaaaaa"), sha1)
    assert payload(ops.layout.release("20260101-000002-bbbbbbb")) == payload(str(tmp / "staging-v2"))
    assert tree_of(ops.layout.release("20260101-000001-aaaaaaa")) == before


PYC = f"lib/__pycache__/__init__.{sys.implementation.cache_tag}.pyc"


def make_bundle(tmp: Path) -> tuple[Path, str, str]:
    """A bundle as the build makes it: a tree compiled by compile_tree, its .pyc in its deps manifest."""
    from deploy.artifact.bundle import bytecode_tag, compile_tree, deps_manifest, write_bundle

    tree = tmp / "tree"
    (tree / "lib").mkdir(parents=True)
    (tree / "lib" / "__init__.py").write_text("VERSION = 1\n")
    compile_tree(tree)
    text = deps_manifest(tree, "k" * 64, "test-platform", "e" * 64, bytecode_tag())
    assert PYC in json.loads(text)["files"]
    bundle = tmp / "dist" / "deps" / "k.tar.gz"
    write_bundle(tree, text, bundle)
    return bundle, hashlib.sha256(bundle.read_bytes()).hexdigest(), hashlib.sha256(text.encode()).hexdigest()


def test_the_dependency_env_is_unpacked_once_shared_and_refused_when_it_no_longer_matches(ops, tmp_path):
    from deploy.release.upload import DepsUpload

    bundle, sha, manifest_sha = make_bundle(tmp_path)
    a1, sha1, m1 = build(tmp_path, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    with_bundle = DepsUpload("k" * 64, manifest_sha, Part("deps", sha, bundle.stat().st_size, path=bundle))
    first = send_release(ops, s1, replace(upload("20260101-000001-aaaaaaa", s1), deps=with_bundle), "")
    env = Path(ops.layout.dependency_env("k" * 64))
    assert first["deps"] == "unpacked" and (env / "lib" / "__init__.py").read_text() == "VERSION = 1\n"
    assert os.readlink(f"{ops.layout.release('20260101-000001-aaaaaaa')}/.deps") == str(env)

    shared = DepsUpload("k" * 64, manifest_sha, None)
    optimized = env / PYC.replace(".pyc", ".opt-1.pyc")  # what `python -O` would write beside ours: accepted
    optimized.write_bytes(b"bytecode")
    second = send_release(ops, s1, replace(upload("20260101-000002-bbbbbbb", s1), deps=shared), "")
    assert second["deps"] == "shared" and second["sent"] == a1.stat().st_size  # nothing sent for dependencies

    (env / "lib" / "extra.py").write_text("planted = True\n")
    with pytest.raises(ArtifactError, match="not in the manifest; remove it"):
        send_release(ops, s1, replace(upload("20260101-000003-ccccccc", s1), deps=shared), "")
    (env / "lib" / "extra.py").unlink()
    (env / "lib" / "__init__.py").write_text("VERSION = 2\n")  # same size, new content: the index notices
    with pytest.raises(ArtifactError, match="changed since it was verified"):
        send_release(ops, s1, replace(upload("20260101-000003-ccccccc", s1), deps=shared), "")
    (env / "lib" / "__init__.py").write_text("VERSION = 1\n")
    with pytest.raises(ArtifactError, match="changed since it was verified"):  # rewritten: not the verified file
        send_release(ops, s1, replace(upload("20260101-000003-ccccccc", s1), deps=shared), "")
    wrong = DepsUpload("k" * 64, "0" * 64, None)
    with pytest.raises(ArtifactError, match="does not match its key"):
        send_release(ops, s1, replace(upload("20260101-000003-ccccccc", s1), deps=wrong), "")
    assert not os.path.exists(ops.layout.release("20260101-000003-ccccccc"))


def flip_last_byte(path: Path) -> None:
    """Same size, other content, written in place (same inode): what a tampered .pyc looks like."""
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    with open(path, "r+b") as f:
        f.write(data)


@pytest.mark.parametrize("tamper, says", [
    (lambda env: flip_last_byte(env / PYC), "__init__.*changed since it was verified"),
    (lambda env: (env / PYC).write_bytes((env / PYC).read_bytes() + b"\0"), "__init__.*size"),
    (lambda env: (env / PYC).unlink(), "__init__.*not unpacked"),
    (lambda env: (env / PYC.replace("__init__", "planted")).write_bytes(b"bytecode"), "planted.*not in the manifest"),
])
def test_a_tampered_pyc_in_a_shared_env_is_refused(ops, tmp_path, tamper, says):
    """The env's bytecode is loaded without a look at its source (unchecked-hash .pyc), so it is
    held to its manifest like any other file: rewritten, resized, removed or planted, it is refused."""
    from deploy.release.upload import DepsUpload

    bundle, sha, manifest_sha = make_bundle(tmp_path)
    a1, sha1, m1 = build(tmp_path, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    first = DepsUpload("k" * 64, manifest_sha, Part("deps", sha, bundle.stat().st_size, path=bundle))
    send_release(ops, s1, replace(upload("20260101-000001-aaaaaaa", s1), deps=first), "")
    tamper(Path(ops.layout.dependency_env("k" * 64)))
    with pytest.raises(ArtifactError, match=says):
        send_release(ops, s1, replace(upload("20260101-000002-bbbbbbb", s1), deps=DepsUpload("k" * 64, manifest_sha, None)), "")
    assert not os.path.exists(ops.layout.release("20260101-000002-bbbbbbb"))


@pytest.mark.parametrize("tamper, says", [
    (lambda root: (root / "lib" / "__init__.py").write_text("VERSION = 10\n"), "size"),
    (lambda root: (root / PYC).write_bytes((root / PYC).read_bytes() + b"\0"), "__init__.*size"),
    (lambda root: (root / PYC).unlink(), "__init__.*not unpacked"),
    (lambda root: (root / PYC.replace("__init__", "planted")).write_bytes(b"bytecode"), "planted.*not in the manifest"),
    (lambda root: (root / "lib" / "__init__.py").chmod(0o755), "mode"),
    (lambda root: (root / "lib" / "planted.py").write_text("x = 1\n"), "not in the manifest"),
    (lambda root: (root / "lib" / "__init__.py").unlink(), "not unpacked"),
])
def test_a_bundle_whose_tree_is_not_its_deps_manifest_is_refused(ops, tmp_path, tamper, says):
    """The fresh env is checked by sizes, modes and shape (its bytes are vouched for by the stream's
    sha256): a bundle whose tree differs from the deps manifest it carries never becomes the env."""
    from deploy.artifact.bundle import DEPS_MANIFEST
    from deploy.release.upload import DepsUpload

    good, _sha, manifest_sha = make_bundle(tmp_path)
    root = tmp_path / "bad-root"
    with tarfile.open(good) as tar:
        tar.extractall(root)  # our own bundle (no filter=: Debian 12 has Python 3.11.2)
    text = (root / DEPS_MANIFEST).read_text()
    tamper(root)
    bad = tmp_path / "bad.tar.gz"
    write_tarball(root, bad, 315532800)
    assert (root / DEPS_MANIFEST).read_text() == text  # the key's manifest is still the one the artifact names
    a1, sha1, m1 = build(tmp_path, "v1", BASE)
    s1 = Shipments(a1, sha1, m1)
    deps = DepsUpload("k" * 64, manifest_sha,
                      Part("deps", hashlib.sha256(bad.read_bytes()).hexdigest(), bad.stat().st_size, path=bad))
    with pytest.raises(ArtifactError, match=says):
        send_release(ops, s1, replace(upload("20260101-000001-aaaaaaa", s1), deps=deps), "")
    assert not os.path.exists(ops.layout.dependency_env("k" * 64))
    assert not os.path.exists(ops.layout.dependency_env("k" * 64) + ".tmp")
    assert not os.path.exists(ops.layout.release("20260101-000001-aaaaaaa"))


def test_a_linked_file_is_judged_by_its_own_stat_once_it_is_no_longer_the_inode_linked(tmp_path):
    """verify_tree takes the lstat vouched for before linking only while the listing still shows
    that very inode as a regular file: a file swapped in between is stat'ed and judged itself.
    (The old inode is kept alive so the new file cannot reuse its number: a writer racing the
    receiver inside its own staging dir is not what this check is for, see docs/linux-farm.md.)"""
    from deploy.release.tree_check import Refused, verify_tree

    stage, other = tmp_path / "stage", tmp_path / "other"
    stage.mkdir()
    (stage / "a.py").write_text("right\n")
    other.write_text("right\n")
    meta = {"a.py": {"size": 6, "mode": "0644", "sha256": hashlib.sha256(b"right\n").hexdigest()}}
    os.chmod(stage / "a.py", 0o644)
    vouched_for = os.lstat(stage / "a.py")
    assert verify_tree(str(stage), {"files": meta}, set(), extra=(), linked={"a.py": vouched_for})["a.py"][2] == vouched_for.st_ino
    os.link(stage / "a.py", tmp_path / "kept")
    (stage / "a.py").unlink()
    (stage / "a.py").write_text("wrong size\n")  # a new inode where the link was
    with pytest.raises(Refused, match="a.py: size 11"):
        verify_tree(str(stage), {"files": meta}, set(), extra=(), linked={"a.py": vouched_for})
