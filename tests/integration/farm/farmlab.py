"""Helpers of the farm tests: a real lab (network namespaces with sshd, a supervisord per
host, HAProxy in front) built by deploy.lab.farm and torn down afterwards."""

from __future__ import annotations

import contextlib
import os
import shutil
import tomllib
import urllib.request
import uuid
from pathlib import Path
from typing import Iterator

from deploy.config import EnvConfig
import labsupervisor

from deploy.lab import farm
from deploy.lab.farm import Lab

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
    import subprocess

    sock = labsupervisor.socket_path(lab.hosts[host_index])
    proc = subprocess.run(["supervisorctl", "-s", f"unix://{sock}", *args], capture_output=True, text=True, timeout=60)
    return proc.stdout


def get(url: str, timeout: float = 5) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()
