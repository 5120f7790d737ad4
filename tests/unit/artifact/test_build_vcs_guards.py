"""Guards in the Vcs layer that need no repository: option-like revisions, escaping subdirs, unknown kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.errors import VcsError
from deploy.vcs import REGISTRY, Git, Hg, open_vcs


def test_registry_knows_git_and_hg():
    assert REGISTRY == {"git": Git, "hg": Hg}
    assert (Git.short_length, Hg.short_length) == (7, 12)
    assert Git(Path("/")).short("0123456789abcdef") == "0123456"


@pytest.mark.parametrize("rev", ["-n", "--output=/tmp/x", "", "a\nb"])
def test_option_like_revisions_are_refused_before_any_command(rev):
    with pytest.raises(VcsError, match="unknown revision"):
        Git.check_rev(rev)


@pytest.mark.parametrize("subdir, clean", [(".", "."), ("./site/", "site"), ("a//b", "a/b"), ("", ".")])
def test_subdir_paths_are_normalised(tmp_path, subdir, clean):
    assert Hg(tmp_path).subdir_path(subdir) == clean


@pytest.mark.parametrize("subdir", ["../other", "site/../../x", "/etc"])
def test_subdirs_outside_the_working_copy_are_refused(tmp_path, subdir):
    with pytest.raises(VcsError, match="not a directory inside"):
        Git(tmp_path).subdir_path(subdir)


def test_unknown_vcs_kind_is_refused(tmp_path):
    with pytest.raises(VcsError, match="unknown vcs 'svn'"):
        open_vcs(tmp_path, "svn")
