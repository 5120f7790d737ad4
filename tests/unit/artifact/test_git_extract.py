"""git export's own member check (tarfile's filter= needs Python 3.11.4+; Debian 12 has 3.11.2):
whatever the names and link targets, nothing is written outside the destination."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from deploy.vcs.git import extract_tree

PART = st.sampled_from(["a", "b", "..", ".", "sub"])
PATH = st.lists(PART, min_size=1, max_size=4).map("/".join)


def archive(entries: list[tuple[str, str | None]]) -> tarfile.TarFile:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, link in entries:
            info = tarfile.TarInfo(name)
            if link is None:
                tar.addfile(info, io.BytesIO(b""))
            else:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
    buf.seek(0)
    return tarfile.open(fileobj=buf, mode="r:")


def inside(root: Path) -> bool:
    """Every path under root (links not followed) resolves inside root."""
    real = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            if not Path(os.path.realpath(Path(dirpath) / name)).is_relative_to(real):  # a loop is not an escape
                return False
    return True


@settings(max_examples=150, deadline=None)
@given(entries=st.lists(st.tuples(st.one_of(PATH, PATH.map(lambda p: "/" + p)),
                                  st.one_of(st.none(), PATH, PATH.map(lambda p: "/" + p))), min_size=1, max_size=5))
def test_nothing_lands_or_points_outside_the_destination(tmp_path_factory, entries):
    root = tmp_path_factory.mktemp("export")
    dest, outside = root / "dest", root / "outside"
    dest.mkdir()
    try:
        extract_tree(archive(entries), dest)
    except (tarfile.TarError, OSError):
        pass
    assert not outside.exists() and sorted(p.name for p in root.iterdir()) == ["dest"]
    assert inside(dest)


def test_a_plain_tree_with_an_inner_symlink_extracts(tmp_path):
    extract_tree(archive([("app/x.txt", None), ("app/link", "x.txt")]), tmp_path)
    assert os.readlink(tmp_path / "app" / "link") == "x.txt"


@pytest.mark.parametrize("entries", [[("/etc/x", None)], [("../x", None)], [("a", "/etc/passwd")], [("a/b", "../..")],
                                     [("d/l1", ".."), ("d/l2", "l1/..")]])
def test_escapes_are_refused(tmp_path, entries):
    with pytest.raises(tarfile.TarError, match="outside the (tree|destination)"):
        extract_tree(archive(entries), tmp_path)
