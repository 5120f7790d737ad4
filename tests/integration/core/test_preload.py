"""A preloaded app (`supervisor.preload`, gunicorn `--preload`) really serves each new release:
the managed supervisord's real launcher, agent and keeper over the local transport, real
gunicorn on loopback, and the oracle is what the app answers over HTTP — the release id and the
dependency env it *imported* (module constants, so a master that kept the old import gives
itself away), never Shipyard's own record of what it did."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.config import EnvConfig
from deploy.errors import StepFailed
from deploy.lab.proc import free_port
from deploy.release.layout import Layout
from deploy.release.posix import PosixHostOps
from deploy.services.managed_supervisor import ManagedSupervisor
from deploy.transport.local import LocalTransport

pytestmark = pytest.mark.slow

APP = '''import gc
import os
import depmark  # from current/.deps: which dependency env this process imported

RELEASE = {release!r}


def application(environ, start_response):
    body = ("{{\\"release\\": \\"%s\\", \\"deps\\": \\"%s\\", \\"pid\\": %d, \\"frozen\\": %d}}"
            % (RELEASE, depmark.KEY, os.getpid(), gc.get_freeze_count())).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
'''


class Host:
    """One deploy root served by the managed supervisord, releases made by hand."""

    def __init__(self, root: Path, preload: bool):
        self.root, self.port, self.count = root, free_port(), 0
        env = EnvConfig.model_validate({
            "deploy_to": str(root), "app_port": self.port, "python": sys.executable,
            "hosts": [{"name": "local", "transport": "local", "address": "127.0.0.1"}],
            "supervisor": {"workers": 2, "wsgi": "markapp:application", "preload": preload}})
        host = env.hosts[0]
        ops = PosixHostOps(LocalTransport(host), Layout(str(root)), 60)
        self.sup = ManagedSupervisor(ops, env, host, sys.executable, timeout=30)

    def release(self, deps: str, broken: bool = False) -> str:
        """A new release (and, if need be, the dependency env `deps`) made the current one."""
        self.count += 1
        release = f"20261202-0000{self.count:02d}-abcdef{self.count % 10}"
        env_dir = self.root / "shared" / "envs" / deps
        env_dir.mkdir(parents=True, exist_ok=True)
        (env_dir / "depmark.py").write_text(f"KEY = {deps!r}\n")
        app = self.root / "releases" / release / "app"
        app.mkdir(parents=True)
        (app / "markapp.py").write_text("import no_such_module_anywhere\n" if broken else APP.format(release=release))
        (app.parent / ".deps").symlink_to(env_dir)
        self.switch(release)
        return release

    def switch(self, release: str) -> None:
        tmp = self.root / ".current.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(f"releases/{release}")
        os.replace(tmp, self.root / "current")

    def served(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5) as r:
            return json.loads(r.read())

    def serve_and_wait(self, release: str, deps: str) -> str:
        """serve(), then poll (bounded) until a response names `release`: the old workers may
        answer a few requests more while they finish, then every answer must be the new one."""
        how = self.sup.serve({}, ready="listening")
        deadline = time.monotonic() + 20
        while (seen := self.served())["release"] != release and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (seen["release"], seen["deps"]) == (release, deps), how
        time.sleep(0.3)  # old workers finishing: after them, only the new release answers
        assert {(s["release"], s["deps"]) for s in (self.served() for _ in range(8))} == {(release, deps)}, how
        return how


def master_of(worker: int) -> int:
    return int(Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.fixture
def hosts(tmp_path):
    made: list[Host] = []

    def make(preload: bool) -> Host:
        made.append(Host(Path(f"/tmp/sypre-{os.getpid()}-{len(made)}-{tmp_path.name[-6:]}"), preload))
        return made[-1]

    yield make
    for h in made:
        h.sup.shutdown()
        import shutil

        shutil.rmtree(h.root, ignore_errors=True)


def test_a_preloaded_app_serves_each_new_release_through_a_new_master(hosts):
    h = hosts(preload=True)
    first = h.release("envA")
    assert h.serve_and_wait(first, "envA") == "web started"
    master = master_of(h.served()["pid"])
    second = h.release("envA")
    how = h.serve_and_wait(second, "envA")
    assert "USR2" in how and "preloaded" in how
    assert master_of(h.served()["pid"]) != master
    # the workers fork from a frozen import (gc.freeze in the keeper's pre_fork hook), after a HUP too
    assert h.served()["frozen"] > 1000
    h.sup.ops.transport.run([sys.executable, "-m", "supervisor.supervisorctl", "-c",
                             str(h.root / "shared/supervisor/supervisord.conf"), "signal", "HUP", "web"], timeout=30)
    time.sleep(1.5)
    assert h.served()["frozen"] > 1000 and h.served()["release"] == second


def test_the_oracle_sees_a_stale_preloaded_master(hosts):
    """The control: HUP to a preloaded gunicorn (what the code-only path did before preload
    was known to the agent) keeps answering with the old release."""
    h = hosts(preload=True)
    first = h.release("envA")
    h.serve_and_wait(first, "envA")
    assert h.served()["frozen"] > 1000
    h.release("envA")
    sv = h.root / "shared" / "supervisor"
    h.sup.ops.transport.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", str(sv / "supervisord.conf"),
                             "signal", "HUP", "web"], timeout=30)
    time.sleep(1.5)
    assert {h.served()["release"] for _ in range(8)} == {first}


def test_a_preloaded_release_that_cannot_import_fails_at_once_and_the_old_one_keeps_serving(hosts):
    h = hosts(preload=True)
    first = h.release("envA")
    h.serve_and_wait(first, "envA")
    h.release("envA", broken=True)
    started = time.monotonic()
    with pytest.raises(StepFailed) as failed:
        h.sup.serve({}, ready="listening")
    assert time.monotonic() - started < 10  # not the 30 s timeout: the new master's exit is seen
    assert "exited while starting" in str(failed.value) and "no_such_module_anywhere" in str(failed.value)
    assert {h.served()["release"] for _ in range(8)} == {first}  # never stopped serving
    h.switch(first)  # what a rollback does: back to the old release, served again
    h.serve_and_wait(first, "envA")


# A deploy history: each step a new release (same or another dependency env) or a rollback to
# an earlier release; with and without preload. After every step the app must answer with the
# release `current` names and the dependency env that release links.
STEP = st.one_of(st.tuples(st.just("new"), st.sampled_from(["envA", "envB"])),
                 st.tuples(st.just("back"), st.integers(min_value=0, max_value=5)))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(preload=st.booleans(), steps=st.lists(STEP, min_size=1, max_size=4))
def test_any_deploy_history_serves_the_current_release(hosts, preload, steps):
    h = hosts(preload)
    history = [(h.release("envA"), "envA")]
    h.serve_and_wait(*history[0])
    for kind, arg in steps:
        if kind == "new":
            history.append((h.release(arg), arg))
            target = history[-1]
        else:
            target = history[arg % len(history)]
            h.switch(target[0])
        h.serve_and_wait(*target)
