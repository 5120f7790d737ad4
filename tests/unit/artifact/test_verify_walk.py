"""verify_artifact resolves members through the archive's own links (chains, hardlinks),
refuses unsafe names and oversized archives, and names the file and key of bad metadata."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile

import pytest

from deploy.artifact.verify import Limits, latest_artifact, verify_artifact
from deploy.errors import ArtifactError, MetadataError
from tests.unit.artifact.test_build_verify import PAYLOAD, file_member, manifest_for, special_member, write_artifact

SYM, HARD = tarfile.SYMTYPE, tarfile.LNKTYPE


def chain(n: int, last: str) -> list:
    """app/c1 -> .., app/c2 -> c1/.., ..., app/esc -> c<n>/<last>"""
    links = [special_member("app/c1", SYM, "..")]
    links += [special_member(f"app/c{i}", SYM, f"c{i - 1}/..") for i in range(2, n + 1)]
    return links + [special_member("app/esc", SYM, f"c{n}/{last}")]


@pytest.mark.parametrize("n", [1, 2, 9])
def test_a_chain_of_links_each_harmless_alone_is_refused(tmp_path, n):
    with pytest.raises(ArtifactError, match="resolves outside the release"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", chain(n, "../outside")))


def test_links_that_stay_inside_are_accepted(tmp_path):
    extra = [special_member("app/c1", SYM, ".."), special_member("app/up", SYM, "c1/app/main.py"),
             special_member("app/loop1", SYM, "loop2"), special_member("app/loop2", SYM, "loop1"),
             special_member("app/dangling", SYM, "nowhere/../main.py")]
    assert verify_artifact(write_artifact(tmp_path / "a.tar.gz", extra))["files"]


def test_a_member_written_through_an_escaping_link_is_refused(tmp_path):
    extra = [special_member("app/c1", SYM, ".."), special_member("app/c2", SYM, "c1/.."),
             file_member("app/c2/x", b"")]
    with pytest.raises(ArtifactError, match="'app/c2/x': lands outside the release"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", extra))


def test_a_member_through_a_link_that_stays_inside_is_accepted(tmp_path):
    files = {"app/main.py": PAYLOAD, "app/here/x.py": b"x"}
    extra = [special_member("app/here", SYM, ".")]
    path = tmp_path / "a.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for info, data in [special_member("app", tarfile.DIRTYPE), *extra, file_member("app/main.py", PAYLOAD),
                           file_member("app/here/x.py", b"x"), file_member("manifest.json", manifest_for(files))]:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    assert set(verify_artifact(path, hashlib.sha256(path.read_bytes()).hexdigest())["files"]) == set(files)


@pytest.mark.parametrize("linkname, reason", [
    ("app/c2/etc/passwd", "leaves the release"),
    ("app/missing.py", "not a file earlier in the archive"),
    ("app", "not a file earlier in the archive"),
])
def test_hardlinks_resolve_through_links_and_must_name_an_earlier_file(tmp_path, linkname, reason):
    extra = [special_member("app/c1", SYM, ".."), special_member("app/c2", SYM, "c1/.."),
             special_member("app/h", HARD, linkname)]
    with pytest.raises(ArtifactError, match=reason):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", extra))


def test_a_hardlink_to_a_symlink_is_checked_where_the_copy_lands(tmp_path):
    # app/s -> ../manifest.json is fine in app/, but a copy of it at the top resolves above the root
    extra = [special_member("app/s", SYM, "../manifest.json"), special_member("h", HARD, "app/s")]
    with pytest.raises(ArtifactError, match="'h' -> '../manifest.json' resolves outside"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", extra))


@pytest.mark.parametrize("name, why", [
    ("app/new\nline.py", "a newline"), ("app/back\\slash.py", "a backslash"),
    ("app/bell\x07.py", "control character U+0007"), ("app/rtl\u202e.py", "control character U+202E"),
    ("app/esc\x1b[2J.py", "control character U+001B"),
])
def test_names_with_control_characters_are_refused(tmp_path, name, why):
    with pytest.raises(ArtifactError, match=re.escape(why)):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", [file_member(name, b"")]))


def test_a_link_target_with_a_newline_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="a newline"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", [special_member("app/l", SYM, "main\n.py")]))


@pytest.mark.parametrize("name", ["release.json", ".deps", "./release.json"])
def test_names_shipyard_writes_are_reserved(tmp_path, name):
    with pytest.raises(ArtifactError, match="reserved"):
        verify_artifact(write_artifact(tmp_path / "a.tar.gz", [special_member(name, SYM, "app/main.py")]))


def test_the_unpacked_size_limit_is_checked_from_the_headers(tmp_path):
    path = write_artifact(tmp_path / "a.tar.gz", files={"app/main.py": PAYLOAD, "app/big": b"\0" * 100_000})
    with pytest.raises(ArtifactError, match="max_unpacked_bytes"):
        verify_artifact(path, limits=Limits(max_unpacked_bytes=50_000))
    assert verify_artifact(path, limits=Limits(max_unpacked_bytes=200_000))


def test_a_decompression_bomb_is_refused_by_its_ratio(tmp_path, monkeypatch):
    monkeypatch.setattr("deploy.artifact.verify.RATIO_FLOOR", 1000)
    path = write_artifact(tmp_path / "a.tar.gz", files={"app/zeros": b"\0" * 2_000_000})
    with pytest.raises(ArtifactError, match="decompression bomb"):
        verify_artifact(path)


def rewrite(path, data: bytes) -> None:
    path.write_bytes(data)
    path.with_name(path.name + ".json").write_text(json.dumps({"sha256": hashlib.sha256(data).hexdigest()}))


def test_trailing_garbage_and_a_bad_crc_are_refused(tmp_path):
    path = write_artifact(tmp_path / "a.tar.gz")
    good = path.read_bytes()
    rewrite(path, good + b"garbage after the gzip stream")
    with pytest.raises(ArtifactError, match="not a readable"):
        verify_artifact(path)
    crc = bytearray(good)
    crc[-8] ^= 0xFF  # the gzip trailer's CRC32
    rewrite(path, bytes(crc))
    with pytest.raises(ArtifactError, match="not a readable"):
        verify_artifact(path)
    raw = bytearray(gzip.decompress(good))
    raw += b"x" * 512
    rewrite(path, gzip.compress(bytes(raw)))
    with pytest.raises(ArtifactError, match="after the end of the tar archive"):
        verify_artifact(path)


def manifest_with(**change) -> bytes:
    data = json.loads(manifest_for({"app/main.py": PAYLOAD}))
    for key, value in change.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize("change, key", [
    ({"short": None}, "short"),
    ({"short": "../../x"}, "short"),
    ({"env_key": "../../../etc"}, "env_key"),
    ({"hooks": {"before_publishing": "echo not a list"}}, "hooks.before_publishing"),
    ({"hooks": {"before_lunch": ["echo"]}}, "hooks.before_lunch"),
    ({"files": {"app/main.py": "not an entry"}}, "files.app/main.py"),
    ({"files": {"app/main.py": {"size": 1}}}, "files.app/main.py.sha256"),
    ({"files": None}, "files"),
    ({"schema": "1"}, "schema"),
])
def test_malformed_manifest_names_the_file_and_key(tmp_path, change, key):
    path = write_artifact(tmp_path / "a.tar.gz", manifest=manifest_with(**change))
    with pytest.raises(MetadataError) as info:
        verify_artifact(path)
    assert info.value.exit_code == 2 and f"manifest.json: {key}:" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("sidecar, key", [({"built_at": "x"}, "sha256"), ({"sha256": 5}, "sha256"), ([], "")])
def test_malformed_sidecar_names_the_file_and_key(tmp_path, sidecar, key):
    path = write_artifact(tmp_path / "a.tar.gz")
    path.with_name(path.name + ".json").write_text(json.dumps(sidecar))
    with pytest.raises(MetadataError, match=f"a.tar.gz.json: {key}" if key else "must be a JSON object") as info:
        verify_artifact(path)
    assert info.value.exit_code == 2


@pytest.mark.parametrize("junk", ['{"built_at": 5, "sha256": "' + "0" * 64 + '"}', "[1, 2]", "{not json", '{"built_at": {}}'])
def test_an_unrelated_malformed_sidecar_in_dist_is_ignored(tmp_path, junk):
    path = write_artifact(tmp_path / "good.tar.gz")
    data = json.loads(path.with_name(path.name + ".json").read_text())
    path.with_name(path.name + ".json").write_text(json.dumps({**data, "built_at": "2026-01-01T00:00:00"}))
    (tmp_path / "other.tar.gz").write_bytes(b"x")
    (tmp_path / "other.tar.gz.json").write_text(junk)
    assert latest_artifact(tmp_path) == path
