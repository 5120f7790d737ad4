"""The Vcs verbs against real git and hg repositories."""

from __future__ import annotations

import os
import re
import time

import pytest

from deploy.errors import VcsError
from deploy.vcs import open_vcs

FULL_ID = re.compile(r"^[0-9a-f]{40}$")


def test_open_vcs_detects_kind_from_a_subdirectory(repo):
    vcs = open_vcs(repo.path / "site" / "shipsite")
    assert vcs.kind == repo.kind
    assert vcs.root == repo.path.resolve()


def test_open_vcs_outside_any_working_copy_is_a_vcs_error(tmp_path):
    with pytest.raises(VcsError, match="not inside") as info:
        open_vcs(tmp_path)
    assert info.value.exit_code == 2


def test_open_vcs_with_the_wrong_kind_is_refused(repo, tmp_path):
    other = "hg" if repo.kind == "git" else "git"
    with pytest.raises(VcsError):
        open_vcs(repo.path, other)


def test_branch_tag_and_short_hash_resolve_to_the_same_full_id(repo):
    first = repo.cmd("log", "-r", "v1.0", "-T", "{node}") if repo.kind == "hg" else repo.cmd("rev-parse", "v1.0^{commit}")
    repo.write("site/extra.txt", "two\n")
    head = repo.commit("two")
    vcs = open_vcs(repo.path)
    assert FULL_ID.match(first)
    assert vcs.resolve("v1.0") == first  # the commit, not git's tag object
    assert vcs.resolve(first[:8]) == first
    assert vcs.resolve(vcs.short(first)) == first
    branch = "main" if repo.kind == "git" else "default"
    assert vcs.resolve(branch) == head
    assert vcs.resolve(None) == head
    assert len(vcs.short(head)) == (7 if repo.kind == "git" else 12)


def test_unknown_revision_names_the_revision(repo):
    vcs = open_vcs(repo.path)
    with pytest.raises(VcsError, match="no-such-branch"):
        vcs.resolve("no-such-branch")
    with pytest.raises(VcsError):
        vcs.resolve("--output=/tmp/x")


def test_export_has_the_subdir_contents_and_no_metadata(repo, tmp_path):
    vcs = open_vcs(repo.path)
    dest = tmp_path / "export"
    vcs.export(vcs.resolve("v1.0"), dest, "site")
    assert (dest / "manage.py").is_file() and (dest / "shipsite" / "settings.py").is_file()
    assert os.access(dest / "manage.py", os.X_OK)
    whole = tmp_path / "whole"
    vcs.export(vcs.resolve(None), whole)
    names = set(os.listdir(whole))
    assert {"site", "shipyard.toml"} <= names
    assert not names & {".git", ".hg", ".hg_archival.txt", ".hgtags"}


def test_export_is_the_revision_not_the_working_tree(repo, tmp_path):
    vcs = open_vcs(repo.path)
    v1 = vcs.resolve("v1.0")
    repo.write("site/manage.py", "# changed\n")
    vcs.export(v1, tmp_path / "e", "site")
    assert "execute_from_command_line" in (tmp_path / "e" / "manage.py").read_text()


def test_is_dirty_looks_only_under_the_subdir(repo):
    vcs = open_vcs(repo.path)
    assert not vcs.is_dirty() and not vcs.is_dirty("site")
    repo.write("notes.txt", "untracked at the root\n")
    assert vcs.is_dirty() and not vcs.is_dirty("site")
    repo.write("site/new.py", "x = 1\n")
    repo.write("site/manage.py", "# edited\n")
    assert vcs.is_dirty("site")
    assert sorted(vcs.changed_files("site")) == ["site/manage.py", "site/new.py"]
    assert "site/new.py" in vcs.working_files("site")


def test_ignored_files_are_not_dirty(repo):
    vcs = open_vcs(repo.path)
    repo.write("dist/site-x.tar.gz", "not a real artifact")
    assert not vcs.is_dirty()


def test_read_file_commit_time_and_describe(repo):
    vcs = open_vcs(repo.path)
    v1 = vcs.resolve("v1.0")
    assert b"echo A" in vcs.read_file(v1, "shipyard.toml")
    assert vcs.read_file(v1, "no/such/file") is None
    assert abs(vcs.commit_time(v1) - time.time()) < 600
    assert vcs.describe(v1) == "v1.0"
    repo.write("site/later.txt", "later\n")
    later = repo.commit("later")
    assert vcs.describe(later).startswith("v1.0-")


def test_git_export_refuses_a_committed_symlink_out_of_the_tree(git_repo, tmp_path):
    (git_repo.path / "site" / "escape").symlink_to("/etc/passwd")
    git_repo.commit("symlink out")
    vcs = open_vcs(git_repo.path)
    with pytest.raises(VcsError, match="cannot export site"):
        vcs.export(vcs.resolve(None), tmp_path / "e", "site")


def test_git_changed_files_reports_a_staged_rename_once(git_repo):
    git_repo.cmd("mv", "site/shipsite/views.py", "site/shipsite/ab cd.py")
    assert open_vcs(git_repo.path).changed_files("site") == ["site/shipsite/ab cd.py"]
