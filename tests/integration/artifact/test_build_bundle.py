"""The dependency bundle and the wheel-less payload a build writes beside the artifact,
checked by reading the files back with tarfile/hashlib (not through Shipyard's readers)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sysconfig
import sys
import tarfile
from pathlib import Path

import pytest

from deploy.artifact import build_artifact
from deploy.artifact.verify import read_sidecar
from deploy.config import load

pytestmark = pytest.mark.slow


def members(path) -> dict[str, bytes | None]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: (tar.extractfile(m).read() if m.isreg() else None) for m in tar}


def read_bundle(dist, entry) -> tuple[dict[str, bytes | None], dict]:
    """The bundle an artifact's manifest entry names, read back: its members and its deps manifest,
    both checked against the entry (sha256, size, key, platform)."""
    bundle = dist / entry["bundle"]
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() == entry["sha256"] and bundle.stat().st_size == entry["size"]
    assert bundle.name == f"{entry['key']}.tar.gz"
    inside = members(bundle)
    assert hashlib.sha256(inside["deps-manifest.json"]).hexdigest() == entry["manifest_sha256"]
    listed = json.loads(inside["deps-manifest.json"])
    assert listed["key"] == entry["key"] and listed["platform"] == entry["platform"]
    for path, meta in listed["files"].items():
        assert hashlib.sha256(inside[path]).hexdigest() == meta["sha256"], path
    return inside, listed


def test_bundle_is_the_installed_wheel_set_keyed_by_platform_and_the_payload_drops_the_wheels(git_repo):
    result = build_artifact(load(git_repo.config), rev="v1.0", log=lambda _: None)
    platform = f"{sysconfig.get_platform()}-{sys.implementation.cache_tag}"
    entry = result.manifest["deps"][platform]
    inside, listed = read_bundle(result.path.parent, entry)
    assert "django/__init__.py" in listed["files"] and "gunicorn/__init__.py" in listed["files"]
    assert entry["bytecode"] == listed["bytecode"] == importlib.util.MAGIC_NUMBER.hex()
    sources = [n for n in listed["files"] if n.endswith(".py")]
    compiled = {n for n in listed["files"] if n.endswith(".pyc")}
    assert len(sources) > 500 and {importlib.util.cache_from_source(n) for n in sources} == compiled
    for name in compiled:  # PEP 552 header: this Python's magic, flags 0b01 = hash-based, source never checked
        head = inside[name][:16]
        assert head[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(head[4:8], "little") == 0b01, name

    payload = result.path.parent / read_sidecar(result.path)["payload"]["file"]
    assert payload.parent.name == ".payload"
    wheel_less, whole = members(payload), members(result.path)
    assert not any(n.startswith("wheelhouse") for n in wheel_less)
    assert {n: b for n, b in whole.items() if not n.startswith("wheelhouse")} == wheel_less
    assert hashlib.sha256(payload.read_bytes()).hexdigest() == read_sidecar(result.path)["payload"]["sha256"]

    again = build_artifact(load(git_repo.config), rev="v1.0", log=lambda _: None)
    assert again.manifest["deps"][platform] == entry  # same wheel set: the same bundle, reused


def test_the_bundle_is_byte_identical_across_builds_from_scratch(git_repo, tmp_path, monkeypatch):
    """Two builds, each with its own empty wheel-tree cache and dist/, under different hash seeds
    and at different times: the same wheels give the same bundle bytes, .pyc included."""
    from deploy.artifact import bundle

    built = []
    first = build_artifact(load(git_repo.config), rev="v1.0", log=lambda _: None)
    wheels = next(p for p in Path(os.environ["SHIPYARD_WHEEL_CACHE"]).iterdir() if p.name.endswith(sys.implementation.cache_tag))
    for n, seed in ((1, "1"), (2, "random")):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        cache = tmp_path / f"cache{n}" / wheels.name
        shutil.copytree(wheels, cache)
        tree = bundle.installed_tree(cache, log=lambda _: None)
        os.utime(tree / "django" / "__init__.py", (1e9, 1e9))  # an mtime is not part of the bundle
        info, made = bundle.build_bundle(tree, first.manifest["env_key"], bundle.native_platform(), tmp_path / f"dist{n}",
                                         tmp_path / f"scratch{n}", lambda _: None, bundle.bytecode_tag())
        built.append((info, made.read_bytes()))
    assert built[0] == built[1]
    assert built[0][0] == first.manifest["deps"][bundle.native_platform()] | {"bundle": built[0][0]["bundle"]}
    assert built[0][1] == (first.path.parent / first.manifest["deps"][bundle.native_platform()]["bundle"]).read_bytes()


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_ino)
            for p in root.rglob("*") if p.is_file()}


def test_a_worker_imports_the_bundle_without_compiling_or_writing_bytecode(git_repo, tmp_path):
    """What each gunicorn worker does on a host, with bytecode writing on (as on a host) and the
    env writable: every module comes from the bundle's .pyc, nothing is compiled or added, and
    code reports the env's real paths (not the build's)."""
    result = build_artifact(load(git_repo.config), rev="v1.0", log=lambda _: None)
    env = tmp_path / "shared" / "envs" / "key"
    with tarfile.open(result.path.parent / result.manifest["deps"][f"{sysconfig.get_platform()}-{sys.implementation.cache_tag}"]["bundle"]) as tar:
        tar.extractall(env)  # our own bundle (no filter=: Debian 12 has Python 3.11.2)
    before = snapshot(env)
    probe = (
        "import sys, importlib.util\n"
        "assert not sys.flags.dont_write_bytecode\n"
        "import django, django.core.wsgi, django.urls, django.http, gunicorn.app.wsgiapp, gunicorn.workers.sync\n"
        "mods = [m for m in sys.modules.values() if getattr(m, '__file__', '') and m.__file__.startswith(sys.argv[1])]\n"
        "assert len(mods) > 100, len(mods)\n"
        "assert all(m.__spec__.cached and m.__spec__.has_location for m in mods)\n"
        "print(django.setup.__code__.co_filename)\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    out = subprocess.run([sys.executable, "-s", "-c", probe, str(env)], env={**clean, "PYTHONPATH": str(env)},
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(env / "django" / "__init__.py")
    assert snapshot(env) == before  # no .pyc written, none rewritten: nothing was compiled
