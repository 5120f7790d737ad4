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
