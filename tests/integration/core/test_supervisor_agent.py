"""The managed supervisord's host-side agent (deploy/services/supervisor_agent.py) against a
real supervisord on loopback: one request per action, answered as one JSON line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from deploy.services.managed_supervisor import CONF, agent_source


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    def __init__(self, root: Path, startsecs: int):
        self.dir, self.port = root / "sv", free_port()
        self.conf_text = CONF.format(socket="%(here)s/sv.sock", program="web").replace(
            "startsecs = 1", f"startsecs = {startsecs}\nstartretries = 0")
        self.current = root / "current"
        self.current.mkdir(parents=True)

    def launcher(self, body: str) -> str:
        return f"cd {self.current} || exit 1\nexec {body}\n"

    def ask(self, op: str, launcher: str = "", ready: str = "running") -> dict:
        d = str(self.dir)
        request = {"op": op, "dir": d, "conf": f"{d}/supervisord.conf", "socket": f"{d}/sv.sock", "program": "web",
                   "python": sys.executable, "timeout": 20, "ready": ready, "current": str(self.current),
                   "launcher": f"{d}/web.run", "runtime_file": f"{d}/web.runtime", "upgrade_status": f"{d}/web.upgrade",
                   "bind": ["127.0.0.1", self.port],
                   "files": {f"{d}/supervisord.conf": self.conf_text, f"{d}/web.run": launcher}}
        said = subprocess.run([sys.executable, "-I", "-S", "-c", agent_source()], input=json.dumps(request),
                              capture_output=True, text=True, timeout=90)
        lines = said.stdout.splitlines()
        assert len(lines) == 1, (said.stdout, said.stderr)  # one JSON line, nothing else on stdout
        return json.loads(lines[0])

    def server(self) -> str:
        return f"{sys.executable} -m http.server --bind 127.0.0.1 {self.port}"


@pytest.fixture
def agent(tmp_path):
    made: list[Agent] = []

    def make(startsecs: int) -> Agent:
        made.append(Agent(tmp_path / str(len(made)), startsecs))
        return made[-1]

    yield make
    for a in made:
        a.ask("shutdown")


def test_with_a_health_check_following_the_program_is_up_once_listening_not_after_startsecs(agent):
    a = agent(startsecs=15)
    started = time.monotonic()
    answer = a.ask("serve", a.launcher(a.server()), ready="listening")
    assert answer == {"ok": True, "how": "web started", "state": "STARTING"}
    assert time.monotonic() - started < 15
    with urllib.request.urlopen(f"http://127.0.0.1:{a.port}/", timeout=5) as r:
        assert r.status == 200
    assert a.ask("stop")["ok"]


def test_without_one_it_waits_for_running_then_signals_the_running_program(agent):
    a = agent(startsecs=1)
    launcher = a.launcher(a.server())
    started = time.monotonic()
    assert a.ask("serve", launcher) == {"ok": True, "how": "web started", "state": "RUNNING"}
    assert time.monotonic() - started >= 1
    again = a.ask("serve", launcher)  # same launcher, same runtime: a HUP, not a restart
    assert again["ok"] and "HUP" in again["how"] and again["state"] == "RUNNING"
    changed = a.ask("serve", a.launcher(a.server()).replace("exec ", "exec env X=1 "))
    assert changed == {"ok": True, "how": "web started", "state": "RUNNING"}  # a new launcher restarts it


def test_a_program_that_cannot_start_fails_the_request_with_its_state(agent):
    a = agent(startsecs=1)
    started = time.monotonic()
    answer = a.ask("serve", a.launcher("/bin/sh -c 'exit 3'"), ready="listening")
    assert answer == {"ok": False, "error": "web: FATAL after web started"}
    assert time.monotonic() - started < 15  # FATAL ends the wait; no timeout waited out


def test_shutdown_and_stop_without_a_supervisord_are_nothing_to_do(agent):
    a = agent(startsecs=1)
    assert a.ask("stop") == {"ok": True, "how": "web stopped"}
    assert a.ask("shutdown") == {"ok": True, "how": "supervisord stopped"}
