"""build_artifact against real git and hg repositories of the example site."""

from __future__ import annotations

import json
import shutil
import tarfile
import time
from pathlib import Path

import pytest

from deploy.artifact import build_artifact, verify_artifact
from deploy.config import load
from deploy.errors import ArtifactError, ConfigError, VcsError
from deploy.vcs import open_vcs

pytestmark = pytest.mark.slow


def build(repo, **kwargs):
    lines: list[str] = []
    result = build_artifact(load(repo.config), log=lines.append, **kwargs)
    return result, lines


def test_artifact_holds_app_wheelhouse_static_and_a_matching_manifest(repo):
    result, _ = build(repo, rev="v1.0")
    manifest = verify_artifact(result.path)
    assert manifest == result.manifest
    assert manifest["revision"] == open_rev(repo, "v1.0") and manifest["vcs"] == repo.kind
    assert manifest["dirty"] is False and manifest["describe"] == "v1.0"
    assert result.path.name == f"site-{manifest['short']}.tar.gz"
    files = manifest["files"]
    assert files["app/manage.py"]["mode"] == "0755" and files["app/shipsite/settings.py"]["mode"] == "0644"
    assert any(name.startswith("wheelhouse/django-5.2.19-") for name in files)
    assert "static/notes/site.css" in files and "static/admin/css/base.css" in files
    assert not any("/.git/" in n or "/.hg/" in n or "__pycache__" in n for n in files)
    with tarfile.open(result.path) as tar:
        names = tar.getnames()
        assert names == sorted(names) and "app" in names and "manifest.json" in names
        assert {m.mtime for m in tar.getmembers()} == {commit_time(repo, "v1.0")}
        assert {(m.uid, m.gid, m.uname, m.gname) for m in tar.getmembers()} == {(0, 0, "", "")}
    sidecar = json.loads(result.sidecar.read_text())
    assert sidecar["sha256"] == result.sha256 and sidecar["artifact"] == result.path.name
    assert sidecar["size"] == result.path.stat().st_size and sidecar["dirty"] is False


def open_rev(repo, rev):
    return open_vcs(repo.path).resolve(rev)


def commit_time(repo, rev):
    vcs = open_vcs(repo.path)
    return vcs.commit_time(vcs.resolve(rev))


def test_same_revision_twice_is_byte_identical(repo, tmp_path):
    first, _ = build(repo, rev="v1.0")
    kept = tmp_path / first.path.name
    shutil.copyfile(first.path, kept)
    shutil.rmtree(first.path.parent)
    time.sleep(1.1)
    second, _ = build_into(repo, tmp_path / "dist2", rev="v1.0")
    assert second.path.parent != first.path.parent
    assert second.path.read_bytes() == kept.read_bytes()
    assert second.sha256 == first.sha256


def build_into(repo, dist: Path, **kwargs):
    text = repo.config.read_text()
    repo.config.write_text(text.replace("[hooks]", f'[build]\ndist_dir = "{dist}"\n\n[hooks]'))
    try:
        return build(repo, **kwargs)
    finally:
        repo.config.write_text(text)


def test_a_flipped_byte_is_refused(repo):
    result, _ = build(repo)
    data = bytearray(result.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    result.path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="sha256 mismatch"):
        verify_artifact(result.path)


def test_dirty_tree_is_refused_then_built_with_allow_dirty(repo):
    repo.write("site/shipsite/local_change.py", "CHANGED = True\n")
    with pytest.raises(VcsError, match=r"site/shipsite/local_change.py\); commit them or pass --allow-dirty") as info:
        build(repo)
    assert info.value.exit_code == 2
    result, _ = build(repo, allow_dirty=True)
    assert result.manifest["dirty"] is True
    assert result.path.name.endswith("-dirty.tar.gz")
    assert "app/shipsite/local_change.py" in result.manifest["files"]
    assert json.loads(result.sidecar.read_text())["dirty"] is True
    verify_artifact(result.path)


def test_hooks_come_from_the_revision_not_the_working_copy(repo):
    repo.write("shipyard.toml", repo.config.read_text().replace("echo A", "echo B"))
    result, _ = build(repo, rev="v1.0")
    assert result.manifest["hooks"]["before_publishing"] == ["echo A"]
    repo.commit("hooks B")
    committed, _ = build(repo)
    assert committed.manifest["hooks"]["before_publishing"] == ["echo B"]


def test_second_build_reuses_the_wheel_cache(repo, shared_wheel_cache):
    build(repo)
    _, lines = build(repo)
    assert any(line.startswith("wheelhouse: cache hit") for line in lines)
    assert not any("pip wheel" in line for line in lines)
    markers = list(shared_wheel_cache.glob("*/.complete"))
    assert len(markers) == 2  # the wheels and their --target install, each built once


def test_a_failing_step_leaves_nothing_in_dist(repo):
    text = repo.config.read_text().replace("[hooks]", '[build]\nsettings_module = "no.such.settings"\n\n[hooks]')
    repo.config.write_text(text)
    with pytest.raises(Exception, match="collectstatic"):
        build(repo)
    dist = repo.path / "dist"
    assert not dist.exists() or list(dist.iterdir()) == []


def test_hooks_fall_back_to_the_loaded_config_when_the_revision_has_no_shipyard_toml(repo):
    ignore = repo.path / (".gitignore" if repo.kind == "git" else ".hgignore")
    ignore.write_text(ignore.read_text() + "shipyard.toml\n")
    if repo.kind == "git":
        repo.cmd("rm", "-q", "--cached", "shipyard.toml")
        repo.commit("config no longer versioned")
    else:  # not repo.commit: `hg addremove` would add the forgotten file straight back
        repo.cmd("forget", "shipyard.toml")
        repo.cmd("commit", "-q", "-m", "config no longer versioned", ".hgignore", "shipyard.toml")
    repo.write("shipyard.toml", repo.config.read_text().replace("echo A", "echo C"))
    result, _ = build(repo)
    assert result.manifest["hooks"]["before_publishing"] == ["echo C"]


def test_a_committed_bad_shipyard_toml_fails_the_build_naming_the_revision(repo):
    repo.write("shipyard.toml", repo.config.read_text().replace("before_publishing", "before_publshing"))
    bad = repo.commit("typo in hooks")
    repo.write("shipyard.toml", repo.config.read_text().replace("before_publshing", "before_publishing"))
    with pytest.raises(ConfigError, match=r"shipyard.toml@[0-9a-f]+: hooks.before_publshing: unknown key") as info:
        build(repo, rev=bad)
    assert info.value.exit_code == 2


def test_a_symlink_out_of_the_app_tree_is_refused_at_build_time(repo):
    (repo.path / "site" / "secrets").symlink_to("../../../etc")
    (repo.path / "site" / "inside.py").symlink_to("manage.py")
    repo.commit("links")
    with pytest.raises((ArtifactError, VcsError), match="secrets"):
        build(repo)


def test_a_symlink_inside_the_app_tree_is_kept(repo):
    (repo.path / "site" / "inside.py").symlink_to("manage.py")
    repo.commit("inside link")
    result, _ = build(repo)
    with tarfile.open(result.path) as tar:
        assert tar.getmember("app/inside.py").linkname == "manage.py"
    assert "app/inside.py" not in result.manifest["files"]
    verify_artifact(result.path)
