"""Everything one deploy or rollback run carries: config, hosts, artifact, events."""

from __future__ import annotations

import getpass
import os
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

from deploy.config import EnvConfig, HooksConfig, HostConfig, Loaded
from deploy.engine.liveness import identity
from deploy.release.hostops import HostOps
from deploy.release.layout import Layout
from deploy.report.events import EventBus
from deploy.secrets import Secret
from deploy.transport import open_transport
from deploy.transport.base import Transport

T = TypeVar("T")


@dataclass
class Target:
    """One host of the run and what we know of it."""

    host: HostConfig
    transport: Transport
    ops: HostOps
    previous: str | None = None  # release `current` pointed at when the run started
    previous_artifact: str = ""  # that release's artifact sha256 (what a delta is computed against)
    facts: dict[str, Any] = field(default_factory=dict)  # POSIX: Python platform tag, dependency envs present
    releases: list[Any] = field(default_factory=list)  # the host's releases once the lock is held
    written: dict[str, dict[str, Any]] = field(default_factory=dict)  # release.json records this run wrote, by release
    switched: bool = False
    unpacked: bool = False
    locked: bool = False
    reverted: bool = False  # switched, then put back on `previous`
    done: bool = False  # already on the new release when a resumed deploy started
    error: str | None = None  # this host's own first failure (another host's never lands here)

    @property
    def name(self) -> str:
        return self.host.name


@dataclass
class RunContext:
    loaded: Loaded
    env_name: str
    env: EnvConfig
    bus: EventBus
    targets: list[Target]
    secrets: dict[str, Secret]
    command: str
    release_id: str | None = None
    artifact: Path | None = None
    sha256: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    hooks: HooksConfig = field(default_factory=HooksConfig)
    owner: dict[str, Any] = field(default_factory=dict)
    lock_wait: float = 0.0  # seconds to wait for another run's lock (--lock-wait)
    break_stale: bool = False  # break a lock whose holder is provably gone (--break-stale)
    lease: Any = None  # deploy.engine.lock.LockLease while held

    @cached_property
    def shipments(self) -> Any:
        """What travels to POSIX hosts (deploy.release.delta.Shipments), worked out once per run."""
        from deploy.artifact.verify import Limits, check_part, read_sidecar
        from deploy.release.delta import Shipments

        assert self.artifact is not None and self.sha256 is not None
        limits = Limits.of(self.env)
        return Shipments(self.artifact, self.sha256, self.manifest, read_sidecar(self.artifact).get("payload"),
                         lambda path, sha256, manifest_bytes, omit: check_part(path, sha256, manifest_bytes, omit, limits))

    @cached_property
    def batches(self) -> list[list[str]]:
        """Host names per batch; the targets of a run never change, so this is worked out once."""
        from deploy.engine.batches import make_batches

        return [[t.name for t in batch] for batch in make_batches(self.targets, self.env.rollout.batch)]

    @cached_property
    def _batch_numbers(self) -> dict[str, int]:
        return {name: n for n, names in enumerate(self.batches, 1) for name in names}

    def batch_of(self, target: "Target") -> int:
        return self._batch_numbers[target.name]

    def python(self, host: HostConfig) -> str:
        default = sys.executable if host.transport == "local" else "python3"
        return host.python or self.env.python or default

    def for_each(self, fn: Callable[[Target], T], targets: list[Target] | None = None) -> list[T]:
        """Run fn on every target in a bounded pool; re-raise the first failure after all finish."""
        targets = self.targets if targets is None else targets
        if len(targets) <= 1:
            return [fn(t) for t in targets]
        with ThreadPoolExecutor(max_workers=min(self.env.parallel, len(targets))) as pool:
            futures = [pool.submit(fn, t) for t in targets]
            errors = [f.exception() for f in futures if f.exception() is not None]
            if errors:
                raise errors[0]
            return [f.result() for f in futures]


def new_owner(command: str, revision: str = "", reason: str = "") -> dict[str, Any]:
    """Who runs: the lock and run records carry it, so a dead holder can be proven dead (liveness).
    The token is always fresh, never SHIPYARD_LOCK_TOKEN: a run the lock refuses must not be able
    to clear the holder's run record or release its lease (an inherited lease is the lock's call)."""
    return {
        "token": uuid.uuid4().hex,
        "user": os.environ.get("SHIPYARD_USER") or getpass.getuser(),
        **identity(),
        "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "revision": revision,
        "reason": reason,
    }


def host_ops(host: HostConfig, env: EnvConfig, transport: Transport) -> HostOps:
    layout = Layout(env.host_deploy_to(host), windows=host.is_windows)
    if host.is_windows:
        from deploy.release.windows import WindowsHostOps

        return WindowsHostOps(transport, layout, env.command_timeout)
    from deploy.release.posix import PosixHostOps

    return PosixHostOps(transport, layout, env.command_timeout)


def open_targets(env: EnvConfig, hosts: list[HostConfig] | None = None) -> list[Target]:
    """Connect every host, `parallel` at a time (a fleet's handshakes overlap, as `ssh` in a loop
    with -P would); if one fails, close the others and raise the first failure in host order.
    Insecure transport settings are announced first, on every run."""
    from deploy.transport.insecure import print_warnings

    print_warnings(env)
    chosen = hosts or env.hosts

    def connect(host: HostConfig) -> Target:
        transport = open_transport(host, env)
        return Target(host, transport, host_ops(host, env, transport))

    if len(chosen) <= 1:
        return [connect(h) for h in chosen]
    with ThreadPoolExecutor(max_workers=min(env.parallel, len(chosen))) as pool:
        futures = [pool.submit(connect, h) for h in chosen]
        outcomes = [(f.result() if f.exception() is None else f.exception()) for f in futures]
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    if errors:
        close_targets([o for o in outcomes if isinstance(o, Target)])
        raise errors[0]
    return outcomes  # type: ignore[return-value]


def open_reachable(env: EnvConfig) -> tuple[list[Target], dict[str, str]]:
    """Connect every host that answers, in parallel; the others by name with the reason.
    For the read-only verbs (status, releases): one host down must not hide the rest."""
    from deploy.errors import ShipyardError

    def one(host: HostConfig) -> Target | str:
        try:
            transport = open_transport(host, env)
        except ShipyardError as e:
            return str(e)
        return Target(host, transport, host_ops(host, env, transport))

    with ThreadPoolExecutor(max_workers=max(1, min(env.parallel, len(env.hosts)))) as pool:
        opened = list(pool.map(one, env.hosts))
    targets = [t for t in opened if isinstance(t, Target)]
    unreachable = {h.name: t for h, t in zip(env.hosts, opened) if isinstance(t, str)}
    return targets, unreachable


def close_targets(targets: list[Target]) -> None:
    for t in targets:
        t.transport.close()
