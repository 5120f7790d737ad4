"""Service restarts on lab hosts over SSH: supervisor (supervisorctl), a Celery-style worker
with a graceful stop, and systemd's command sequence against the lab's stand-in systemctl."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest
from tests.integration.farm.farmlab import HERE, get, serve_labapp, supervisorctl

from deploy.config import ServiceConfig
from deploy.errors import StepFailed
from deploy.services import restart_service
from deploy.services import celery as celery_service
from deploy.transport.ssh import SshTransport


@pytest.fixture(scope="module")
def app(lab):
    serve_labapp(lab)
    for host in lab.hosts:
        shutil.copyfile(HERE / "fake_celery.py", Path(host.deploy_to) / "current" / "app" / "fake_celery.py")
    return lab


@pytest.fixture
def ssh(env):
    with SshTransport.connect(env.hosts[0], env) as t:
        yield t


def web_pid(lab, i: int) -> str:
    return supervisorctl(lab, i, "pid", "web").strip()


WEB = ServiceConfig(kind="supervisor", name="web", timeout=30, supervisor_socket="{deploy_to}/../sv/supervisor.sock")


def test_supervisor_restart_starts_a_new_gunicorn_that_serves(app, env, ssh):
    web = WEB
    restart_service(ssh, web, env, env.hosts[0])
    before = web_pid(app, 0)
    assert before.isdigit()
    restart_service(ssh, web, env, env.hosts[0])
    assert web_pid(app, 0) not in ("", before)
    assert get("http://10.77.0.11:8000/").startswith("lab1 20261125-000000-aaaaaaa")


def test_supervisor_signal_reloads_the_same_master_instead_of_a_stop_and_start(app, env, ssh):
    restart_service(ssh, WEB, env, env.hosts[0])
    before = web_pid(app, 0)
    restart_service(ssh, WEB.model_copy(update={"signal": "HUP"}), env, env.hosts[0])
    assert web_pid(app, 0) == before  # supervisorctl signal HUP: gunicorn's master stays, workers are new
    assert get("http://10.77.0.11:8000/").startswith("lab1 20261125-000000-aaaaaaa")


def test_supervisor_program_that_cannot_start_fails_the_step(app, env, ssh):
    conf = app.root / "hosts" / "lab1" / "sv" / "conf.d" / "broken.conf"
    conf.write_text("[program:broken]\ncommand=/bin/sh -c 'exit 3'\nautostart=false\nstartsecs=1\nstartretries=0\n")
    supervisorctl(app, 0, "update")
    broken = ServiceConfig(kind="supervisor", name="broken", timeout=5, supervisor_socket=WEB.supervisor_socket)
    with pytest.raises(StepFailed) as e:
        restart_service(ssh, broken, env, env.hosts[0])
    assert e.value.host == "lab1" and e.value.step == "restart supervisor:broken"


def worker(tmp: str, timeout: float, extra: str = "") -> ServiceConfig:
    command = f"{sys.executable} fake_celery.py --pidfile {tmp}/worker.pid --log {tmp}/worker.log --warm 0.5 {extra}"
    return ServiceConfig(kind="celery", name="worker", pidfile=f"{tmp}/worker.pid", command=command, timeout=timeout)


def test_celery_worker_gets_a_warm_shutdown_then_starts_again(app, env, ssh, tmp_path):
    service = worker(str(tmp_path), timeout=5)
    restart_service(ssh, service, env, env.hosts[0])  # nothing running yet: just starts
    first = (tmp_path / "worker.pid").read_text()
    assert celery_service.stop(ssh, service, env, env.hosts[0]) == "stopped"
    restart_service(ssh, service, env, env.hosts[0])
    second = (tmp_path / "worker.pid").read_text()
    log = (tmp_path / "worker.log").read_text().splitlines()
    assert f"{first} warm shutdown" in log and f"{first} done" in log and f"{second} started" in log
    celery_service.stop(ssh, service, env, env.hosts[0])


def test_celery_worker_ignoring_term_is_killed_after_the_timeout(app, env, ssh, tmp_path):
    service = worker(str(tmp_path), timeout=1, extra="--ignore-term")
    restart_service(ssh, service, env, env.hosts[0])
    pid = int((tmp_path / "worker.pid").read_text())
    started = time.monotonic()
    assert celery_service.stop(ssh, service, env, env.hosts[0]) == "killed"
    assert 0.9 < time.monotonic() - started < 4
    assert not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    assert f"{pid} TERM ignored" in (tmp_path / "worker.log").read_text()


def test_systemd_restart_waits_for_is_active(app, env, ssh):
    calls = app.root / "hosts" / "lab1" / "systemd" / "calls.log"
    calls.unlink(missing_ok=True)
    restart_service(ssh, ServiceConfig(kind="systemd", name="shipsite", timeout=5), env, env.hosts[0])
    lines = calls.read_text().splitlines()
    assert lines[0] == "restart shipsite.service"
    assert lines[1:] and set(lines[1:]) == {"is-active shipsite.service"}
    assert len(lines) >= 3  # the stand-in is "activating" for 0.3 s: the loop really waited


@pytest.mark.parametrize("marker, message", [("fail", "systemctl restart exited 1"), ("fail-late", "unit is failed")])
def test_systemd_unit_that_fails_fails_the_step(app, env, ssh, marker, message):
    state = app.root / "hosts" / "lab1" / "systemd"
    state.mkdir(exist_ok=True)
    (state / f"bad.service.{marker}").touch()
    with pytest.raises(StepFailed, match=message) as e:
        restart_service(ssh, ServiceConfig(kind="systemd", name="bad", timeout=5), env, env.hosts[0])
    assert e.value.host == "lab1" and e.value.step == "restart systemd:bad.service"
    (state / f"bad.service.{marker}").unlink()
