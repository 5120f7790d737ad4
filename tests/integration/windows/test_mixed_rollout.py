"""One environment, mixed hosts: this machine (POSIX, supervisord + gunicorn) and a Windows
host (WS-Man endpoint + script model) roll out in the same batches, and a failure on the
Windows host in batch 2 puts the POSIX host of batch 1 back too."""

import json
import os

import pytest

from tests.integration.windows.harness import site_with_windows_env, windows_current

ENV = """
[env.mixed]
deploy_to = '{deploy_to}'
secrets = {{ WINRM_PASSWORD = "{var}" }}
app_port = {app_port}
supervisor = {{ program = "web", workers = 1 }}
health = {{ timeout = 8 }}
rollout = {{ batch = 1 }}

[[env.mixed.hosts]]
name = "linux1"
transport = "local"

[[env.mixed.hosts]]
name = "win1"
address = "127.0.0.1"
transport = "winrm"
user = "{user}"
deploy_to = 'C:\\\\shipyard\\\\site'
winrm = {{ scheme = "http", port = {port}, auth = "basic", password_secret = "WINRM_PASSWORD", operation_timeout = 2, read_timeout = 5 }}
"""


@pytest.fixture
def mixed(tmp_path, wheel_cache):
    with site_with_windows_env(tmp_path, wheel_cache, ENV) as (repo, win):
        yield repo, win
        repo.invoke("stop", "--env", "mixed", check=False)


def linux_current(repo):
    link = repo.root / ".shipyard" / "mixed" / "current"
    return os.readlink(link).rsplit("/", 1)[-1] if link.is_symlink() else None


@pytest.mark.slow
def test_mixed_environment_rolls_and_reverts_together(mixed):
    repo, win = mixed
    repo.invoke("build", "deploy", "--env", "mixed")
    good = linux_current(repo)
    assert good and windows_current(win) == good and repo.health()["release"] == good

    (repo.root / "site" / "v2.txt").write_text("2")
    repo.commit("v2")
    win.model.health_ok = lambda expect: expect == good  # the new release fails on Windows, batch 2
    events = repo.root / "mixed-events.jsonl"
    proc = repo.invoke("build", "deploy", "--env", "mixed", "--events", str(events), check=False)
    assert proc.returncode == 1 and "win1: step 'publishing/health' failed" in proc.stderr
    assert linux_current(repo) == good and windows_current(win) == good
    assert repo.health()["release"] == good
    rollbacks = [e["host"] for e in map(json.loads, events.read_text().splitlines()) if e["kind"] == "rollback"]
    assert sorted(rollbacks) == ["linux1", "win1"]
    start = next(e for e in map(json.loads, events.read_text().splitlines()) if e["kind"] == "run.start")
    assert start["batches"] == [["linux1"], ["win1"]]


READ_ONLY_VERBS = {"facts", "releases", "doctor", "file_hash", "get_file", "health"}


@pytest.mark.slow
def test_linux_wheels_for_a_windows_host_stop_the_deploy_before_any_host_is_touched(mixed):
    """A binary wheel built for Linux (MarkupSafe's manylinux wheel, which the controller's bundle
    installs happily) cannot serve the Windows host: the deploy is refused naming win1 and the
    wheel while neither host has been written to, the POSIX one included."""
    repo, win = mixed
    requirements = repo.root / "site" / "requirements.txt"
    requirements.write_text(requirements.read_text() + "MarkupSafe==3.0.3\n")
    repo.commit("a Linux binary wheel")
    proc = repo.invoke("build", "deploy", "--env", "mixed", check=False)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "win1: a Windows host cannot install the wheelhouse's markupsafe-3.0.3-cp311-cp311-manylinux" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    linux_root = repo.root / ".shipyard" / "mixed"
    assert not linux_root.exists() or not any(linux_root.iterdir()), sorted(linux_root.rglob("*"))
    assert {name for name, _ in win.model.calls} <= READ_ONLY_VERBS, win.model.calls
    assert not win.model.local(win.deploy_to).exists() or not any(win.model.local(win.deploy_to).iterdir())
