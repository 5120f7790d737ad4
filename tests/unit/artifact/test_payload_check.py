"""check_part: the artifact less its wheelhouse is accepted exactly when it is that: its files
the manifest's outside wheelhouse/ (by sha256 and size), its manifest.json the artifact's very
bytes, every member safe. Archives and manifests are written here with tarfile and hashlib, not
with Shipyard's builder; only an accepted part may travel marked verified (Shipments.whole)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from deploy.artifact.verify import check_part
from deploy.errors import ArtifactError
from deploy.release.delta import OMIT, Shipments

OK = "none"
MUTATIONS = [OK, "flip a byte", "extra file", "drop a file", "keep a wheel", "other manifest bytes",
             "escaping symlink", "wrong sha256"]

names = st.text("abcdefgh", min_size=1, max_size=6)
trees = st.dictionaries(st.tuples(names, names).map("/".join).map(lambda p: f"app/{p}.py"),
                        st.binary(min_size=1, max_size=64), min_size=1, max_size=8)


def manifest_bytes(files: dict[str, bytes]) -> bytes:
    listed = {p: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b), "mode": "0644"} for p, b in files.items()}
    return (json.dumps({"files": listed}, indent=2, sort_keys=True) + "\n").encode()


def tar_gz(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> str:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    path.write_bytes(buf.getvalue())
    return hashlib.sha256(buf.getvalue()).hexdigest()


def payload(tmp: Path, tree: dict[str, bytes], mutation: str) -> tuple[Path, str, bytes]:
    """(the part, the sha256 it is sent with, the artifact's manifest bytes) after `mutation`."""
    files = {**tree, "wheelhouse/pkg-1.0-py3-none-any.whl": b"PK wheel"}
    manifest = manifest_bytes(files)
    members, links = {**tree, "manifest.json": manifest}, {}
    victim = sorted(tree)[0]
    if mutation == "flip a byte":
        members[victim] = bytes([members[victim][0] ^ 1]) + members[victim][1:]
    elif mutation == "extra file":
        members["app/stray.py"] = b"x = 1\n"
    elif mutation == "drop a file":
        del members[victim]
    elif mutation == "keep a wheel":
        members["wheelhouse/pkg-1.0-py3-none-any.whl"] = b"PK wheel"
    elif mutation == "other manifest bytes":
        members["manifest.json"] = manifest.replace(b"\n", b"\r\n")
    elif mutation == "escaping symlink":
        links["app/out"] = "../../etc"
    path = tmp / "payload.tar.gz"
    sha = tar_gz(path, members, links)
    return path, ("0" * 64 if mutation == "wrong sha256" else sha), manifest


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees, mutation=st.sampled_from(MUTATIONS))
def test_a_part_is_accepted_exactly_when_it_is_the_artifact_less_its_wheelhouse(tmp_path, tree, mutation):
    path, sha, manifest = payload(tmp_path, tree, mutation)
    if mutation == OK:
        check_part(path, sha, manifest, OMIT)
    else:
        with pytest.raises(ArtifactError):
            check_part(path, sha, manifest, OMIT)


def shipments(tmp: Path, mutation: str, calls: list[Path]) -> Shipments:
    """Shipments of an artifact (the tree with its wheelhouse) whose payload underwent `mutation`."""
    tree = {"app/a.py": b"a = 1\n", "app/b/c.py": b"c = 2\n"}
    part, sha, manifest = payload(tmp, tree, mutation)
    artifact = tmp / "site.tar.gz"
    artifact_sha = tar_gz(artifact, {**tree, "wheelhouse/pkg-1.0-py3-none-any.whl": b"PK wheel", "manifest.json": manifest})

    def check(*args):
        calls.append(args[0])
        check_part(*args)

    info = {"file": part.name, "sha256": sha, "size": part.stat().st_size}
    return Shipments(artifact, artifact_sha, json.loads(manifest), info, check)


def test_the_payload_travels_verified_only_once_checked_and_is_checked_once(tmp_path):
    calls: list[Path] = []
    ship = shipments(tmp_path, OK, calls)
    assert not ship.whole(False).omit and calls == []  # the whole artifact needs no check of the payload
    first, again = ship.whole(True), ship.whole(True)
    assert first.part.verified and again is first and first.omit == OMIT
    assert calls == [tmp_path / "payload.tar.gz"]


def test_a_payload_that_fails_its_check_never_travels(tmp_path):
    ship = shipments(tmp_path, "flip a byte", [])
    for _ in range(2):  # still refused when the next host asks
        with pytest.raises(ArtifactError, match="does not match its manifest entry"):
            ship.whole(True)
    assert not ship.payload.part.verified
