"""The environment lock as a lease, over real PosixHostOps (local transport, temp deploy roots):
fail fast naming the holder, wait, only the owner releases, inheritance, expiry, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from deploy.config import HostConfig
from deploy.engine.context import new_owner
from deploy.errors import LockHeld
from deploy.engine.lock import TOKEN_VAR, acquire_env_lock, break_lock, expired, status
from deploy.release.layout import Layout
from deploy.release.posix import PosixHostOps
from deploy.transport.local import LocalTransport


@pytest.fixture
def hosts(tmp_path, monkeypatch) -> list[PosixHostOps]:
    monkeypatch.setenv(TOKEN_VAR, "")
    monkeypatch.delenv(TOKEN_VAR)  # and removed again after the test: later tests' subprocesses must not inherit it
    ops = []
    for name in ("web1", "web2"):
        o = PosixHostOps(LocalTransport(HostConfig(name=name, transport="local")), Layout(str(tmp_path / name)), 30)
        o.prepare([], [])
        ops.append(o)
    return ops


def owner(user: str, **extra) -> dict:
    return {**new_owner("deploy", revision="ab12cd34ef56"), "user": user, **extra}


def test_second_deploy_fails_fast_naming_holder_revision_and_expiry(hosts):
    with acquire_env_lock(hosts, owner("alice", reason="release 42")):
        os.environ.pop(TOKEN_VAR)  # as if another process
        started = time.monotonic()
        with pytest.raises(LockHeld) as e:
            acquire_env_lock(hosts, owner("bob"))
        assert time.monotonic() - started < 2
        assert e.value.host == "web1"
        assert "alice" in str(e.value) and "release 42" in str(e.value) and "ab12cd34ef56" in str(e.value)
        assert "expires in" in str(e.value)
    assert status(hosts) == {"web1": None, "web2": None}


def test_a_partly_taken_environment_is_given_back(hosts):
    other = owner("carol")
    hosts[1].acquire_lock({**other, "acquired_at": time.time(), "ttl": 600})
    with pytest.raises(LockHeld, match="carol"):
        acquire_env_lock(hosts, owner("dave"))
    assert hosts[0].read_lock() is None  # web1 was taken first, then released again
    hosts[1].release_lock(other["token"])


def test_lock_wait_takes_the_lock_when_the_holder_leaves(hosts):
    first = acquire_env_lock(hosts, owner("alice"))
    os.environ.pop(TOKEN_VAR)
    threading.Timer(1.0, first.release).start()
    started = time.monotonic()
    with acquire_env_lock(hosts, owner("bob"), wait=20) as second:
        assert 0.9 < time.monotonic() - started < 10
        assert {r["user"] for r in status(hosts).values()} == {"bob"}
        assert second.token == hosts[0].read_lock()["token"]


def test_only_the_owner_releases(hosts):
    lease = acquire_env_lock(hosts, owner("alice"))
    for o in hosts:
        o.release_lock("not-the-token")
    assert all(r and r["user"] == "alice" for r in status(hosts).values())
    lease.release()
    lease.release()  # idempotent
    assert status(hosts) == {"web1": None, "web2": None}


def test_nested_runs_inherit_the_lease_and_leave_it_held(hosts):
    outer = acquire_env_lock(hosts, owner("alice"))
    assert os.environ[TOKEN_VAR] == outer.token
    nested = acquire_env_lock(hosts, owner("alice", token=os.environ[TOKEN_VAR]))  # what a hook's shipyard does
    assert nested.inherited
    nested.release()
    assert all(r and r["token"] == outer.token for r in status(hosts).values())
    outer.release()
    assert TOKEN_VAR not in os.environ and status(hosts) == {"web1": None, "web2": None}


def test_an_expired_lease_is_taken_over_and_journaled(hosts):
    stale = owner("ghost")
    for o in hosts:
        o.acquire_lock({**stale, "acquired_at": time.time() - 7200, "ttl": 3600})
    assert all(expired(r) for r in status(hosts).values())
    with acquire_env_lock(hosts, owner("alice")):
        assert {r["user"] for r in status(hosts).values()} == {"alice"}
    entry = hosts[0].read_journal()[-1]
    assert entry["action"] == "lock.takeover" and entry["expired_lease"]["user"] == "ghost"


def test_break_lock_records_who_broke_it(hosts):
    lease = acquire_env_lock(hosts, owner("alice"))
    assert break_lock(hosts, by="ops-oncall", reason="job died") == ["web1", "web2"]
    assert status(hosts) == {"web1": None, "web2": None}
    entry = hosts[1].read_journal()[-1]
    assert (entry["action"], entry["user"], entry["reason"], entry["lease"]["token"]) == (
        "lock.break", "ops-oncall", "job died", lease.token)
    lease.release()  # its lock is gone: gives back the SIGTERM handler and the token in os.environ


def test_sigterm_releases_the_lease_on_the_way_out(tmp_path, hosts):
    script = textwrap.dedent(f"""
        import sys, time
        from deploy.config import HostConfig
        from deploy.engine.context import new_owner
        from deploy.engine.lock import acquire_env_lock
        from deploy.release.layout import Layout
        from deploy.release.posix import PosixHostOps
        from deploy.transport.local import LocalTransport
        ops = [PosixHostOps(LocalTransport(HostConfig(name=n, transport="local")), Layout(f"{tmp_path}/" + n), 30)
               for n in ("web1", "web2")]
        lease = acquire_env_lock(ops, new_owner("deploy"))
        try:
            print("locked", flush=True)
            time.sleep(60)
        finally:
            lease.release()
            print("released", flush=True)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    env.pop(TOKEN_VAR, None)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "locked"
    assert all(status(hosts).values())
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert "released" in out and proc.returncode != 0
    assert status(hosts) == {"web1": None, "web2": None}
