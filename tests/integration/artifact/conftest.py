"""Real git and hg repositories holding a copy of examples/site, and one wheel cache
for the whole session so pip builds the wheelhouse once."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[3] / "examples" / "site"
SHIPYARD_TOML = """\
[project]
name = "site"
app_dir = "site"

[hooks]
before_publishing = ["{hook}"]
"""
VCS_ENV = {
    "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.invalid",
    "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.invalid",
    "HGUSER": "ci <ci@example.invalid>", "HGPLAIN": "1",
}


@dataclass
class Repo:
    """A working copy in a temp dir, driven with the real git/hg command line."""

    kind: str
    path: Path

    def cmd(self, *args: str) -> str:
        proc = subprocess.run([self.kind, *args], cwd=self.path, env={**os.environ, **VCS_ENV}, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def commit(self, message: str) -> str:
        if self.kind == "git":
            self.cmd("add", "-A")
            self.cmd("commit", "-q", "-m", message)
            return self.cmd("rev-parse", "HEAD")
        self.cmd("addremove", "-q")
        self.cmd("commit", "-q", "-m", message)
        return self.cmd("log", "-r", ".", "-T", "{node}")

    def tag(self, name: str) -> None:
        if self.kind == "git":
            self.cmd("tag", "-a", name, "-m", name)
        else:
            self.cmd("tag", name)

    def write(self, relpath: str, text: str) -> None:
        (self.path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (self.path / relpath).write_text(text, encoding="utf-8")

    @property
    def config(self) -> Path:
        return self.path / "shipyard.toml"


def make_repo(kind: str, path: Path) -> Repo:
    """A repo with the example site under site/, shipyard.toml at the root, one commit, tag v1.0."""
    path.mkdir(parents=True)
    repo = Repo(kind, path)
    repo.cmd(*(["init", "-q", "-b", "main"] if kind == "git" else ["init"]))
    shutil.copytree(SITE, path / "site", ignore=shutil.ignore_patterns("__pycache__", "db.sqlite3", "*.pyc"))
    repo.write("shipyard.toml", SHIPYARD_TOML.format(hook="echo A"))
    ignore = ".gitignore" if kind == "git" else ".hgignore"
    repo.write(ignore, "dist/\n.shipyard/\n" if kind == "git" else "syntax: glob\ndist/\n.shipyard/\n")
    repo.commit("site v1")
    repo.tag("v1.0")
    return repo


@pytest.fixture(scope="session", autouse=True)
def shared_wheel_cache(tmp_path_factory: pytest.TempPathFactory):
    cache = tmp_path_factory.mktemp("wheel-cache")
    old = os.environ.get("SHIPYARD_WHEEL_CACHE")
    os.environ["SHIPYARD_WHEEL_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("SHIPYARD_WHEEL_CACHE", None)
    else:
        os.environ["SHIPYARD_WHEEL_CACHE"] = old


@pytest.fixture(params=["git", "hg"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Repo:
    return make_repo(request.param, tmp_path / f"{request.param}-repo")


@pytest.fixture
def git_repo(tmp_path: Path) -> Repo:
    """Just git, for tests of things that do not depend on the VCS kind."""
    return make_repo("git", tmp_path / "git-repo")
