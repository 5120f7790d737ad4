"""A real site repository (git or hg), a shipyard.toml pointing at a temp deploy root,
and the real `invoke` CLI driving build/deploy/rollback against it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.report.schema import assert_events_valid

PROJECT = Path(__file__).resolve().parents[3]
SITE = PROJECT / "examples" / "site"
IDENT = {"GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.invalid",
         "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.invalid", "HGUSER": "ci", "HGPLAIN": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SiteRepo:
    root: Path
    kind: str
    env: dict[str, str]
    port: int

    def sh(self, *argv: str) -> str:
        return subprocess.run(argv, cwd=self.root, env=self.env, check=True, capture_output=True, text=True).stdout

    def commit(self, message: str) -> None:
        if self.kind == "git":
            self.sh("git", "add", "-A")
            self.sh("git", "commit", "-qm", message)
        else:
            self.sh("hg", "addremove", "-q")
            self.sh("hg", "commit", "-q", "-m", message)

    def invoke(self, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"invoke {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    @property
    def deploy_to(self) -> Path:
        return self.root / ".shipyard" / "local"

    def health(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/", timeout=5) as r:
            return json.loads(r.read())

    def journal(self) -> list[dict]:
        path = self.deploy_to / ".shipyard" / "journal.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]

    def release_json(self, rid: str) -> dict:
        return json.loads((self.deploy_to / "releases" / rid / "release.json").read_text())

    def current(self) -> str | None:
        link = self.deploy_to / "current"
        return os.readlink(link).rsplit("/", 1)[-1] if link.is_symlink() else None


CONFIG = """\
[project]
name = "site"
app_dir = "site"

[hooks]
before_publishing = ["$SHIPYARD_PYTHON manage.py migrate --noinput"]

[env.local]
deploy_to = ".shipyard/local"
hosts = [{{ name = "localhost", transport = "local" }}]
app_port = {port}
keep_releases = 3
linked_dirs = ["media"]
supervisor = {{ program = "web", workers = 1 }}
health = {{ timeout = 8 }}
"""


def make_repo(root: Path, kind: str, wheel_cache: Path) -> SiteRepo:
    root.mkdir(parents=True)
    shutil.copytree(SITE, root / "site", ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3", "staticfiles"))
    port = free_port()
    (root / "shipyard.toml").write_text(CONFIG.format(port=port))
    (root / "tasks.py").write_text("from deploy.tasks import ns  # noqa: F401\n")
    ignore = ".shipyard/\ndist/\n__pycache__/\n"
    if kind == "git":
        (root / ".gitignore").write_text(ignore)
    else:
        (root / ".hgignore").write_text("syntax: glob\n" + ignore)
    env = {**os.environ, **IDENT, "SHIPYARD_WHEEL_CACHE": str(wheel_cache),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))}
    env.pop("SHIPYARD_CONFIG", None)
    env.pop("SHIPYARD_LOCK_TOKEN", None)  # a lease held in-process by an earlier test is not this site's
    env["SHIPYARD_EVENTS"] = str(root / "all-events.jsonl")  # every run's events, validated at teardown
    repo = SiteRepo(root, kind, env, port)
    repo.sh(*(["git", "init", "-q", "-b", "main"] if kind == "git" else ["hg", "init"]))
    repo.commit("site v1")
    return repo


def finish(repo: SiteRepo) -> None:
    """Stop the site; every event any run emitted must match the published schema."""
    repo.invoke("stop", check=False, timeout=60)
    events = repo.root / "all-events.jsonl"
    if events.exists():
        assert_events_valid(events)


@pytest.fixture(params=["git", "hg"])
def site_repo(request, tmp_path, wheel_cache):
    repo = make_repo(tmp_path / f"{request.param}-site", request.param, wheel_cache)
    yield repo
    finish(repo)


@pytest.fixture
def git_site(tmp_path, wheel_cache):
    repo = make_repo(tmp_path / "git-site", "git", wheel_cache)
    yield repo
    finish(repo)
