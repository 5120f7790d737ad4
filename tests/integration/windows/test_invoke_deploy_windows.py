"""The whole `invoke deploy` / `invoke rollback` to a Windows host without a site model (an app
pool recycled as a service), through real pywinrm, against the strict WS-Man endpoint answered
by the scripts' contract model. Proves the deploy flow drives WindowsHostOps end to end; not that
the scripts work on Windows. The IIS site case, with the failed-health switch-back, is
test_windows_deploy_sequence.py."""

import json

import pytest

from tests.integration.windows.harness import WINRM_HOST_TOML, PASSWORD, site_with_windows_env, windows_current

ENV = """
[env.win]
deploy_to = 'C:\\shipyard\\site'
secrets = {{ WINRM_PASSWORD = "{var}" }}
services = [{{ kind = "iis_apppool", name = "shipsite" }}]
health = {{ url = "http://{{address}}:{{app_port}}/health/", timeout = 5 }}
""" + WINRM_HOST_TOML.format(env="win")


@pytest.fixture
def win_site(tmp_path, wheel_cache):
    with site_with_windows_env(tmp_path, wheel_cache, ENV) as pair:
        yield pair


def deploy_two_releases(repo) -> str:
    """Deploy v1 and v2 to env win; return v1's release id."""
    repo.invoke("build", "deploy", "--env", "win")
    first = repo.invoke("releases", "--env", "win").stdout.split("*")[1].split()[0]
    (repo.root / "site" / "v2.txt").write_text("2")
    repo.commit("v2")
    repo.invoke("build", "deploy", "--env", "win")
    return first


@pytest.mark.slow
def test_invoke_deploy_and_rollback_to_windows_host(win_site):
    repo, win = win_site
    first = deploy_two_releases(repo)
    second = windows_current(win)
    assert first and second and first != second
    listing = repo.invoke("releases", "--env", "win").stdout
    assert f"* {second}" in listing
    repo.invoke("rollback", "--env", "win")
    assert windows_current(win) == first
    journal = win.model.local(win.deploy_to) / ".shipyard" / "journal.jsonl"
    outcomes = [(e["action"], e["outcome"]) for e in map(json.loads, journal.read_text().splitlines())]
    assert outcomes == [("deploy", "ok"), ("deploy", "ok"), ("rollback", "ok")]
    assert PASSWORD not in repo.invoke("releases", "--env", "win").stdout + (repo.root / "all-events.jsonl").read_text()
    assert win.model.recycles == ["shipsite"] * 3  # after each switch: IIS misses junction retargets
