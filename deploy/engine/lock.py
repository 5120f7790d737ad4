"""The environment's deploy lock, as a lease: taken on every host (in host-name order,
so two deploys racing for the same hosts cannot deadlock), held through post-deploy
hooks, released only by its owner's token, also on SIGINT/SIGTERM.

A lease records who (user or CI job), the revision, a reason, when, and a TTL: an
expired lease is reported and may be taken over (with a journal entry). Nested
Shipyard runs started by hooks find SHIPYARD_LOCK_TOKEN in their environment and
inherit the lease instead of deadlocking on it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from deploy.errors import LockHeld

if TYPE_CHECKING:  # pragma: no cover
    from deploy.release.hostops import HostOps

TOKEN_VAR = "SHIPYARD_LOCK_TOKEN"


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
        stuck = []
        for ops in self.hosts:
            try:
                ops.release_lock(self.token)
            except Exception:  # noqa: BLE001 - release every host we can, a broken one must not strand the rest
                stuck.append(ops.host)
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


def acquire_env_lock(ops_list: list["HostOps"], owner: dict[str, Any], wait: float = 0.0, ttl: float = 3600.0) -> LockLease:
    """Take the lock on every host, or raise LockHeld naming the holder (after `wait` seconds of retries).
    `owner` needs a unique `token`; it is what only the owner can release with."""
    ordered = sorted(ops_list, key=lambda o: o.host)
    inherited = _inherit(ordered)
    if inherited is not None:
        return inherited
    deadline = time.monotonic() + wait
    delay = 0.2
    while True:
        try:
            _acquire_all(ordered, lease_record(owner, ttl))
            break
        except LockHeld:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)
    lease = LockLease(owner, ordered)
    os.environ[TOKEN_VAR] = lease.token
    lease._trap_signals()
    return lease


def _acquire_all(ordered: list["HostOps"], record: dict[str, Any]) -> None:
    taken: list[HostOps] = []
    try:
        for ops in ordered:
            _acquire_one(ops, record)
            taken.append(ops)
    except BaseException:
        for ops in taken:
            ops.release_lock(record["token"])
        raise


def _acquire_one(ops: "HostOps", mine: dict[str, Any]) -> None:
    try:
        ops.acquire_lock(mine)
    except LockHeld:
        held = ops.read_lock()
        if held is None:  # released between our attempt and the read: try once more
            ops.acquire_lock(mine)
            return
        if not expired(held):
            raise LockHeld(ops.host, describe(held)) from None
        ops.release_lock(str(held.get("token", "")))
        ops.append_journal({"ts": _now(), "action": "lock.takeover", "outcome": "ok", "host": ops.host,
                            "user": mine.get("user"), "expired_lease": held})
        ops.acquire_lock(mine)


def _inherit(ordered: list["HostOps"]) -> LockLease | None:
    """The lease of the Shipyard run that started us (a hook), if it holds every host."""
    token = os.environ.get(TOKEN_VAR)
    if not token:
        return None
    records = [ops.read_lock() for ops in ordered]
    if not all(r and r.get("token") == token for r in records):
        return None
    return LockLease(dict(records[0] or {}), ordered, inherited=True)


def status(ops_list: list["HostOps"]) -> dict[str, dict[str, Any] | None]:
    """Each host's lock record (None when free), for `invoke lock.status`."""
    return {ops.host: ops.read_lock() for ops in ops_list}


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
