"""The environment's deploy lock, as a lease: taken on every host (in host-name order,
so two deploys racing for the same hosts cannot deadlock), held through post-deploy
hooks, released only by its owner's token, also on SIGINT/SIGTERM.

A lease records who (user or CI job), the revision, a reason, when, and a TTL: an
expired lease is reported and may be taken over (with a journal entry). Nested
Shipyard runs started by hooks find SHIPYARD_LOCK_TOKEN in their environment and
inherit the lease instead of deadlocking on it.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from deploy.errors import LockHeld

if TYPE_CHECKING:  # pragma: no cover
    from deploy.release.hostops import HostOps

TOKEN_VAR = "SHIPYARD_LOCK_TOKEN"
CI_JOB_VARS = ("SHIPYARD_LOCK_OWNER", "CI_JOB_ID", "GITHUB_RUN_ID", "BUILD_TAG", "BUILD_BUILDID")


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled CI job): unwinds like Ctrl-C so `finally` releases the lease."""


def who_am_i() -> str:
    """The CI job id when running in CI, else user@machine."""
    for var in CI_JOB_VARS:
        if os.environ.get(var):
            return f"{var.lower()}:{os.environ[var]}"
    return f"{getpass.getuser()}@{socket.gethostname()}"


@dataclass(frozen=True)
class LockOwner:
    """What a lease says about its holder (stored as the host's lock record)."""

    owner: str = field(default_factory=who_am_i)
    revision: str = ""
    reason: str = "deploy"
    ttl: float = 3600.0
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    acquired_at: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)

    def record(self) -> dict[str, Any]:
        stamp = datetime.fromtimestamp(self.acquired_at, timezone.utc).isoformat(timespec="seconds")
        return {**asdict(self), "acquired": stamp}


def expired(record: dict[str, Any], now: float | None = None) -> bool:
    try:
        return float(record["acquired_at"]) + float(record["ttl"]) < (now or time.time())
    except (KeyError, TypeError, ValueError):
        return False


def describe(record: dict[str, Any]) -> str:
    """`alice@box (deploy of ab12cd3, since 2026-11-25T17:01:02+00:00, expires in 3540s)`."""
    left = float(record.get("acquired_at", 0)) + float(record.get("ttl", 0)) - time.time()
    expiry = f"expired {-left:.0f}s ago" if left < 0 else f"expires in {left:.0f}s"
    revision = f" of {record['revision'][:12]}" if record.get("revision") else ""
    return f"{record.get('owner', '?')} ({record.get('reason', '?')}{revision}, since {record.get('acquired', '?')}, {expiry})"


@dataclass
class LockLease:
    """A held environment lock. `release()` is idempotent; an inherited lease releases nothing."""

    owner: LockOwner
    hosts: list["HostOps"]
    inherited: bool = False
    _released: bool = field(default=False, init=False)
    _previous_term: Any = field(default=None, init=False, repr=False)

    @property
    def token(self) -> str:
        return self.owner.token

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self.inherited:
            return
        for ops in self.hosts:
            try:
                ops.release_lock(self.token)
            except Exception:  # noqa: BLE001 - release every host we can, a broken one must not strand the rest
                pass
        if os.environ.get(TOKEN_VAR) == self.token:
            del os.environ[TOKEN_VAR]
        self._restore_signals()

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


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


def acquire_env_lock(ops_list: list["HostOps"], owner: LockOwner, wait: float = 0.0) -> LockLease:
    """Take the lock on every host, or raise LockHeld naming the holder (after `wait` seconds of retries)."""
    ordered = sorted(ops_list, key=lambda o: o.host)
    inherited = _inherit(ordered)
    if inherited is not None:
        return inherited
    deadline = time.monotonic() + wait
    delay = 0.2
    while True:
        try:
            _acquire_all(ordered, owner)
            break
        except LockHeld:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)
    lease = LockLease(owner, ordered)
    os.environ[TOKEN_VAR] = owner.token
    lease._trap_signals()
    return lease


def _acquire_all(ordered: list["HostOps"], owner: LockOwner) -> None:
    taken: list[HostOps] = []
    try:
        for ops in ordered:
            _acquire_one(ops, owner)
            taken.append(ops)
    except BaseException:
        for ops in taken:
            ops.release_lock(owner.token)
        raise


def _acquire_one(ops: "HostOps", owner: LockOwner) -> None:
    try:
        ops.acquire_lock(owner.record())
    except LockHeld:
        record = ops.read_lock()
        if record is None:  # released between our attempt and the read: try once more
            ops.acquire_lock(owner.record())
            return
        if not expired(record):
            raise LockHeld(ops.host, describe(record)) from None
        ops.release_lock(str(record.get("token", "")))
        ops.append_journal({"event": "lock.takeover", "by": owner.owner, "expired_lease": record, "at": time.time()})
        ops.acquire_lock(owner.record())


def _inherit(ordered: list["HostOps"]) -> LockLease | None:
    """The lease of the Shipyard run that started us (a hook), if it holds every host."""
    token = os.environ.get(TOKEN_VAR)
    if not token:
        return None
    records = [ops.read_lock() for ops in ordered]
    if not all(r and r.get("token") == token for r in records):
        return None
    first = records[0] or {}
    keys = ("owner", "revision", "reason", "ttl", "acquired_at", "pid")
    owner = LockOwner(token=token, **{k: first[k] for k in keys if k in first})
    return LockLease(owner, ordered, inherited=True)


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
        ops.append_journal({"event": "lock.break", "by": by, "reason": reason, "lease": record, "at": time.time()})
        broken.append(ops.host)
    return broken
