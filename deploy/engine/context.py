"""Everything one deploy or rollback run carries: config, hosts, artifact, events."""

from __future__ import annotations

import getpass
import os
import socket
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

from deploy.config import EnvConfig, HooksConfig, HostConfig, Loaded
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
    switched: bool = False
    unpacked: bool = False
    locked: bool = False
    reverted: bool = False  # switched, then put back on `previous`
    done: bool = False  # already on the new release when a resumed deploy started

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
    lease: Any = None  # deploy.engine.lock.LockLease while held

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
    return {
        "token": os.environ.get("SHIPYARD_LOCK_TOKEN") or uuid.uuid4().hex,
        "user": os.environ.get("SHIPYARD_USER") or getpass.getuser(),
        "machine": socket.gethostname(),
        "pid": os.getpid(),
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
    """Connect every host (closing those already opened if one fails)."""
    targets: list[Target] = []
    try:
        for host in hosts or env.hosts:
            transport = open_transport(host, env)
            targets.append(Target(host, transport, host_ops(host, env, transport)))
    except BaseException:
        close_targets(targets)
        raise
    return targets


def close_targets(targets: list[Target]) -> None:
    for t in targets:
        t.transport.close()
