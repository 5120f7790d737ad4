"""The environment's deploy lock, as a lease: taken on every host or on none, held through
post-deploy hooks, released only by its owner's token, also on SIGINT/SIGTERM.

The first host in name order is taken alone, as the gate two deploys racing for the same
hosts meet at (one wins, the other waits or fails naming the holder); then every other
host at once, `parallel` at a time, so a fleet's lock costs about two round trips, not one
per host. Any host refused: every host taken is given back (also in parallel).

A lease records who (user or CI job), the revision, a reason, when, and a TTL: an
expired lease is reported and may be taken over (with a journal entry). Nested
Shipyard runs started by hooks find SHIPYARD_LOCK_TOKEN in their environment and
inherit the lease instead of deadlocking on it — only when the holder is provably
their ancestor on this machine; anyone else with the token is refused like any run.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from deploy.engine.liveness import stale_reason, started_us
from deploy.errors import LockHeld

if TYPE_CHECKING:  # pragma: no cover
    from deploy.release.hostops import HostOps

TOKEN_VAR = "SHIPYARD_LOCK_TOKEN"
DEFAULT_PARALLEL = 32
T = TypeVar("T")
Take = Callable[["HostOps", dict[str, Any]], None]


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled CI job): unwinds like Ctrl-C so `finally` releases the lease."""


def lease_record(owner: dict[str, Any], ttl: float) -> dict[str, Any]:
    """The owner record (deploy.engine.context.new_owner: token, user, machine, pid, since, revision,
    reason...) with the lease's start and TTL, as it is stored on each host."""
    return {**owner, "acquired_at": time.time(), "ttl": ttl}


def expired(record: dict[str, Any], now: float | None = None) -> bool:
    try:
        return float(record["acquired_at"]) + float(record["ttl"]) < (now or time.time())
    except (KeyError, TypeError, ValueError):
        return False


def describe(record: dict[str, Any]) -> str:
    """`alice (pid 42 on box, deploy of ab12cd3, since 2026-11-25T17:01:02+00:00, expires in 3540s)`."""
    left = float(record.get("acquired_at", 0)) + float(record.get("ttl", 0)) - time.time()
    expiry = f"expired {-left:.0f}s ago" if left < 0 else f"expires in {left:.0f}s"
    what = record.get("reason") or record.get("command") or "deploy"
    revision = f" of {str(record['revision'])[:12]}" if record.get("revision") else ""
    return (f"{record.get('user', '?')} (pid {record.get('pid', '?')} on {record.get('machine', '?')}, "
            f"{what}{revision}, since {record.get('since', '?')}, {expiry})")


@dataclass
class LockLease:
    """A held environment lock. `release()` is idempotent; an inherited lease releases nothing."""

    owner: dict[str, Any]
    hosts: list["HostOps"]
    inherited: bool = False
    parallel: int = DEFAULT_PARALLEL
    _released: bool = field(default=False, init=False)
    _previous_term: Any = field(default=None, init=False, repr=False)

    @property
    def token(self) -> str:
        return str(self.owner["token"])

    def release(self) -> list[str]:
        """Release every host we can; return the hosts whose lock stays (unreachable)."""
        if self._released or self.inherited:
            self._released = True
            return []
        self._released = True
        # every host we can: a broken one must not strand the rest
        outcomes = on_each(lambda ops: ops.release_lock(self.token), self.hosts, self.parallel)
        stuck = [ops.host for ops, error in zip(self.hosts, outcomes) if error is not None]
        if os.environ.get(TOKEN_VAR) == self.token:
            del os.environ[TOKEN_VAR]
        self._restore_signals()
        return stuck

    def _trap_signals(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous_term = signal.signal(signal.SIGTERM, _raise_terminated)

    def _restore_signals(self) -> None:
        if self._previous_term is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._previous_term)
            self._previous_term = None

    def __enter__(self) -> "LockLease":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


def on_each(fn: Callable[[T], object], items: list[T], parallel: int) -> list[BaseException | None]:
    """fn on every item, `parallel` at a time; each item's exception (or None), in item order.
    Interrupted (Ctrl-C), it waits for the calls under way and drops the rest, so whatever
    they took is known before the caller gives it back."""
    def one(item: T) -> BaseException | None:
        try:
            fn(item)
            return None
        except Exception as e:  # noqa: BLE001 - each host's outcome is the caller's to judge
            return e

    if len(items) <= 1:
        return [one(i) for i in items]
    pool = ThreadPoolExecutor(max_workers=max(1, min(parallel, len(items))))
    try:
        return [f.result() for f in [pool.submit(one, i) for i in items]]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def acquire_env_lock(ops_list: list["HostOps"], owner: dict[str, Any], wait: float = 0.0, ttl: float = 3600.0,
                     break_stale: bool = False, parallel: int = DEFAULT_PARALLEL,
                     take: Take | None = None) -> LockLease:
    """Take the lock on every host, or raise LockHeld naming the holder (after `wait` seconds of retries).
    `owner` needs a unique `token`; it is what only the owner can release with. A holder that is
    provably gone (deploy.engine.liveness) is named as stale, and its lock broken with `break_stale`.
    `take(ops, record)` takes one host's lock (default `ops.acquire_lock(record)`, raising LockHeld):
    a deploy passes one that does the rest of its `starting` in the same round trip (HostOps.begin)."""
    ordered = sorted(ops_list, key=lambda o: o.host)
    inherited = _inherit(ordered, parallel)
    if inherited is not None:
        return inherited
    deadline = time.monotonic() + wait
    delay = 0.2
    while True:
        try:
            _acquire_all(ordered, lease_record(owner, ttl), break_stale, parallel, take or _take_lock)
            break
        except LockHeld:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay * random.uniform(0.75, 1.25))  # racing runs on overlapping host sets drift apart
            delay = min(delay * 1.5, 5.0)
    lease = LockLease(owner, ordered, parallel=parallel)
    os.environ[TOKEN_VAR] = lease.token
    lease._trap_signals()
    return lease


def _take_lock(ops: "HostOps", record: dict[str, Any]) -> None:
    ops.acquire_lock(record)


def _acquire_all(ordered: list["HostOps"], record: dict[str, Any], break_stale: bool, parallel: int, take: Take) -> None:
    """The gate host alone, then the rest at once; the first refusal in name order is raised
    once every host taken is given back."""
    taken: list[HostOps] = []

    def take_one(ops: "HostOps") -> None:
        _acquire_one(ops, record, break_stale, take)
        taken.append(ops)

    try:
        take_one(ordered[0])
        errors = [e for e in on_each(take_one, ordered[1:], parallel) if e is not None]
        if errors:
            raise errors[0]
    except BaseException:
        on_each(lambda ops: ops.release_lock(record["token"]), list(taken), parallel)
        raise


def _acquire_one(ops: "HostOps", mine: dict[str, Any], break_stale: bool, take: Take) -> None:
    try:
        take(ops, mine)
    except LockHeld:
        held = ops.read_lock()
        if held is None:  # released between our attempt and the read: try once more
            take(ops, mine)
            return
        stale = stale_reason(held)
        if expired(held):
            action, why, key = "lock.takeover", "expired lease", "expired_lease"
        elif stale and break_stale:
            action, why, key = "lock.break_stale", stale, "stale_lease"
        elif stale:
            raise LockHeld(ops.host, f"{describe(held)}; it is STALE ({stale}): break it with "
                                     f"`invoke {mine.get('command') or 'deploy'} --break-stale` (journaled)") from None
        else:
            raise LockHeld(ops.host, describe(held)) from None
        ops.release_lock(str(held.get("token", "")))
        ops.append_journal({"ts": _now(), "action": action, "outcome": "ok", "host": ops.host,
                            "user": mine.get("user"), "reason": why, key: held})
        take(ops, mine)


def _inherit(ordered: list["HostOps"], parallel: int) -> LockLease | None:
    """The lease of the Shipyard run that started us (a hook), if it holds every host and its
    holder is provably our own process or an ancestor (liveness.started_us): a stray token
    in some other process's environment must meet the lock like any other run."""
    token = os.environ.get(TOKEN_VAR)
    if not token:
        return None
    records = read_all(ordered, parallel)
    if not all(r and r.get("token") == token for r in records.values()):
        return None
    holder = dict(records[ordered[0].host] or {})
    if not started_us(holder):
        return None
    return LockLease(holder, ordered, inherited=True, parallel=parallel)


def read_all(ops_list: list["HostOps"], parallel: int = DEFAULT_PARALLEL) -> dict[str, dict[str, Any] | None]:
    """Each host's lock record (None when free), every host at once; a host that cannot be read raises."""
    records: dict[str, dict[str, Any] | None] = {}

    def read(ops: "HostOps") -> None:
        records[ops.host] = ops.read_lock()

    errors = [e for e in on_each(read, ops_list, parallel) if e is not None]
    if errors:
        raise errors[0]
    return {ops.host: records[ops.host] for ops in ops_list}


def status(ops_list: list["HostOps"]) -> dict[str, dict[str, Any] | None]:
    """Each host's lock record (None when free), for `invoke lock.status`."""
    return read_all(ops_list)


def break_lock(ops_list: list["HostOps"], by: str, reason: str = "lock.break") -> list[str]:
    """Remove whatever lock each host holds, recording who broke it in the host's journal."""
    broken = []
    for ops in ops_list:
        record = ops.read_lock()
        if record is None:
            continue
        ops.release_lock(str(record.get("token", "")))
        ops.append_journal({"ts": _now(), "action": "lock.break", "outcome": "ok", "host": ops.host,
                            "user": by, "reason": reason, "lease": record})
        broken.append(ops.host)
    return broken
