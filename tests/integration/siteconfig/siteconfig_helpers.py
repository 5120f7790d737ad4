"""Helpers the siteconfig integration tests share (a unique module name: test
directories have no __init__.py)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "siteconfig"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def http(url: str, method: str = "GET", headers: dict | None = None, timeout: float = 5.0):
    """(status, headers (case-insensitive), body) without raising on 4xx/5xx."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def write_config(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "shipyard.toml"
    path.write_text(text)
    return path


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free loopback ports (a farm's worker ports)."""
    for _ in range(50):
        base = free_port()
        if base + count < 65535 and all(_is_free(base + i) for i in range(1, count)):
            return base
    raise AssertionError("no run of free ports")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def stage_release(loaded, env_name: str, host_name: str, release_id: str) -> Path:
    """What a deploy leaves on a host: the app, static and media files and the rendered
    configs inside releases/<id>, the site's directories, and `current` pointing there."""
    from deploy.siteconfig import host_dirs, release_files

    env = loaded.environment(env_name)
    host = next(h for h in env.hosts if h.name == host_name)
    deploy_to = Path(env.host_deploy_to(host))
    release = deploy_to / "releases" / release_id
    shutil.copytree(FIXTURES / "app", release / "app")
    (release / "static").mkdir()
    (release / "static" / "app.css").write_text("body { color: teal }\n")
    (release / "media").mkdir()
    (release / "media" / "report.txt").write_text("quarterly numbers\n")
    for relative, text in release_files(loaded, env_name, host, release_id).items():
        (release / relative).parent.mkdir(parents=True, exist_ok=True)
        (release / relative).write_text(text)
    for directory in host_dirs(env, host):
        Path(directory).mkdir(parents=True, exist_ok=True)
    for path in [deploy_to, *deploy_to.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o755 if path.is_dir() else path.stat().st_mode | 0o644)
    switch(deploy_to, release)
    return deploy_to / "current"


def switch(deploy_to: Path, release: Path) -> None:
    """Point `current` at a release atomically, as the deploy (and a rollback) does."""
    link = deploy_to / "current.tmp"
    os.symlink(release, link)
    os.replace(link, deploy_to / "current")


def sh(command: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=timeout)
