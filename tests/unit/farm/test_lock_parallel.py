"""The environment lease taken on every host at once (deploy.engine.lock): all or none, the gate
host first, takeover of expired leases, inheritance, interrupts: against in-memory hosts that
record how many calls were under way at once."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings, strategies as st

from deploy.engine.liveness import identity
from deploy.engine.lock import TOKEN_VAR, acquire_env_lock, lease_record
from deploy.errors import LockHeld


class Gauge:
    def __init__(self) -> None:
        self.now = self.peak = 0
        self.calls: list[tuple[str, str]] = []  # (event, host) in order
        self.mutex = threading.Lock()

    def enter(self, host: str) -> None:
        with self.mutex:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.calls.append(("start", host))

    def leave(self, host: str) -> None:
        with self.mutex:
            self.now -= 1
            self.calls.append(("end", host))


class MemoryHost:
    """Just the lock verbs of HostOps, atomic per host, each call taking `cost` seconds."""

    def __init__(self, name: str, gauge: Gauge, cost: float = 0.01, held: dict | None = None, broken: BaseException | None = None):
        self.host, self.gauge, self.cost, self.lock, self.broken = name, gauge, cost, held, broken
        self.journal: list[dict] = []
        self.mutex = threading.Lock()

    def _call(self) -> None:
        self.gauge.enter(self.host)
        time.sleep(self.cost)
        self.gauge.leave(self.host)

    def acquire_lock(self, owner: dict) -> None:
        self._call()
        if self.broken is not None:
            raise self.broken
        with self.mutex:
            if self.lock is not None:
                raise LockHeld(self.host, str(self.lock.get("user")))
            self.lock = dict(owner)

    def release_lock(self, token: str) -> None:
        self._call()
        with self.mutex:
            if self.lock and self.lock.get("token") == token:
                self.lock = None

    def read_lock(self) -> dict | None:
        self._call()
        return self.lock

    def append_journal(self, entry: dict) -> None:
        self.journal.append(entry)


def owner(user: str, token: str | None = None) -> dict:
    return {"token": token or f"tok-{user}", "user": user, "machine": "m", "pid": 1, "since": "-", "command": "deploy"}


@pytest.fixture(autouse=True)
def no_inherited_token(monkeypatch):
    """No token before the test, none after it: a lease left in os.environ would be inherited
    by every later test's subprocesses (monkeypatch.delenv of an unset variable restores nothing)."""
    monkeypatch.setenv(TOKEN_VAR, "")
    monkeypatch.delenv(TOKEN_VAR)


def fleet(n: int, gauge: Gauge, **kw) -> list[MemoryHost]:
    return [MemoryHost(f"web{i:03d}", gauge, **kw) for i in range(n)]


def test_every_host_at_once_after_the_gate_host():
    gauge = Gauge()
    hosts = fleet(40, gauge)
    lease = acquire_env_lock(list(reversed(hosts)), owner("alice"), parallel=16)
    assert all(h.lock and h.lock["token"] == "tok-alice" for h in hosts)
    assert gauge.peak > 8  # the rest really went at once (16 wide), not one after another
    assert gauge.calls[:2] == [("start", "web000"), ("end", "web000")]  # the gate, alone and first
    gauge.peak = 0
    assert lease.release() == []
    assert gauge.peak > 8 and all(h.lock is None for h in hosts)


def test_racing_runs_meet_at_the_gate_host_one_wins():
    gauge = Gauge()
    hosts = fleet(12, gauge, cost=0.005)
    results: dict[str, object] = {}

    def run(user: str) -> None:
        try:
            results[user] = acquire_env_lock(hosts, owner(user), parallel=12)
        except LockHeld as e:
            results[user] = e

    threads = [threading.Thread(target=run, args=(u,)) for u in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [u for u, r in results.items() if not isinstance(r, LockHeld)]
    assert len(winners) == 1
    assert all(h.lock and h.lock["user"] == winners[0] for h in hosts)
    results[winners[0]].release()  # type: ignore[union-attr]


@settings(max_examples=60, deadline=None)
@given(held=st.lists(st.sampled_from(["free", "live", "expired"]), min_size=1, max_size=20))
def test_all_or_none(held):
    gauge = Gauge()
    hosts = []
    for i, state in enumerate(held):
        record = None
        if state != "free":
            record = lease_record(owner(f"other{i}"), ttl=3600 if state == "live" else -1)
        hosts.append(MemoryHost(f"h{i:02d}", gauge, cost=0.0, held=record))
    if "live" in held:
        first_live = held.index("live")
        with pytest.raises(LockHeld) as caught:
            acquire_env_lock(hosts, owner("me"), parallel=8)
        assert caught.value.host == f"h{first_live:02d}"  # the first refusal in name order
        assert not any(h.lock and h.lock["token"] == "tok-me" for h in hosts)
        for h, state in zip(hosts, held):
            if state == "live":
                assert h.lock and h.lock["user"].startswith("other")  # a live lease is never touched
    else:
        lease = acquire_env_lock(hosts, owner("me"), parallel=8)
        assert all(h.lock["token"] == "tok-me" for h in hosts)
        for h, state in zip(hosts, held):
            assert [e["action"] for e in h.journal] == (["lock.takeover"] if state == "expired" else [])
        lease.release()
        assert all(h.lock is None for h in hosts)


def test_an_interrupt_while_taking_gives_back_everything_taken():
    gauge = Gauge()
    hosts = fleet(10, gauge)
    hosts[6].broken = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        acquire_env_lock(hosts, owner("alice"), parallel=4)
    assert all(h.lock is None for h in hosts)


def test_a_host_that_cannot_be_released_is_reported_the_rest_released():
    gauge = Gauge()
    hosts = fleet(6, gauge)
    lease = acquire_env_lock(hosts, owner("alice"))

    def unreachable(token: str) -> None:
        raise OSError("connection lost")

    hosts[3].release_lock = unreachable  # type: ignore[method-assign]
    assert lease.release() == ["web003"]
    assert [h.host for h in hosts if h.lock] == ["web003"]


def test_a_nested_run_inherits_a_lease_held_on_every_host(monkeypatch):
    gauge = Gauge()
    hosts = fleet(8, gauge)
    outer = acquire_env_lock(hosts, {**owner("alice"), **identity()})  # this very process holds it
    nested = acquire_env_lock(hosts, owner("alice", token="a-fresh-one"))
    assert nested.inherited
    nested.release()
    assert all(h.lock and h.lock["token"] == outer.token for h in hosts)
    outer.release()
    hosts[5].lock = lease_record(owner("bob"), 3600)
    monkeypatch.setenv(TOKEN_VAR, "tok-alice")
    with pytest.raises(LockHeld):  # not every host is ours: no inheritance, a normal (refused) attempt
        acquire_env_lock(hosts, owner("alice"))
