"""A Windows host in the config makes `invoke build` produce a win_amd64 bundle too: the real pip
resolves and installs real wheels for Windows (tests/fixtures/wheels: MarkupSafe's win_amd64 and
manylinux wheels, click, and colorama, which click needs on Windows only), offline. Checked by
reading the bundle back with tarfile/zipfile/hashlib, and against the wheels' own RECORD files."""

from __future__ import annotations

import base64
import csv
import io
import zipfile
from pathlib import Path

import pytest

from deploy.artifact import build_artifact
from deploy.config import load
from deploy.errors import ConfigError, StepFailed
from tests.integration.artifact.test_build_bundle import read_bundle

pytestmark = pytest.mark.slow
WHEELS = Path(__file__).resolve().parents[2] / "fixtures" / "wheels"
WINDOWS_ENV = """
[env.prod]
deploy_to = 'C:\\\\apps\\\\site'
[[env.prod.hosts]]
name = "win1"
transport = "winrm"
python_version = "{version}"
"""


@pytest.fixture
def offline_pip(monkeypatch, tmp_path):
    """pip sees only the vendored wheels: no index, in CI or here."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(WHEELS))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("SHIPYARD_WHEEL_CACHE", str(tmp_path / "wheel-cache"))


def windows_site(git_repo, version="3.11", extra=""):
    git_repo.write("site/requirements.txt", "click==8.1.8\nMarkupSafe==3.0.3\n")
    git_repo.write("shipyard.toml", git_repo.config.read_text() + WINDOWS_ENV.format(version=version) + extra)
    git_repo.commit("windows host")
    return load(git_repo.config)


def recorded(wheel: Path) -> dict[str, tuple[str, int]]:
    """What the wheel's own RECORD says each installed file is (sha256 hex, size), .dist-info's
    RECORD and INSTALLER-like files aside."""
    with zipfile.ZipFile(wheel) as z:
        record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
        rows = csv.reader(io.StringIO(z.read(record).decode()))
        out = {}
        for path, digest, size in rows:
            if digest.startswith("sha256="):
                raw = base64.urlsafe_b64decode(digest[7:] + "==")
                out[path] = (raw.hex(), int(size))
        return out


def test_a_windows_host_gets_a_win_amd64_bundle_resolved_and_installed_for_windows(git_repo, offline_pip):
    cfg = windows_site(git_repo)
    result = build_artifact(cfg, log=lambda _: None)
    deps = result.manifest["deps"]
    assert sorted(deps) == ["linux-x86_64-cpython-311", "win-amd64-cpython-311"]
    win = deps["win-amd64-cpython-311"]
    inside, listed = read_bundle(result.path.parent, win)
    assert listed["platform"] == "win-amd64-cpython-311" and win["key"] != deps["linux-x86_64-cpython-311"]["key"]
    # the Windows binary, not the Linux one; colorama although Linux would not want it; no console scripts
    assert "markupsafe/_speedups.cp311-win_amd64.pyd" in listed["files"]
    assert not any(n.endswith(".so") for n in inside) and not any(n.startswith("bin/") for n in inside)
    assert "colorama/__init__.py" in listed["files"] and "click/__init__.py" in listed["files"]
    assert not any("__pycache__" in n for n in inside)
    for wheel in ("markupsafe-3.0.3-cp311-cp311-win_amd64.whl", "click-8.1.8-py3-none-any.whl",
                  "colorama-0.4.6-py2.py3-none-any.whl"):
        for path, (digest, size) in recorded(WHEELS / wheel).items():
            if ".dist-info/" not in path:
                assert listed["files"][path]["sha256"] == digest and listed["files"][path]["size"] == size, path
    _, linux = read_bundle(result.path.parent, deps["linux-x86_64-cpython-311"])
    assert "colorama/__init__.py" not in linux["files"]  # markers evaluated per platform
    assert any(p.startswith("markupsafe/_speedups.cpython-311") and p.endswith(".so") for p in linux["files"])

    again = build_artifact(load(git_repo.config), log=lambda _: None)
    assert again.manifest["deps"] == deps  # same wheel sets: the same bundles, reused


def test_each_windows_python_gets_its_own_bundle_and_none_when_switched_off(git_repo, offline_pip):
    cfg = windows_site(git_repo, "3.12")
    with pytest.raises(StepFailed, match="dependencies for win-amd64-cpython-312"):  # no cp312 MarkupSafe wheel among the fixtures
        build_artifact(cfg, log=lambda _: None)
    git_repo.write("shipyard.toml", git_repo.config.read_text().replace("[project]", "[build]\nwindows_bundles = false\n\n[project]"))
    git_repo.commit("no windows bundles")
    result = build_artifact(load(git_repo.config), log=lambda _: None)
    assert sorted(result.manifest["deps"]) == ["linux-x86_64-cpython-311"]


@pytest.mark.parametrize("bad, message", [
    ('"3"', "python_version"), ('"3.11.2"', "python_version"),
    ('"3.11"\n[[env.prod.hosts]]\nname = "web1"\npython_version = "3.11"', "python_version is for Windows hosts"),
])
def test_python_version_is_checked_at_load(git_repo, bad, message):
    git_repo.write("shipyard.toml", git_repo.config.read_text() + WINDOWS_ENV.replace('"{version}"', bad))
    with pytest.raises(ConfigError, match=message):
        load(git_repo.config)
