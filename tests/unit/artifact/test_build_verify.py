"""verify_artifact against crafted tarballs: every unsafe member kind, sha256 and manifest checks."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from deploy.artifact.verify import verify_artifact
from deploy.errors import ArtifactError

PAYLOAD = b"print('hello')\n"


def file_member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special_member(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, None


def manifest_for(files: dict[str, bytes]) -> bytes:
    table = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d), "mode": "0644"} for n, d in files.items()}
    return json.dumps({"schema": 1, "revision": "r" * 40, "short": "0123abc", "files": table}).encode()


def write_artifact(path: Path, extra: list = (), files: dict[str, bytes] | None = None, manifest: bytes | None = None, sidecar: bool = True) -> Path:
    """A tar.gz with app/main.py, its manifest, any `extra` members, and a sidecar with its sha256."""
    files = {"app/main.py": PAYLOAD} if files is None else files
    members = [special_member("app", tarfile.DIRTYPE)] + [file_member(n, d) for n, d in files.items()]
    members.append(file_member("manifest.json", manifest if manifest is not None else manifest_for(files)))
    with tarfile.open(path, "w:gz") as tar:
        for info, data in [*members, *extra]:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    if sidecar:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        path.with_name(path.name + ".json").write_text(json.dumps({"artifact": path.name, "sha256": sha}))
    return path


def test_a_clean_artifact_returns_its_manifest(tmp_path):
    manifest = verify_artifact(write_artifact(tmp_path / "ok.tar.gz"))
    assert manifest["files"]["app/main.py"]["size"] == len(PAYLOAD)


def test_a_symlink_inside_the_archive_is_fine(tmp_path):
    path = write_artifact(tmp_path / "ok.tar.gz", [special_member("app/link.py", tarfile.SYMTYPE, "main.py")])
    assert verify_artifact(path)["revision"] == "r" * 40


@pytest.mark.parametrize(
    "member, reason",
    [
        (file_member("../evil.py", b"x"), "outside the release"),
        (file_member("app/../../evil.py", b"x"), "outside the release"),
        (file_member("/etc/cron.d/evil", b"x"), "absolute path"),
        (special_member("app/up", tarfile.SYMTYPE, "../../outside"), "symlink"),
        (special_member("app/abs", tarfile.SYMTYPE, "/etc/passwd"), "symlink"),
        (special_member("app/hard", tarfile.LNKTYPE, "../etc/passwd"), "hardlink"),
        (special_member("app/hard-abs", tarfile.LNKTYPE, "/etc/shadow"), "hardlink"),
        (special_member("app/null", tarfile.CHRTYPE), "device"),
        (special_member("app/disk", tarfile.BLKTYPE), "device"),
        (special_member("app/pipe", tarfile.FIFOTYPE), "fifo"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink-up", "symlink-abs", "hardlink-up", "hardlink-abs", "chr", "blk", "fifo"],
)
def test_unsafe_members_are_refused(tmp_path, member, reason):
    path = write_artifact(tmp_path / "bad.tar.gz", [member])
    with pytest.raises(ArtifactError, match=reason):
        verify_artifact(path)


def test_a_member_under_a_symlinked_directory_is_refused(tmp_path):
    # app/here -> . passes the lexical check, but app/here/x -> ../../y lands at app/x -> ../../y: outside
    extra = [special_member("app/here", tarfile.SYMTYPE, "."), special_member("app/here/x", tarfile.SYMTYPE, "../../y")]
    with pytest.raises(ArtifactError, match="symlink 'app/x' -> '../../y' resolves outside the release"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", extra))


def test_a_symlink_replacing_a_directory_after_its_members_is_refused(tmp_path):
    extra = [file_member("app/d/x.py", b""), special_member("app/d", tarfile.SYMTYPE, ".")]
    with pytest.raises(ArtifactError, match="would replace a directory that holds other members"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", extra))


def test_sha256_mismatch_against_the_sidecar(tmp_path):
    path = write_artifact(tmp_path / "a.tar.gz")
    path.with_name(path.name + ".json").write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(ArtifactError, match="sidecar says 0000"):
        verify_artifact(path)


def test_sha256_mismatch_against_the_expected_value(tmp_path):
    path = write_artifact(tmp_path / "a.tar.gz", sidecar=False)
    with pytest.raises(ArtifactError, match="expected says"):
        verify_artifact(path, expected_sha256="f" * 64)
    assert verify_artifact(path, hashlib.sha256(path.read_bytes()).hexdigest())["files"]


def test_nothing_to_check_against_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="no sidecar and no expected"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", sidecar=False))


def test_a_file_that_differs_from_its_manifest_entry(tmp_path):
    manifest = manifest_for({"app/main.py": b"something else"})
    with pytest.raises(ArtifactError, match="app/main.py does not match"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", manifest=manifest))


def test_a_file_missing_from_the_manifest(tmp_path):
    extra = [file_member("app/smuggled.py", b"import os")]
    with pytest.raises(ArtifactError, match="smuggled.py is in the archive but not in the manifest"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", extra))


def test_a_manifest_entry_missing_from_the_archive(tmp_path):
    manifest = manifest_for({"app/main.py": PAYLOAD, "app/gone.py": b""})
    with pytest.raises(ArtifactError, match="gone.py is in the manifest but not in the archive"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", manifest=manifest))


def test_a_duplicate_member_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="duplicate member app/main.py"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", [file_member("app/main.py", b"evil")]))


def test_no_manifest_is_refused(tmp_path):
    path = tmp_path / "a.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.addfile(*file_member("app/main.py", PAYLOAD)[:1], io.BytesIO(PAYLOAD))
    with pytest.raises(ArtifactError, match="no manifest.json"):
        verify_artifact(path, hashlib.sha256(path.read_bytes()).hexdigest())


def test_not_a_tarball_is_an_artifact_error(tmp_path):
    path = tmp_path / "junk.tar.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(ArtifactError, match="not a readable"):
        verify_artifact(path, hashlib.sha256(path.read_bytes()).hexdigest())
