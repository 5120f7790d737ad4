"""`invoke deploy`, `invoke rollback` and a failed-health switch-back on a Windows host whose site
IIS serves, through real pywinrm and the strict endpoint: the scripts called, in order, are the
sequences documented in docs/windows.md ("A Windows deploy, script by script"), and the site the
model's IIS would serve is the release `current` names (pool, FastCGI application, handler,
interpreter through the junction)."""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.windows.harness import WINRM_HOST_TOML, site_with_windows_env, windows_current

DOC = Path(__file__).resolve().parents[3] / "docs" / "windows.md"
ENV = """
[env.win]
deploy_to = 'C:\\shipyard\\site'
secrets = {{ WINRM_PASSWORD = "{var}" }}
keep_releases = 1
services = [{{ kind = "iis_apppool", name = "shipsite" }}]
health = {{ url = "http://{{address}}/health/", timeout = 5 }}
site = {{ servers = ["iis"], static_root = "current/static", wsgi_module = "shipsite.wsgi", iis = {{ site = "shipsite" }} }}
""" + WINRM_HOST_TOML.format(env="win")


def documented(name: str) -> list[str]:
    """The script names listed under `<name>:` in the doc's sequence block."""
    block = re.search(r"<!-- sequence -->\n```text\n(.*?)```", DOC.read_text(), re.S).group(1)
    section = re.search(rf"^{re.escape(name)}:\n((?:  .*\n)+)", block, re.M).group(1)
    return [s for line in section.splitlines() for s in line.split("#", 1)[0].split()]


@pytest.fixture
def iis_site(tmp_path, wheel_cache):
    with site_with_windows_env(tmp_path, wheel_cache, ENV) as (repo, win):
        requirements = repo.root / "site" / "requirements.txt"
        requirements.write_text(requirements.read_text() + "wfastcgi==3.0.0\n")  # the IIS bridge, from PyPI
        repo.commit("wfastcgi for IIS")
        yield repo, win


def bundle_of(repo) -> dict:
    """The win_amd64 bundle the newest artifact's manifest names (read from the tarball)."""
    artifact = max((repo.root / "dist").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    with tarfile.open(artifact) as tar:
        return json.loads(tar.extractfile("manifest.json").read())["deps"]["win-amd64-cpython-311"]


def calls_since(win, start: int) -> list[str]:
    return [name for name, _ in win.model.calls[start:]]


@pytest.mark.slow
def test_deploy_rollback_and_switch_back_follow_the_documented_sequences(iis_site):
    repo, win = iis_site
    model = win.model
    repo.invoke("build", "deploy", "--env", "win")
    assert calls_since(win, 0) == documented("first deploy")
    assert [p["ProbeLongPath"] for n, p in model.calls if n == "facts"] == [False, False]  # the checks write nothing
    bundle = bundle_of(repo)
    installs = [p for n, p in model.calls if n == "install"]
    assert installs[0]["ManifestSha256"] == bundle["manifest_sha256"] and installs[0]["Bundle"].endswith(f"{bundle['sha256']}.tar.gz")
    site_packages = model.local(win.deploy_to) / "current" / ".deps" / "Lib" / "site-packages"
    shipped = hashlib.sha256((site_packages / "deps-manifest.json").read_bytes()).hexdigest()
    assert shipped == bundle["manifest_sha256"] and (site_packages / "tzdata").is_dir()  # Django's Windows-only dependency
    assert not (model.local(win.deploy_to) / "current" / "wheelhouse").exists()  # the payload, not the wheels
    first = windows_current(win)
    assert model.serving_problem("http://localhost/health/") == ""  # pool started, FastCGI -> current\.deps python
    python = model.handlers["shipsite"]["Shipyard-Django"].split("|")[0]
    assert python == "C:\\shipyard\\site\\current\\.deps\\Scripts\\python.exe"
    assert (model.local(win.deploy_to) / "current" / ".deps" / "Lib" / "site-packages" / "wfastcgi.py").is_file()
    live = model.local(win.deploy_to) / "current" / "web.config"
    assert ET.fromstring(live.read_bytes()).find("system.webServer/handlers") is None and "WSGI_HANDLER" in live.read_text()

    (repo.root / "site" / "v2.txt").write_text("2")
    repo.commit("v2")
    mark = len(model.calls)
    repo.invoke("build", "deploy", "--env", "win")
    assert calls_since(win, mark) == documented("next deploy")
    assert "Bundle" not in [p for n, p in model.calls[mark:] if n == "install"][0]  # the env is there: nothing sent
    second = windows_current(win)

    mark = len(model.calls)
    repo.invoke("rollback", "--env", "win")
    assert calls_since(win, mark) == documented("rollback")
    assert windows_current(win) == first and model.serving_problem("http://localhost/health/") == ""

    (repo.root / "site" / "v3.txt").write_text("3")
    repo.commit("v3")
    model.health_ok = lambda expect: expect == first  # only the new release is unhealthy
    mark = len(model.calls)
    proc = repo.invoke("build", "deploy", "--env", "win", check=False)
    assert proc.returncode == 1 and "win1: step 'publishing/health' failed" in proc.stderr
    assert calls_since(win, mark) == documented("failed health, switched back")
    assert windows_current(win) == first and second != first
    journal = model.local(win.deploy_to) / ".shipyard" / "journal.jsonl"
    outcomes = [(e["action"], e["outcome"]) for e in map(json.loads, journal.read_text().splitlines())]
    assert outcomes == [("deploy", "ok"), ("deploy", "ok"), ("rollback", "ok"), ("deploy", "rolled_back")]
    assert 'winrm.auth = "basic" over http' in proc.stderr  # announced on every run
