"""A requirement published only as a setup.py sdist (as wfastcgi, the IIS bridge, is on PyPI)
builds into the wheelhouse whatever setuptools and `wheel` the controller's own venv has: the
venv Debian's python3 makes has setuptools 66 and no `wheel`, and pip's legacy `setup.py
bdist_wheel` path fails there. A local directory, so no wheel cache can hide a failure."""

from __future__ import annotations

import zipfile

from deploy.artifact.deps import cached_wheels


def test_a_setup_py_only_project_builds_into_the_wheelhouse(tmp_path):
    project = tmp_path / "legacy_bridge"
    project.mkdir()
    (project / "setup.py").write_text("from setuptools import setup\n"
                                      "setup(name='legacy-bridge', version='1.0', py_modules=['legacy_bridge'])\n")
    (project / "legacy_bridge.py").write_text("ANSWER = 42\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"{project}\n")
    seen: list[str] = []
    wheels = cached_wheels(requirements, tmp_path / "cache", seen.append)
    built = sorted(wheels.glob("*.whl"))
    assert [w.name.split("-")[0] for w in built] == ["legacy_bridge"], seen
    with zipfile.ZipFile(built[0]) as whl:  # read by zipfile, not by Shipyard
        assert whl.read("legacy_bridge.py") == b"ANSWER = 42\n"
        assert any(n.endswith(".dist-info/WHEEL") for n in whl.namelist())
