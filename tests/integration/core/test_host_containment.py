"""The POSIX host verbs refuse to write, remove or link through a path that resolves
outside the release (or shared/), whatever links the host's tree already holds."""

import json
import os

import pytest

from deploy.config import HostConfig
from deploy.errors import ContainmentError
from deploy.release.layout import Layout
from deploy.release.posix import PosixHostOps
from deploy.transport.local import LocalTransport

RID = "20261125-000001-aaaaaaa"


@pytest.fixture
def world(tmp_path):
    """A deploy_to with one release, and a precious directory outside it."""
    outside = tmp_path / "precious"
    (outside / "uploads").mkdir(parents=True)
    (outside / "uploads" / "keep.txt").write_text("keep")
    (outside / "file.json").write_text("{}")
    ops = PosixHostOps(LocalTransport(HostConfig(name="here", transport="local")), Layout(str(tmp_path / "site")), 30)
    ops.prepare(["media/uploads"], [])
    rel = tmp_path / "site" / "releases" / RID
    (rel / "app").mkdir(parents=True)
    (rel / "release.json").write_text(json.dumps({"status": "pending"}))
    return ops, rel, outside


def snapshot(root):
    return sorted((str(p.relative_to(root)), p.read_bytes() if p.is_file() else b"") for p in root.rglob("*"))


def test_link_shared_never_removes_through_a_link_out_of_the_release(world):
    ops, rel, outside = world
    before = snapshot(outside)
    os.symlink(outside, rel / "app" / "media")
    with pytest.raises(ContainmentError, match="outside"):
        ops.link_shared(RID, ["media/uploads"], [])
    assert snapshot(outside) == before


def test_set_status_never_writes_through_a_release_json_link(world):
    ops, rel, outside = world
    (rel / "release.json").unlink()
    os.symlink(outside / "file.json", rel / "release.json")
    with pytest.raises(ContainmentError):
        ops.set_status(RID, "failed", {"error": "x"})
    assert (outside / "file.json").read_text() == "{}"


def test_the_journal_is_never_appended_through_a_link(world, tmp_path):
    ops, _rel, outside = world
    ops.append_journal({"action": "deploy", "outcome": "ok"})
    journal = tmp_path / "site" / ".shipyard" / "journal.jsonl"
    assert oct(journal.stat().st_mode & 0o777) == "0o600" and len(ops.read_journal()) == 1
    journal.unlink()
    os.symlink(outside / "file.json", journal)
    with pytest.raises(ContainmentError):
        ops.append_journal({"action": "deploy", "outcome": "ok"})
    assert (outside / "file.json").read_text() == "{}" and oct((outside / "file.json").stat().st_mode & 0o777) != "0o600"


def test_write_files_never_writes_through_a_link(world):
    ops, rel, outside = world
    before = snapshot(outside)
    os.symlink(outside, rel / "app" / "conf")
    with pytest.raises(ContainmentError):
        ops.write_files(RID, {"app/conf/settings.py": "X = 1\n"}, [])
    assert snapshot(outside) == before


def test_install_never_links_deps_through_a_link(world):
    ops, rel, outside = world
    os.symlink(outside, rel / ".deps")
    with pytest.raises(ContainmentError):
        ops.install(RID, "python3", "0" * 64)
    assert (rel / ".deps").resolve() == outside


def test_retention_never_removes_outside_releases_nor_current(world):
    ops, rel, outside = world
    before = snapshot(outside)
    os.symlink(outside, rel.parent / "20261125-000000-bbbbbbb")
    ops.switch(RID)
    assert set(ops.remove_releases(["20261125-000000-bbbbbbb", RID])) == {"20261125-000000-bbbbbbb", RID}
    assert snapshot(outside) == before and rel.is_dir()


def test_linked_dirs_that_stay_inside_still_work(world):
    ops, rel, outside = world
    ops.link_shared(RID, ["media/uploads"], [])
    assert os.readlink(rel / "app" / "media" / "uploads") == ops.layout.shared_path("media/uploads")
    ops.link_shared(RID, ["media/uploads"], [])  # twice: the existing shared link is fine


def test_leftovers_of_a_crashed_run_are_removed_and_nothing_else(world):
    ops, rel, outside = world
    site = rel.parent.parent
    planted = [site / "releases" / f".{RID}.tmp" / "app", site / "shared" / "envs" / ("0" * 64 + ".tmp")]
    for d in planted:
        d.mkdir(parents=True)
    artifacts = site / ".shipyard" / "artifacts"
    (artifacts / "abc.tar.gz.1234abcd.part").write_text("half")
    (artifacts / f"delta-{RID}.tar.gz").write_text("delta")
    (artifacts / ("f" * 64 + ".tar.gz")).write_text("a whole artifact, kept for reuse")
    (site / ".current.tmp").symlink_to("releases/x")
    ops.clean_leftovers()
    assert not any(d.parent.exists() for d in planted[:1]) and not planted[1].exists()
    assert sorted(p.name for p in artifacts.iterdir()) == ["f" * 64 + ".tar.gz"]
    assert not (site / ".current.tmp").is_symlink() and rel.is_dir() and (site / "shared" / "envs").is_dir()
