"""Who may inherit a held lease (deploy.engine.lock._inherit, liveness.started_us): only a run
the holder started. SHIPYARD_LOCK_TOKEN leaks (an exported shell variable, a CI step, a test
runner that once held a lease in-process): a process carrying it that the holder did not start
must meet the lock like any other run, be refused naming the holder, and take nothing."""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from deploy.engine.context import new_owner
from deploy.engine.liveness import identity, parent_of, start_time, started_us
from deploy.engine.lock import TOKEN_VAR, acquire_env_lock, lease_record
from deploy.errors import LockHeld
from tests.unit.farm.test_lock_parallel import Gauge, MemoryHost


@pytest.fixture(autouse=True)
def clean_token(monkeypatch):
    monkeypatch.setenv(TOKEN_VAR, "")
    monkeypatch.delenv(TOKEN_VAR)


def held_by(record: dict, n: int = 3) -> list[MemoryHost]:
    gauge = Gauge()
    return [MemoryHost(f"web{i}", gauge, cost=0.0, held=dict(record)) for i in range(n)]


def record_of(pid: int, token: str = "tok-holder") -> dict:
    return lease_record({**identity(), "pid": pid, "pid_started": start_time(pid), "token": token, "user": "alice",
                         "command": "deploy"}, ttl=3600)


def test_a_stray_token_does_not_join_a_deploy_it_was_not_started_by(monkeypatch):
    """The failure seen in test_concurrent_deploy_refused_first_unaffected: the second deploy
    carried the first's token (leaked into the test runner) and went ahead beside it."""
    other = subprocess.Popen(["sleep", "30"])  # a live holder on this machine, not our ancestor
    try:
        record = record_of(other.pid)
        hosts = held_by(record)
        monkeypatch.setenv(TOKEN_VAR, record["token"])
        with pytest.raises(LockHeld, match="deploy lock is held by alice") as caught:
            acquire_env_lock(hosts, new_owner("deploy"))
        assert caught.value.host == "web0"
        assert all(h.lock == record for h in hosts) and not any(h.journal for h in hosts)
    finally:
        other.kill()
        other.wait()


def test_the_run_whose_hook_started_us_is_inherited(monkeypatch):
    record = record_of(os.getppid())  # the shell or runner that started this process
    hosts = held_by(record)
    monkeypatch.setenv(TOKEN_VAR, record["token"])
    lease = acquire_env_lock(hosts, new_owner("deploy"))
    assert lease.inherited and lease.token == record["token"]
    lease.release()
    assert all(h.lock == record for h in hosts)  # an inherited lease is the holder's to give back


def test_a_fresh_owner_never_carries_the_token_of_the_environment(monkeypatch):
    """A run the lock refuses clears only its own run record and releases only its own lease."""
    monkeypatch.setenv(TOKEN_VAR, "tok-of-someone-else")
    assert new_owner("deploy")["token"] != "tok-of-someone-else"


def ancestors() -> set[int]:
    found, pid = set(), os.getpid()
    while pid > 0 and pid not in found:
        found.add(pid)
        pid = parent_of(pid)
    return found


@settings(max_examples=80, deadline=None)
@given(change=st.sampled_from(["none", "altered", "dropped", "pid"]),
       key=st.sampled_from(["machine", "boot_id", "pid_started"]), text=st.text(min_size=1, max_size=12),
       pid=st.integers(min_value=2, max_value=2**22))
def test_only_this_process_or_an_ancestor_started_us(change, key, text, pid):
    record = record_of(os.getpid())
    if change == "pid" and pid in ancestors():
        change = "none"
    if change == "altered":
        record[key] = f"{record[key]}{text}"
    elif change == "dropped":
        del record[key]
    elif change == "pid":
        record["pid"] = pid
    assert started_us(record) is (change == "none")
