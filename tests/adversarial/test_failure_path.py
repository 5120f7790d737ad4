"""One failure path for every failure, and recovery that tells the truth: an exception no
Shipyard code expects (a KeyError from a project's Python hook) ends like any failed step; a run
refused by the lock never touches the holder's lock or run record; a holder that is provably
gone is named STALE and broken only on request (journaled); rolling forward to a newer release
never loses the one `invoke rollback` would go back to."""

from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest

from deploy.engine.liveness import boot_id, start_time
from tests.adversarial.conftest import new_revision, run


@pytest.fixture(scope="module")
def deployed(site):
    site.invoke("build", "deploy", timeout=600)
    return site


def releases(site) -> set[str]:
    return {p.name for p in (site.deploy_to / "releases").iterdir()}


@pytest.mark.slow
def test_an_unexpected_exception_takes_the_one_failure_path(deployed):
    site, good = deployed, deployed.current()
    before = releases(site)
    new_revision(site, "boom")
    events = site.root / "boom-events.jsonl"
    proc = run(site, "deploy", "--events", str(events), SHIPYARD_TEST_RAISE_AT="after:publishing")
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("shipyard: unexpected KeyError: 'planted by the test'") and "Traceback" not in proc.stderr
    assert site.current() == good and site.health()["release"] == good
    (new,) = releases(site) - before
    assert site.release_json(new)["status"] == "failed"
    entry = site.journal()[-1]
    assert (entry["action"], entry["outcome"], entry["release"]) == ("deploy", "rolled_back", good)
    assert "KeyError" in entry["error"]
    end = json.loads(events.read_text().splitlines()[-1])
    assert (end["kind"], end["result"], end["exit_code"]) == ("run.end", "rolled_back", 1)
    assert not (site.root / ".shipyard" / "runs" / "local.json").exists()
    assert not (site.deploy_to / ".shipyard" / "lock").exists()
    debug = run(site, "deploy", SHIPYARD_TEST_RAISE_AT="before:publishing", SHIPYARD_DEBUG="1")
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "KeyError" in debug.stderr
    assert site.current() == good


def plant_holder(site, pid: int, token: str = "f" * 32) -> tuple[bytes, bytes]:
    """A lock and a run record as a live run on this machine would have left them."""
    lock = site.deploy_to / ".shipyard" / "lock"
    holder = {"token": token, "user": "holder", "machine": socket.gethostname(), "pid": pid,
              "boot_id": boot_id(), "pid_started": start_time(pid), "since": "2026-01-01T00:00:00+00:00",
              "command": "deploy", "revision": "0" * 40, "reason": "", "acquired_at": time.time(), "ttl": 3600}
    lock.write_text(json.dumps(holder) + "\n")
    record = site.root / ".shipyard" / "runs" / "local.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    artifact = max((site.root / "dist").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    record.write_text(json.dumps({"release_id": site.current(), "artifact": str(artifact), "sha256": "0" * 64, "token": token,
                                  "user": "holder", "machine": socket.gethostname(), "pid": pid,
                                  "previous": {"localhost": site.current()}}))
    return lock.read_bytes(), record.read_bytes()


@pytest.mark.slow
def test_a_refused_run_never_touches_the_holders_lock_or_record_and_stale_locks_break_on_request(deployed):
    site = deployed
    lock, record = site.deploy_to / ".shipyard" / "lock", site.root / ".shipyard" / "runs" / "local.json"
    holder = subprocess.Popen(["sleep", "300"])
    try:
        planted = plant_holder(site, holder.pid)
        refused = run(site, "deploy")
        assert refused.returncode == 1 and "deploy lock is held by holder" in refused.stderr
        assert "STALE" not in refused.stderr
        resume = run(site, "deploy", "--resume")
        assert resume.returncode == 2 and "still running" in resume.stderr
        assert (lock.read_bytes(), record.read_bytes()) == planted
    finally:
        holder.kill()
        holder.wait()
    stale = run(site, "deploy")
    assert stale.returncode == 1 and "STALE" in stale.stderr and "invoke deploy --break-stale" in stale.stderr
    assert (lock.read_bytes(), record.read_bytes()) == planted
    site.invoke("deploy", "--break-stale", timeout=600)
    broken = [e for e in site.journal() if e["action"] == "lock.break_stale"]
    assert broken and broken[-1]["stale_lease"]["user"] == "holder" and "no longer running" in broken[-1]["reason"]
    assert site.health()["release"] == site.current() and not lock.exists() and not record.exists()


@pytest.mark.slow
def test_rolling_forward_keeps_the_release_rollback_would_pick_next(deployed):
    site = deployed
    cfg = site.root / "shipyard.toml"
    cfg.write_text(cfg.read_text().replace("keep_releases = 3", "keep_releases = 1"))
    new_revision(site, "keep one")
    site.invoke("deploy", timeout=600)
    new_revision(site, "B")
    site.invoke("deploy", timeout=600)
    b = site.current()
    site.invoke("rollback", timeout=600)
    a = site.current()
    assert a < b and site.release_json(b)["status"] == "rolled_back"
    site.invoke("rollback", "--to", b, timeout=600)
    assert site.current() == b and site.health()["release"] == b
    assert a in releases(site) and site.release_json(a)["status"] == "good"
    site.invoke("rollback", timeout=600)
    assert site.current() == a and site.health()["release"] == a
