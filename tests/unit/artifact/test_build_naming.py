"""Artifact names, sidecars and picking the newest artifact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.artifact import artifact_name, latest_artifact, read_sidecar, sidecar_path
from deploy.artifact.builder import wheel_cache_dir
from deploy.config import Loaded, ShipyardConfig
from deploy.errors import ArtifactError, UsageError


def test_artifact_name_and_sidecar_path():
    assert artifact_name("site", "abc1234", False) == "site-abc1234.tar.gz"
    assert artifact_name("site", "0123456789ab", True) == "site-0123456789ab-dirty.tar.gz"
    assert sidecar_path(Path("/d/site-abc1234.tar.gz")) == Path("/d/site-abc1234.tar.gz.json")


def put(dist: Path, name: str, built_at: str) -> Path:
    artifact = dist / name
    artifact.write_bytes(b"x")
    sidecar_path(artifact).write_text(json.dumps({"artifact": name, "sha256": "0" * 64, "built_at": built_at}))
    return artifact


def test_latest_artifact_goes_by_built_at_not_by_name(tmp_path):
    put(tmp_path, "site-fffffff.tar.gz", "2026-11-25T10:00:00.000000+00:00")
    newest = put(tmp_path, "site-0000000.tar.gz", "2026-11-25T12:00:00.000000+00:00")
    put(tmp_path, "site-aaaaaaa.tar.gz", "2026-11-25T11:00:00.000000+00:00")
    (tmp_path / "site-1111111.tar.gz.json").write_text(json.dumps({"built_at": "2099-01-01"}))  # artifact gone
    assert latest_artifact(tmp_path) == newest
    assert read_sidecar(newest)["artifact"] == "site-0000000.tar.gz"


def test_latest_artifact_in_an_empty_dist_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="invoke build") as info:
        latest_artifact(tmp_path)
    assert info.value.exit_code == 2


def test_read_sidecar_missing_is_an_artifact_error(tmp_path):
    with pytest.raises(ArtifactError, match="no sidecar"):
        read_sidecar(tmp_path / "site-abc.tar.gz")


def test_wheel_cache_env_var_overrides_config(tmp_path, monkeypatch):
    cfg = Loaded(tmp_path / "shipyard.toml", ShipyardConfig())
    monkeypatch.delenv("SHIPYARD_WHEEL_CACHE", raising=False)
    assert wheel_cache_dir(cfg) == (tmp_path / ".shipyard/cache/wheels").resolve()
    monkeypatch.setenv("SHIPYARD_WHEEL_CACHE", str(tmp_path / "elsewhere"))
    assert wheel_cache_dir(cfg) == tmp_path / "elsewhere"
