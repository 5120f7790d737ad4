"""PosixHostOps through the real local transport: lock, switch, listing, journal."""

import os

import pytest

from deploy.config import HostConfig
from deploy.errors import LockHeld
from deploy.release.layout import Layout
from deploy.release.posix import PosixHostOps
from deploy.transport.local import LocalTransport


@pytest.fixture
def ops(tmp_path):
    return PosixHostOps(LocalTransport(HostConfig(name="here", transport="local")), Layout(str(tmp_path / "site")), 30)


def owner(token):
    return {"token": token, "user": f"user-{token}", "pid": 1, "machine": "m", "since": "now", "revision": "abc"}


def test_lock_is_exclusive_and_only_owner_releases(ops):
    ops.prepare([], [])
    ops.acquire_lock(owner("aaa"))
    with pytest.raises(LockHeld, match="user-aaa"):
        ops.acquire_lock(owner("bbb"))
    ops.release_lock("bbb")
    assert ops.read_lock()["token"] == "aaa"
    ops.release_lock("aaa")
    assert ops.read_lock() is None
    ops.acquire_lock(owner("bbb"))


def test_switch_is_a_relative_symlink_and_listing_marks_current(ops, tmp_path):
    ops.prepare(["media"], [])
    for rid in ("20261125-000001-aaaaaaa", "20261125-000002-bbbbbbb"):
        os.makedirs(ops.layout.release(rid))
        with open(ops.layout.release_info(rid), "w") as f:
            f.write('{"status": "good", "revision": "%s"}' % rid[-7:])
    ops.switch("20261125-000002-bbbbbbb")
    assert os.readlink(ops.layout.current) == "releases/20261125-000002-bbbbbbb"
    listing = ops.releases()
    assert [(r.id[-7:], r.current, r.status) for r in listing] == [("aaaaaaa", False, "good"), ("bbbbbbb", True, "good")]
    ops.set_status("20261125-000002-bbbbbbb", "rolled_back", {"note": "x"})
    assert ops.releases()[1].status == "rolled_back"
    assert not ops.remove_releases(["20261125-000001-aaaaaaa"])
    assert [r.id for r in ops.releases()] == ["20261125-000002-bbbbbbb"]
    ops.switch(None)
    assert ops.current() is None


def test_switch_to_missing_release_fails_and_keeps_current(ops):
    ops.prepare([], [])
    os.makedirs(ops.layout.release("20261125-000001-aaaaaaa"))
    ops.switch("20261125-000001-aaaaaaa")
    with pytest.raises(Exception):
        ops.switch("20261125-000009-fffffff")
    assert ops.current() == "20261125-000001-aaaaaaa"


def test_missing_linked_file_is_named(ops):
    with pytest.raises(Exception, match="missing linked file: shared/local_settings.py"):
        ops.prepare([], ["local_settings.py"])


def test_journal_round_trip(ops):
    ops.append_journal({"action": "deploy", "n": 1})
    ops.append_journal({"action": "rollback", "n": 2})
    assert [e["n"] for e in ops.read_journal()] == [1, 2]


def test_retention_removes_artifacts_and_envs_no_remaining_release_uses(ops, tmp_path):
    ops.prepare([], [])
    L = ops.layout
    kept, gone = "a" * 64, "b" * 64
    os.makedirs(L.release("20261125-000001-aaaaaaa"))
    with open(L.release_info("20261125-000001-aaaaaaa"), "w") as f:
        f.write('{"status": "good", "artifact_sha256": "%s"}' % kept)
    for sha in (kept, gone):
        open(L.artifact(sha), "w").close()
    for key in ("used", "unused"):
        os.makedirs(L.dependency_env(key))
    os.symlink(L.dependency_env("used"), f"{L.release('20261125-000001-aaaaaaa')}/.deps")
    removed = ops.prune_unused()
    assert sorted(os.listdir(f"{L.meta}/artifacts")) == [f"{kept}.tar.gz"]
    assert os.listdir(L.shared_path("envs")) == ["used"]
    assert sorted(removed) == [f".shipyard/artifacts/{gone}.tar.gz", "shared/envs/unused"]



def test_facts_report_the_python_platform_tag_and_bytecode_magic_the_bundle_is_matched_on(ops, tmp_path):
    """Read by running the host's own Python (the venv's and Debian's /usr/bin/python3 here): the
    magic it reports is the one that interpreter writes into a .pyc header, read back from a file
    it compiled; the tag is the one it names its .pyc with."""
    import subprocess
    import sys
    import sysconfig

    (tmp_path / "m.py").write_text("x = 1\n")
    for n, python in enumerate(sorted({sys.executable, "/usr/bin/python3"})):
        subprocess.run([python, "-c", f"import py_compile; py_compile.compile('m.py', cfile='m{n}.pyc')"], cwd=tmp_path, check=True)
        tag = subprocess.run([python, "-c", "import sys; print(sys.implementation.cache_tag)"], capture_output=True,
                             text=True, check=True).stdout.strip()
        facts = ops.facts(python, ["k" * 64])
        assert facts == {"platform": f"{sysconfig.get_platform()}-{tag}", "envs": [],
                         "bytecode": (tmp_path / f"m{n}.pyc").read_bytes()[:4].hex()}
    assert ops.facts("/nonexistent/python3", []) == {"platform": "unknown", "envs": []}
