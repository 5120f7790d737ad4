"""The `build` invoke task: last two lines name the artifact and its sha256; errors exit 2."""

from __future__ import annotations

import hashlib
from pathlib import Path

import invoke
import pytest

from deploy.tasks.build import build

pytestmark = pytest.mark.slow


def test_build_task_prints_artifact_and_sha256_last(git_repo, capsys):
    build(invoke.Context(), rev="v1.0", config=str(git_repo.config))
    last_two = capsys.readouterr().out.strip().splitlines()[-2:]
    assert last_two[0].startswith("artifact: ") and last_two[1].startswith("sha256: ")
    path = Path(last_two[0].removeprefix("artifact: "))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == last_two[1].removeprefix("sha256: ")


def test_build_task_dirty_tree_exits_2_naming_allow_dirty(git_repo):
    (git_repo.path / "site" / "scratch.py").write_text("x = 1\n")
    with pytest.raises(invoke.Exit) as info:
        build(invoke.Context(), config=str(git_repo.config))
    assert info.value.code == 2
    assert "--allow-dirty" in str(info.value.message)


def test_build_task_unknown_rev_exits_2(git_repo):
    with pytest.raises(invoke.Exit) as info:
        build(invoke.Context(), rev="nope-123", config=str(git_repo.config))
    assert info.value.code == 2 and "nope-123" in str(info.value.message)
