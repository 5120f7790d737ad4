"""The dependency bundle and the wheel-less payload a build writes beside the artifact,
checked by reading the files back with tarfile/hashlib (not through Shipyard's readers)."""

from __future__ import annotations

import hashlib
import json
import sysconfig
import sys
import tarfile

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
    assert not any("__pycache__" in n for n in inside)  # --no-compile: the tree is reproducible

    payload = result.path.parent / read_sidecar(result.path)["payload"]["file"]
    assert payload.parent.name == ".payload"
    wheel_less, whole = members(payload), members(result.path)
    assert not any(n.startswith("wheelhouse") for n in wheel_less)
    assert {n: b for n, b in whole.items() if not n.startswith("wheelhouse")} == wheel_less
    assert hashlib.sha256(payload.read_bytes()).hexdigest() == read_sidecar(result.path)["payload"]["sha256"]

    again = build_artifact(load(git_repo.config), rev="v1.0", log=lambda _: None)
    assert again.manifest["deps"][platform] == entry  # same wheel set: the same bundle, reused
