"""A POSIX host's `starting` and `finishing` in one remote command each (HostOps.begin, .finish),
through the real local transport, against the verb-by-verb path (the base HostOps composition of
the single verbs) as the oracle: same tree, same records, same lock; and every refusal of the
single verbs kept (held lock, missing linked file, links out of the release or .shipyard/)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from deploy.config import HostConfig
from deploy.engine.finish import predicted_prune
from deploy.errors import CommandFailed, ContainmentError, LockHeld
from deploy.release.hostops import GOOD, HostOps, ReleaseInfo, pending_record
from deploy.release.layout import Layout
from deploy.release.posix import PosixHostOps
from deploy.release.retention import releases_to_prune
from deploy.secrets import register
from deploy.transport.local import LocalTransport

NEW = "20261202-000009-fffffff"


def ops_at(root: Path) -> PosixHostOps:
    return PosixHostOps(LocalTransport(HostConfig(name="here", transport="local")), Layout(str(root)), 30)


def owner(token: str) -> dict:
    return {"token": token, "user": f"user-{token}", "pid": 1, "machine": "m", "since": "now", "revision": "abc"}


def commands(ops: PosixHostOps, action) -> tuple[object, int]:
    before = ops.transport.commands
    result = action()
    return result, ops.transport.commands - before


def plant_release(ops: PosixHostOps, rid: str, status: str) -> None:
    os.makedirs(ops.layout.release(rid), exist_ok=True)
    Path(ops.layout.release_info(rid)).write_text(json.dumps({"id": rid, "status": status, "artifact_sha256": "ab"}) + "\n")


def tree(root: Path) -> list[tuple[str, str, bytes]]:
    """Every path under root with its kind and content (links by target); the lock file aside."""
    out = []
    for p in sorted(root.rglob("*")):
        kind = "link" if p.is_symlink() else "dir" if p.is_dir() else "file"
        body = os.readlink(p).encode() if kind == "link" else p.read_bytes() if kind == "file" else b""
        out.append((str(p.relative_to(root)), kind, body))
    return out


def test_begin_is_one_command_that_prepares_locks_cleans_and_lists(tmp_path):
    ops = ops_at(tmp_path / "site")
    (tmp_path / "site" / "shared").mkdir(parents=True)
    (tmp_path / "site" / "shared" / "local.py").write_text("X = 1\n")
    plant_release(ops, "20261202-000001-aaaaaaa", GOOD)
    ops.switch("20261202-000001-aaaaaaa")
    leftover = Path(ops.layout.release(".20261202-000002-bbbbbbb.tmp"))
    leftover.mkdir()
    listing, n = commands(ops, lambda: ops.begin(owner("aaa"), ["media"], ["local.py"]))
    assert n == 1
    assert [(r.id, r.current, r.status) for r in listing] == [("20261202-000001-aaaaaaa", True, GOOD)]
    assert ops.read_lock()["token"] == "aaa" and not leftover.exists()
    assert Path(ops.layout.shared_path("media")).is_dir()


def test_begin_against_a_held_lock_names_the_holder_and_touches_nothing_of_theirs(tmp_path):
    ops = ops_at(tmp_path / "site")
    ops.begin(owner("aaa"), [], [])
    theirs = Path(ops.layout.release(".20261202-000002-bbbbbbb.tmp"))
    theirs.mkdir()  # the holder's staging dir, mid-upload
    with pytest.raises(LockHeld, match="user-aaa"):
        ops.begin(owner("bbb"), [], [])
    assert ops.read_lock()["token"] == "aaa" and theirs.is_dir()


def test_begin_refused_by_a_missing_linked_file_takes_no_lock(tmp_path):
    ops = ops_at(tmp_path / "site")
    with pytest.raises(CommandFailed, match="missing linked file: shared/local.py"):
        ops.begin(owner("aaa"), [], ["local.py"])
    assert ops.read_lock() is None


def test_begin_that_fails_after_taking_the_lock_gives_it_back(tmp_path, monkeypatch):
    ops = ops_at(tmp_path / "site")
    monkeypatch.setattr(PosixHostOps, "_clean_script", lambda self: "echo cannot clean >&2; false")
    with pytest.raises(CommandFailed, match="cannot clean"):
        ops.begin(owner("aaa"), [], [])
    assert ops.read_lock() is None


def test_begin_never_makes_a_shared_dir_through_a_link_out_of_shared(tmp_path):
    ops = ops_at(tmp_path / "site")
    outside = tmp_path / "precious"
    outside.mkdir()
    (tmp_path / "site" / "shared").mkdir(parents=True)
    os.symlink(outside, tmp_path / "site" / "shared" / "media")
    with pytest.raises(ContainmentError):
        ops.begin(owner("aaa"), ["media/uploads"], [])
    assert list(outside.iterdir()) == [] and ops.read_lock() is None


def finished_host(root: Path, statuses: list[str]) -> PosixHostOps:
    """A host whose releases have `statuses` (oldest first), then NEW unpacked and switched to."""
    ops = ops_at(root)
    ops.prepare([], [])
    for n, status in enumerate(statuses):
        plant_release(ops, f"20261202-00000{n}-{n:07x}", status)
    os.makedirs(ops.layout.release(NEW))
    Path(ops.layout.release_info(NEW)).write_text(json.dumps(pending_record({"artifact_sha256": "cd"}, NEW)) + "\n")
    ops.switch(NEW)
    return ops


def finish_args(ops: PosixHostOps, keep: int) -> tuple:
    record = pending_record({"artifact_sha256": "cd"}, NEW)
    target = SimpleNamespace(releases=[r for r in ops.releases() if r.id != NEW], written={NEW: record})
    doomed = predicted_prune(SimpleNamespace(env=SimpleNamespace(keep_releases=keep)), target, NEW)
    return NEW, {NEW: {**record, "status": GOOD}}, {"action": "deploy", "outcome": "ok", "release": NEW}, doomed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statuses=st.lists(st.sampled_from(["good", "failed", "rolled_back", "pending"]), max_size=6),
       keep=st.integers(min_value=1, max_value=4))
def test_finish_in_one_command_leaves_the_tree_the_verbs_leave(tmp_path_factory, statuses, keep):
    """The retention it predicts from the listing taken under the lock is what the host's own
    listing, read after marking, gives; and the whole tree ends up byte for byte the same."""
    one, verbs = (tmp_path_factory.mktemp(name) / "site" for name in ("one", "verbs"))
    fast, slow = finished_host(one, statuses), finished_host(verbs, statuses)
    args = finish_args(fast, keep)
    done, n = commands(fast, lambda: fast.finish(*args))
    slow_done = HostOps.finish(slow, *args)  # the composition of the single verbs
    slow.set_status(NEW, GOOD)
    assert n == 1 and done is not None and slow_done is not None
    assert releases_to_prune(slow.releases(), keep) == []  # nothing the prediction missed
    assert (sorted(done.removed), done.kept) == (sorted(slow_done.removed), slow_done.kept)
    assert tree(one) == tree(verbs)
    info = Path(fast.layout.release_info(NEW))
    assert json.loads(info.read_text())["status"] == GOOD and stat.S_IMODE(info.stat().st_mode) == 0o600
    journal = Path(fast.layout.journal)
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600 and fast.read_journal() == [args[2]]


def test_finish_does_nothing_when_the_host_serves_another_release(tmp_path):
    ops = finished_host(tmp_path / "site", ["good"])
    ops.switch("20261202-000000-0000000")
    before = tree(tmp_path / "site")
    assert ops.finish(*finish_args(ops, 1)) is None
    assert tree(tmp_path / "site") == before


def test_finish_never_writes_release_json_through_a_link(tmp_path):
    ops = finished_host(tmp_path / "site", [])
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    info = Path(ops.layout.release_info(NEW))
    info.unlink()
    info.symlink_to(outside)
    with pytest.raises(ContainmentError):
        ops.finish(*finish_args(ops, 1))
    assert outside.read_text() == "{}" and not Path(ops.layout.journal).exists()


def test_a_journal_linked_out_is_reported_and_retention_still_runs(tmp_path):
    ops = finished_host(tmp_path / "site", ["good", "good"])
    outside = tmp_path / "outside.jsonl"
    outside.write_text("")
    Path(ops.layout.journal).symlink_to(outside)
    done = ops.finish(*finish_args(ops, 1))
    assert done is not None and "refusing to touch" in done.journal_error
    assert outside.read_text() == "" and done.removed == ["20261202-000000-0000000"]
    assert json.loads(Path(ops.layout.release_info(NEW)).read_text())["status"] == GOOD


def test_retention_never_removes_through_a_release_linked_out(tmp_path):
    ops = finished_host(tmp_path / "site", [])
    outside = tmp_path / "precious"
    (outside / "keep").mkdir(parents=True)
    doomed = "20261202-000000-0000000"
    os.symlink(outside, ops.layout.release(doomed))
    new, marks, entry, _ = finish_args(ops, 1)
    done = ops.finish(new, marks, entry, [doomed])
    assert done is not None and done.kept == [doomed] and (outside / "keep").is_dir()


def test_the_records_it_writes_are_scrubbed_of_secrets(tmp_path):
    secret = "hunter2-finish-secret"
    register(secret)
    ops = finished_host(tmp_path / "site", [])
    new, marks, entry, doomed = finish_args(ops, 1)
    marks[NEW]["note"] = f"deployed with {secret}"
    ops.finish(new, marks, {**entry, "error": f"saw {secret}"}, doomed)
    for path in (ops.layout.release_info(NEW), ops.layout.journal):
        assert secret not in Path(path).read_text()


def test_release_info_listing_round_trips_what_finish_wrote(tmp_path):
    ops = finished_host(tmp_path / "site", [])
    ops.finish(*finish_args(ops, 1))
    [listed] = ops.releases()
    assert listed == ReleaseInfo.from_json({**pending_record({"artifact_sha256": "cd"}, NEW), "status": GOOD}, True)
