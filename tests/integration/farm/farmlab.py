"""Helpers of the farm tests: a real lab (network namespaces with sshd, a supervisord per
host, HAProxy in front) built by deploy.lab.farm and torn down afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
import uuid
from pathlib import Path
from typing import Iterator

from tests.integration.farm import labsupervisor

from deploy.config import EnvConfig
from deploy.lab import farm
from deploy.lab.state import Lab

HERE = Path(__file__).parent


@contextlib.contextmanager
def running_lab(hosts: int = 3, *, wsgi: str = "labapp:application", loopback: bool = False) -> Iterator[Lab]:
    """A fresh lab under /tmp (short paths: unix sockets are limited to 108 bytes)."""
    lab_dir = Path(f"/tmp/sylab-{uuid.uuid4().hex[:8]}")
    lab = farm.up(lab_dir, hosts, wsgi=wsgi, loopback=loopback, env_file=lab_dir / "env" / "lab.toml")
    try:
        yield lab
    finally:
        removed = farm.down(lab_dir)
        assert str(lab.root) in removed


def lab_env(lab: Lab) -> EnvConfig:
    return EnvConfig.model_validate(tomllib.loads(Path(lab.env_file).read_text()))


def install_app_release(lab: Lab, release: str = "20261125-000000-aaaaaaa") -> None:
    """Put labapp.py in releases/<release>/app on every host and point current at it."""
    for host in lab.hosts:
        app = Path(host.deploy_to) / "releases" / release / "app"
        app.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HERE / "labapp.py", app / "labapp.py")
        link = Path(host.deploy_to) / "current"
        tmp = link.with_name("current.tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(app.parent)
        os.replace(tmp, link)


def serve_labapp(lab: Lab) -> None:
    """labapp under a test supervisord on every host, running (farm.down stops the supervisords)."""
    install_app_release(lab)
    for i, host in enumerate(lab.hosts):
        labsupervisor.start(host, {labsupervisor.PROGRAM: labsupervisor.web_program(host, "labapp:application")})
        assert "RUNNING" in supervisorctl(lab, i, "start", "web") + supervisorctl(lab, i, "status", "web")


def supervisorctl(lab: Lab, host_index: int, *args: str) -> str:
    sock = labsupervisor.socket_path(lab.hosts[host_index])
    proc = subprocess.run(["supervisorctl", "-s", f"unix://{sock}", *args], capture_output=True, text=True, timeout=60)
    return proc.stdout


def get(url: str, timeout: float = 5) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


PROJECT = HERE.parents[2]
SITE = PROJECT / "examples" / "site"
IDENT = {"GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.invalid",
         "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.invalid"}
FAIL_HEALTH = '''
import os as _os


def _failing_here() -> bool:
    return _os.path.exists(_os.path.join(_os.environ.get("SHIPYARD_SHARED", "/nonexistent"), "fail-health"))


_healthy = health


def health(request):
    """This release is broken on any host whose shared/ holds a `fail-health` file."""
    if _failing_here():
        return JsonResponse({"status": "error", "error": "fail-health marker", **release_info()}, status=503)
    return _healthy(request)
'''


class SiteProject:
    """A git repository of the example site with a shipyard.toml, driven through the real `invoke` CLI."""

    def __init__(self, root: Path, lab_dir: Path):
        self.root, self.lab_dir = root, lab_dir
        root.mkdir(parents=True)
        shutil.copytree(SITE, root / "site", ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3", "staticfiles"))
        (root / "shipyard.toml").write_text(
            '[project]\nname = "site"\napp_dir = "site"\n\n[hooks]\n'
            'before_publishing = ["$SHIPYARD_PYTHON manage.py migrate --noinput"]\n'
        )
        (root / "tasks.py").write_text("from deploy.tasks import ns  # noqa: F401\n")
        (root / ".gitignore").write_text(".shipyard/\ndist/\n__pycache__/\n")
        self.env = {**os.environ, **IDENT,
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))}
        self.env.setdefault("SHIPYARD_WHEEL_CACHE", os.environ.get("SHIPYARD_TEST_WHEEL_CACHE", "/tmp/shipyard-farm-wheels"))
        self.env.pop("SHIPYARD_CONFIG", None)
        self.env.pop("SHIPYARD_LOCK_TOKEN", None)
        self.git("init", "-q", "-b", "main")
        self.commit("site v1")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.root, env=self.env, check=True,
                                   capture_output=True, text=True).stdout

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-qm", message, "--allow-empty")

    def break_health_where_marked(self) -> None:
        views = self.root / "site" / "shipsite" / "views.py"
        views.write_text(views.read_text() + FAIL_HEALTH)

    def popen(self, *args: str):
        return subprocess.Popen([sys.executable, "-m", "invoke", *args], cwd=self.root, env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def invoke(self, *args: str, check: bool = True, timeout: float = 240):
        proc = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=self.root, env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"invoke {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def build(self) -> str:
        """Build the committed revision; return the artifact path."""
        out = self.invoke("build").stdout
        return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("artifact: "))


def currents(lab: Lab) -> dict[str, str | None]:
    """Each host's current release id, read from its `current` symlink."""
    out = {}
    for host in lab.hosts:
        link = Path(host.deploy_to) / "current"
        out[host.name] = os.readlink(link).rsplit("/", 1)[-1] if link.is_symlink() else None
    return out


def journal(lab: Lab, index: int) -> list[dict]:
    path = Path(lab.hosts[index].deploy_to) / ".shipyard" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def lock_record(lab: Lab, index: int) -> str | None:
    path = Path(lab.hosts[index].deploy_to) / ".shipyard" / "lock"
    return path.read_text() if path.exists() else None


class RequestLoop:
    """A bounded request loop against the HAProxy frontend (stops by itself after `limit` requests or `seconds`)."""

    def __init__(self, url: str, limit: int = 20000, seconds: float = 180):
        self.url, self.limit, self.seconds = url, limit, seconds
        self.ok = 0
        self.failures: list[str] = []
        self.releases: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.seconds
        while not self._stop.is_set() and self.ok + len(self.failures) < self.limit and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url, timeout=10) as r:
                    release = json.loads(r.read()).get("release")
                self.ok += 1
                if not self.releases or self.releases[-1] != release:
                    self.releases.append(release)
            except Exception as e:  # noqa: BLE001 - every failure counts, whatever it is
                self.failures.append(f"{type(e).__name__}: {e}")
            time.sleep(0.005)

    def __enter__(self) -> "RequestLoop":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
