"""Shared by the adversarial deploys: a real site repository (tests/integration/core) whose
tasks.py can kill the controller at a stage boundary or right after a step (SIGKILL, no
cleanup possible), chosen per run with SHIPYARD_TEST_KILL_AT, raise a KeyError at a stage
boundary (SHIPYARD_TEST_RAISE_AT, an exception no Shipyard code expects), and fill a disk with
SHIPYARD_TEST_FILL (path:bytes-to-leave-free) once the lease is held."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.core.conftest import SiteRepo, finish, make_repo

TASKS = '''\
from deploy.tasks import ns  # noqa: F401
import fnmatch, os, signal, subprocess
from deploy.engine.stages import after, before

KILL = os.environ.get("SHIPYARD_TEST_KILL_AT", "")


def die(ctx=None):
    os.kill(os.getpid(), signal.SIGKILL)


for when, register in (("before", before), ("after", after)):
    for stage in ("starting", "updating", "publishing", "finishing"):
        if KILL == f"{when}:{stage}":
            register(stage)(die)

if KILL.startswith("step:"):  # step:<stage>/<step name or *>: right after that step succeeds on a host
    @before("starting")
    def arm(ctx):
        def watch(event):
            if event["kind"] == "step" and event.get("result") == "ok" and \\
                    fnmatch.fnmatch(f"{event.get('stage')}/{event.get('step')}", KILL[5:]):
                die()
        ctx.bus.subscribe(watch)

RAISE = os.environ.get("SHIPYARD_TEST_RAISE_AT", "")
if RAISE:
    when, _, stage = RAISE.partition(":")

    def boom(ctx):
        raise KeyError("planted by the test")

    (before if when == "before" else after)(stage)(boom)

FILL = os.environ.get("SHIPYARD_TEST_FILL", "")
if FILL:
    @after("starting")
    def fill(ctx):
        where, leave = FILL.rsplit(":", 1)
        st = os.statvfs(where)
        size = st.f_bavail * st.f_frsize - int(leave)
        if size > 0:
            subprocess.run(["fallocate", "-l", str(size), os.path.join(where, "filler")], check=True)
'''


def adversarial_repo(root: Path, wheel_cache: Path) -> SiteRepo:
    repo = make_repo(root, "git", wheel_cache)
    (repo.root / "tasks.py").write_text(TASKS)
    repo.commit("tasks that can kill the controller")
    return repo


@pytest.fixture(scope="module")
def site(tmp_path_factory, wheel_cache):
    repo = adversarial_repo(tmp_path_factory.mktemp("adversarial") / "site", wheel_cache)
    yield repo
    finish(repo)


def release_tree_matches_manifest(release: Path) -> list[str]:
    """What differs between an unpacked release and its manifest (files, sizes, sha256, modes)."""
    import hashlib

    manifest = json.loads((release / "manifest.json").read_text())
    problems = []
    bundled = (release / ".deps").exists()  # a host given the dependency bundle never gets the wheelhouse
    for path, entry in manifest["files"].items():
        if bundled and path.startswith("wheelhouse/"):
            continue
        p = release / path
        if p.is_symlink() or not p.is_file():
            if not p.is_symlink():  # linked_dirs/linked_files are links by design
                problems.append(f"{path}: missing")
            continue
        data = p.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry["size"]:
            problems.append(f"{path}: content differs")
        elif f"{os.stat(p).st_mode & 0o777:04o}" != entry["mode"]:
            problems.append(f"{path}: mode {os.stat(p).st_mode & 0o777:04o}, manifest {entry['mode']}")
    return problems


def run(site, *args: str, timeout: float = 600, **env: str) -> "subprocess.CompletedProcess":
    """`invoke ARGS` in the site with extra environment variables; never raises on failure."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=site.root, env={**site.env, **env},
                          capture_output=True, text=True, timeout=timeout)


def new_revision(site, note: str) -> None:
    (site.root / "site" / "revision.txt").write_text(note)
    site.commit(note)
    site.invoke("build", timeout=600)
