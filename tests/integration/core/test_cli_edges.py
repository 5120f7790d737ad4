"""The rough edges of the CLI a newcomer hits first: tasks run without arguments say
what they need (never invoke's raw `did not receive required positional arguments`),
number options show their type in --help and refuse a non-number without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[3]


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    env.pop("SHIPYARD_EVENTS", None)
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shipyard.toml").write_text('[project]\nname = "site"\n')
    (tmp_path / "tasks.py").write_text("from deploy.tasks import ns  # noqa: F401\n")
    return tmp_path


def test_report_without_arguments_says_which_file_it_needs(project):
    proc = cli(project, "report")
    assert proc.returncode == 2 and "pass --from EVENTS" in proc.stderr
    assert "did not receive" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("task", ["config.render", "config.diff"])
def test_config_tasks_default_to_the_local_env_and_say_what_they_did(project, task):
    proc = cli(project, task)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("env local: nothing to ") and "[env.local.site]" in proc.stdout


def test_lock_wait_shows_its_type_and_refuses_a_fraction_cleanly(project):
    assert "--lock-wait=INT" in cli(project, "deploy", "--help").stdout
    assert "--lock-wait=INT" in cli(project, "rollback", "--help").stdout
    proc = cli(project, "deploy", "--lock-wait", "1.5")
    assert proc.returncode == 1 and proc.stderr.strip() == "--lock-wait: '1.5' is not a whole number"
    parsed = cli(project, "deploy", "--lock-wait", "2", "--config", str(project / "nonexistent.toml"))
    assert parsed.returncode == 2 and "nonexistent.toml: file not found" in parsed.stderr  # a whole number parses


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("task", ["status", "releases"])
def test_one_unreachable_host_does_not_hide_the_others(tmp_path, task):
    (tmp_path / "known_hosts").write_text("")
    (tmp_path / "shipyard.toml").write_text(f"""
[project]
name = "site"
[env.mixed]
deploy_to = "{tmp_path}/deploy"
secrets = {{ DJANGO_SECRET_KEY = "NOT_SET_FOR_STATUS_X" }}
hosts = [
  {{ name = "web1", transport = "local" }},
  {{ name = "web2", transport = "ssh", address = "127.0.0.1", port = {closed_port()}, deploy_to = "{tmp_path}/deploy2", ssh = {{ known_hosts = "{tmp_path}/known_hosts", connect_timeout = 3 }} }},
]
""")
    (tmp_path / "tasks.py").write_text("from deploy.tasks import ns  # noqa: F401\n")
    proc = cli(tmp_path, task, "--env", "mixed")
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1, proc.stderr
    assert lines[0].startswith("web1:")  # the reachable host first, in config order
    unreachable = [line for line in lines if line.startswith("web2: UNREACHABLE")]
    assert unreachable and "Connection refused" in unreachable[0] and "Errno" not in proc.stdout
    assert "1 of 2 host(s) could not be read: web2" in proc.stderr and "Traceback" not in proc.stderr
