"""install.ps1 with a dependency bundle, through the strict endpoint and the contract model (held
to the messages the script and the library throw): a bare venv whose site-packages is the bundle,
checked against its deps manifest; reuse only of an env whose deps manifest is the artifact's.
The good bundle is the real one: pip's win_amd64 tree of the vendored wheels (deploy.artifact.windeps),
written by deploy.artifact.bundle; the bad ones are written here with tarfile + hashlib."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from deploy.artifact import bundle as bundles
from deploy.artifact import windeps
from deploy.release.layout import Layout
from deploy.release.windows import WindowsHostOps
from deploy.transport import open_transport
from deploy.transport.powershell import ScriptFailed
from tests.integration.windows.test_hostops_e2e import RID1, RID2, make_artifact

WHEELS = Path(__file__).resolve().parents[2] / "fixtures" / "wheels"
PYTHON = "C:\\Python311\\python.exe"


def build_real_bundle(root: Path) -> tuple[dict, Path]:
    """win_amd64 tree of click + colorama + MarkupSafe from the vendored wheels, as `invoke build` makes it."""
    import os

    (root / "requirements.txt").write_text("click==8.1.8\nMarkupSafe==3.0.3\n")
    old = {k: os.environ.get(k) for k in ("PIP_NO_INDEX", "PIP_FIND_LINKS", "PIP_CONFIG_FILE")}
    os.environ.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(WHEELS), PIP_CONFIG_FILE="/dev/null")
    try:
        (root / "native").mkdir()
        wheels = windeps.windows_wheels(root / "requirements.txt", root / "native", root / "cache", "3.11", lambda _: None)
        tree = windeps.windows_tree(wheels, "3.11", lambda _: None)
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return bundles.build_bundle(tree, "e" * 64, "win-amd64-cpython-311", root / "dist", root, lambda _: None)


@pytest.fixture(scope="module")
def real_bundle(tmp_path_factory) -> tuple[dict, Path]:
    return build_real_bundle(tmp_path_factory.mktemp("winbundle"))


def handmade_bundle(path: Path, key: str, files: dict[str, bytes], listed: dict[str, bytes] | None = None) -> dict:
    """A bundle whose deps-manifest.json names `listed` (default: `files`), with the entry the
    artifact's manifest would carry for it."""
    named = files if listed is None else listed
    text = json.dumps({"key": key, "platform": "win-amd64-cpython-311", "env_key": "e" * 64, "links": {},
                       "files": {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d), "mode": "0644"}
                                 for n, d in named.items()}}).encode()
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {**files, "deps-manifest.json": text}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"key": key, "manifest_sha256": hashlib.sha256(text).hexdigest(), "sha256": sha}


@pytest.fixture
def ops(windows_host, tmp_path):
    transport = open_transport(windows_host.host, windows_host.env)
    ops = WindowsHostOps(transport, Layout(windows_host.deploy_to, windows=True), timeout=30)
    ops.prepare([], [])
    for rid in (RID1, RID2):
        sha = make_artifact(tmp_path / f"{rid}.tar.gz", rid)
        ops.unpack(ops.upload(tmp_path / f"{rid}.tar.gz", sha), rid, {})
    yield ops
    transport.close()


def env_of(windows_host, ops, key) -> Path:
    return windows_host.model.local(ops.layout.dependency_env(key))


def test_the_real_bundle_becomes_a_venv_once_and_is_reused_only_with_its_manifest(ops, windows_host, real_bundle):
    info, path = real_bundle
    answer = ops.install_bundle(RID1, PYTHON, info, path)
    env = env_of(windows_host, ops, info["key"])
    listed = json.loads((env / "Lib" / "site-packages" / "deps-manifest.json").read_text())
    assert answer.created and answer.verified == len(listed["files"]) > 20
    assert (env / "Lib" / "site-packages" / "markupsafe" / "_speedups.cp311-win_amd64.pyd").is_file()
    assert (env / "Scripts" / "python.exe").is_file() and (env / ".shipyard-complete").is_file()
    release_deps = windows_host.model.local(ops.layout.release(RID1)) / ".deps"
    assert release_deps.resolve() == env.resolve()
    again = ops.install_bundle(RID2, PYTHON, info, None)  # same key: nothing sent, nothing rebuilt
    assert not again.created and again.verified == 0
    with pytest.raises(ScriptFailed, match=r"does not match its key \(deps-manifest.json sha256 [0-9a-f]{64}, the artifact "
                                           r"names 0{64}\): remove it and deploy again"):
        ops.install_bundle(RID2, PYTHON, {**info, "manifest_sha256": "0" * 64}, None)
    assert (env / "Lib" / "site-packages" / "markupsafe").is_dir()  # refused, never removed or used


@pytest.mark.parametrize("plant, message", [
    ("extra", r"install: evil\.pth is not in the manifest"),
    ("changed", r"install: pkg/mod\.py has sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}"),
    ("missing", r"install: 1 file\(s\) of the manifest missing, the first pkg/gone\.py"),
    ("other key", r"does not match its key \(deps-manifest\.json is for f{64}\)"),
    ("tampered", r"dependency bundle sha256 mismatch: got [0-9a-f]{64}, expected [0-9a-f]{64}"),
    ("not sent", r"no dependency bundle was sent for .*, and it is not there"),
])
def test_a_bundle_that_is_not_its_manifest_leaves_no_environment(ops, windows_host, tmp_path, plant, message):
    key = "a" * 64
    files = {"pkg/__init__.py": b"", "pkg/mod.py": b"x = 1\n"}
    path = tmp_path / "bundle.tar.gz"
    listed = {"extra": files, "changed": {**files, "pkg/mod.py": b"x = 2\n"},
              "missing": {**files, "pkg/gone.py": b"y"}}.get(plant)
    real_files = {**files, "evil.pth": b"import os"} if plant == "extra" else files
    info = handmade_bundle(path, "f" * 64 if plant == "other key" else key, real_files, listed)
    info["key"] = key
    if plant == "tampered":
        info["sha256"] = "0" * 64
    with pytest.raises(ScriptFailed, match=message):
        if plant == "tampered":  # the file on the host is not the one the manifest names
            remote = ops.upload(path, hashlib.sha256(path.read_bytes()).hexdigest())
            ops.transport.call("install", {"ReleaseDir": ops.layout.release(RID1), "SharedDir": ops.layout.shared,
                                           "Python": PYTHON, "EnvDir": ops.layout.dependency_env(key), "Bundle": remote,
                                           "BundleSha256": "0" * 64, "ManifestSha256": info["manifest_sha256"]}, timeout=30)
        else:
            ops.install_bundle(RID1, PYTHON, info, None if plant == "not sent" else path)
    assert not env_of(windows_host, ops, key).exists()
    assert not (windows_host.model.local(ops.layout.release(RID1)) / ".deps").exists()


def test_an_interrupted_bundle_install_is_made_again(ops, windows_host, tmp_path):
    key = "b" * 64
    path = tmp_path / "bundle.tar.gz"
    info = handmade_bundle(path, key, {"m.py": b"1"})
    env = env_of(windows_host, ops, key)
    (env / "Lib" / "site-packages").mkdir(parents=True)
    (env / "Lib" / "site-packages" / "half.py").write_text("left by a killed session")  # no completion marker
    assert ops.install_bundle(RID1, PYTHON, info, path).verified == 1
    assert sorted(p.name for p in (env / "Lib" / "site-packages").iterdir()) == ["deps-manifest.json", "m.py"]
