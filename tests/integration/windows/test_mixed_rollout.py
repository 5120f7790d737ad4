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


def assert_no_host_touched(repo, win) -> None:
    linux_root = repo.root / ".shipyard" / "mixed"
    assert not linux_root.exists() or not any(linux_root.iterdir()), sorted(linux_root.rglob("*"))
    assert {name for name, _ in win.model.calls} <= READ_ONLY_VERBS, win.model.calls
    assert not win.model.local(win.deploy_to).exists() or not any(win.model.local(win.deploy_to).iterdir())


def add_markupsafe(repo, build_toml: str = "") -> None:
    requirements = repo.root / "site" / "requirements.txt"
    requirements.write_text(requirements.read_text() + "MarkupSafe==3.0.3\n")
    if build_toml:
        cfg = repo.root / "shipyard.toml"
        cfg.write_text(cfg.read_text().replace("[project]", f"[build]\n{build_toml}\n\n[project]"))
    repo.commit("a binary wheel")


@pytest.mark.slow
def test_a_binary_wheel_reaches_each_host_built_for_its_platform(mixed):
    """MarkupSafe's C extension: the Linux host's env has the manylinux build, the Windows host's
    the win_amd64 one, from the bundle the controller made for it (pip download from PyPI)."""
    repo, win = mixed
    add_markupsafe(repo)
    repo.invoke("build", "deploy", "--env", "mixed")
    linux_env = (repo.root / ".shipyard" / "mixed" / "current" / ".deps").resolve()
    assert any(p.name.endswith("x86_64-linux-gnu.so") for p in (linux_env / "markupsafe").iterdir())
    windows_site = win.model.local(win.deploy_to) / "current" / ".deps" / "Lib" / "site-packages"
    assert [p.name for p in (windows_site / "markupsafe").glob("*.pyd")] == ["_speedups.cp311-win_amd64.pyd"]
    assert not list((windows_site / "markupsafe").glob("*.so"))


@pytest.mark.slow
def test_linux_wheels_for_a_windows_host_stop_the_deploy_before_any_host_is_touched(mixed):
    """Without Windows bundles (build.windows_bundles = false) the Windows host installs the wheelhouse,
    whose MarkupSafe is the manylinux wheel: the deploy is refused naming win1 and the wheel while
    neither host has been written to, the POSIX one included."""
    repo, win = mixed
    add_markupsafe(repo, "windows_bundles = false")
    proc = repo.invoke("build", "deploy", "--env", "mixed", check=False)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "win1: a Windows host cannot install the wheelhouse's markupsafe-3.0.3-cp311-cp311-manylinux" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert_no_host_touched(repo, win)


@pytest.mark.slow
def test_a_windows_python_the_bundle_is_not_for_stops_the_deploy_before_any_host_is_touched(mixed):
    """The Windows host's Python reports 3.12 while the bundle is for the configured 3.11 (or its
    Python does not start): refused with what to change, nothing written on either host."""
    repo, win = mixed
    win.model.host_facts.python = {"python_platform": "win-amd64-cpython-312", "python_error": ""}
    proc = repo.invoke("build", "deploy", "--env", "mixed", check=False)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert ("win1: runs Python for win-amd64-cpython-312, the artifact's dependencies are built for "
            "linux-x86_64-cpython-311, win-amd64-cpython-311: set python_version = \"3.12\" on win1") in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert_no_host_touched(repo, win)
    win.model.host_facts.python = {"python_platform": "", "python_error": "The system cannot find the file specified"}
    proc = repo.invoke("deploy", "--env", "mixed", check=False)
    assert proc.returncode != 0 and "win1: its Python (python3) did not run: The system cannot find the file specified" in proc.stderr
    assert_no_host_touched(repo, win)
