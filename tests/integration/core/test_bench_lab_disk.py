"""The farm benches' lab disk (bench/labdisk.py): a journaled ext4 of its own, gone afterwards.

The oracles are the kernel's: findmnt for what is mounted, /proc/fs/jbd2 for the journal, and
the root filesystem's own listing for what is left behind. Loop mounts need root, as the lab does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from labdisk import lab_disk  # noqa: E402


def fstype(path: Path) -> list[str]:
    """[filesystem type, mount point] of the mount that holds `path`, as findmnt reads the kernel's table."""
    return subprocess.run(["findmnt", "-n", "-o", "FSTYPE,TARGET", "--target", str(path)],
                          capture_output=True, text=True, check=True).stdout.split()


def test_the_default_disk_is_a_journaled_ext4_mounted_on_the_lab_and_removed_after(tmp_path):
    base = tmp_path / "lab-base"
    with lab_disk(base) as what:
        assert fstype(base) == ["ext4", str(base)]
        source = subprocess.run(["findmnt", "-n", "-o", "SOURCE", str(base)], capture_output=True, text=True,
                                check=True).stdout.strip()
        journals = [p.name for p in Path("/proc/fs/jbd2").iterdir()]
        assert any(j.startswith(Path(source).name + "-") for j in journals), (source, journals)
        assert "journaled ext4" in what
        (base / "hosts" / "lab1").mkdir(parents=True)
        (base / "hosts" / "lab1" / "f").write_bytes(b"x" * 4096)
    assert not base.exists() and list(tmp_path.iterdir()) == []
    assert str(base) not in Path("/proc/self/mounts").read_text()


@settings(max_examples=5, deadline=None)
@given(st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=6), min_size=1, max_size=5, unique=True))
def test_here_keeps_the_directorys_own_filesystem_and_removes_what_the_lab_wrote(tmp_path_factory, names):
    top = tmp_path_factory.mktemp("here")
    base = top / "lab-base"
    with lab_disk(base, "here"):
        assert fstype(base)[0] == fstype(top)[0] and fstype(base)[1] != str(base)
        for name in names:
            (base / name).mkdir()
            (base / name / "file").write_text(name)
    assert list(top.iterdir()) == []


def test_an_unknown_disk_is_refused_before_anything_is_made(tmp_path):
    with pytest.raises(ValueError, match="journaled"):
        with lab_disk(tmp_path / "x", "tmpfs"):
            pass
    assert list(tmp_path.iterdir()) == []
