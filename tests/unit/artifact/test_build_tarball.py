"""The reproducible tarball and the manifest's file table, from directories on disk."""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
from pathlib import Path

from deploy.artifact.manifest import env_key, file_entries
from deploy.artifact.tarball import normal_mode, write_tarball

MTIME = 1_700_000_000


def make_tree(root: Path, file_mtime: int, mode: int) -> Path:
    (root / "app" / "pkg").mkdir(parents=True)
    (root / "static").mkdir()
    (root / "wheelhouse").mkdir()
    (root / "app" / "manage.py").write_text("#!/usr/bin/env python\n")
    (root / "app" / "pkg" / "mod.py").write_text("X = 1\n")
    (root / "static" / "site.css").write_text("body {}\n")
    (root / "wheelhouse" / "a-1.0-py3-none-any.whl").write_bytes(b"wheel bytes")
    (root / "manifest.json").write_text("{}\n")
    os.symlink("mod.py", root / "app" / "pkg" / "alias.py")
    os.chmod(root / "app" / "manage.py", 0o700)
    os.chmod(root / "app" / "pkg" / "mod.py", mode)
    for path in root.rglob("*"):
        os.utime(path, (file_mtime, file_mtime), follow_symlinks=False)
    return root


def test_same_tree_different_mtimes_and_modes_gives_identical_bytes(tmp_path):
    one = make_tree(tmp_path / "one", 1_000, 0o600)
    two = make_tree(tmp_path / "two", 2_000_000_000, 0o664)
    write_tarball(one, tmp_path / "one.tar.gz", MTIME)
    write_tarball(two, tmp_path / "two.tar.gz", MTIME)
    assert (tmp_path / "one.tar.gz").read_bytes() == (tmp_path / "two.tar.gz").read_bytes()


def test_members_are_sorted_normalised_and_dated_by_the_commit(tmp_path):
    write_tarball(make_tree(tmp_path / "t", 5, 0o640), tmp_path / "t.tar.gz", MTIME)
    with tarfile.open(tmp_path / "t.tar.gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        names = tar.getnames()
    assert names == sorted(names)
    assert {"app", "app/pkg", "static", "wheelhouse"} <= set(names)  # directories included
    assert all(m.mtime == MTIME and (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", "") for m in members.values())
    assert members["app/manage.py"].mode == 0o755 and members["app/pkg/mod.py"].mode == 0o644
    assert members["app"].mode == 0o755
    assert members["app/pkg/alias.py"].issym() and members["app/pkg/alias.py"].linkname == "mod.py"


def test_gzip_header_has_no_time_and_no_name(tmp_path):
    write_tarball(make_tree(tmp_path / "t", 5, 0o644), tmp_path / "t.tar.gz", MTIME)
    header = (tmp_path / "t.tar.gz").read_bytes()[:10]
    assert header[:2] == b"\x1f\x8b"
    assert header[4:8] == b"\0\0\0\0"  # MTIME
    assert header[3] & 0x08 == 0  # FNAME flag
    assert gzip.decompress((tmp_path / "t.tar.gz").read_bytes())[:3] == b"app"


def test_normal_mode_keeps_only_the_executable_bit():
    assert normal_mode(0o100700) == 0o755
    assert normal_mode(0o100666) == 0o644
    assert normal_mode(0o104755) == 0o755  # setuid dropped
    assert normal_mode(0o040700) == 0o755


def test_file_entries_hash_every_regular_payload_file(tmp_path):
    root = make_tree(tmp_path / "t", 5, 0o644)
    files = file_entries(root)
    assert set(files) == {"app/manage.py", "app/pkg/mod.py", "static/site.css", "wheelhouse/a-1.0-py3-none-any.whl"}
    assert files["app/pkg/mod.py"] == {"sha256": hashlib.sha256(b"X = 1\n").hexdigest(), "size": 6, "mode": "0644"}
    assert files["app/manage.py"]["mode"] == "0755"


def test_env_key_follows_wheel_names_and_contents(tmp_path):
    root = make_tree(tmp_path / "t", 5, 0o644)
    before = env_key(root / "wheelhouse")
    assert env_key(root / "wheelhouse") == before
    (root / "wheelhouse" / "a-1.0-py3-none-any.whl").write_bytes(b"other bytes")
    changed = env_key(root / "wheelhouse")
    assert changed != before
    (root / "wheelhouse" / "b-2.0-py3-none-any.whl").write_bytes(b"")
    assert env_key(root / "wheelhouse") not in (before, changed)
