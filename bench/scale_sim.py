"""SIMULATION: the deploy flow (stages, lock, bounded fan-out pool, batches) over 16 and 256
*simulated* hosts whose per-command latencies were measured on a real lab host in the same
run (SSH round trip, upload throughput, unpack and restart time). No real host is touched
by the simulated runs; they show how the engine's own overhead scales: wall time (256 vs 16)
and peak Python memory. Run as root: python bench/scale_sim.py"""

from __future__ import annotations

import io
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from farm_common import bench_lab

from deploy.artifact.bundle import native_platform
from deploy.config import EnvConfig, HealthConfig, HostConfig, Loaded, RolloutConfig
from deploy.engine.context import RunContext, Target, new_owner
from deploy.errors import LockHeld
from deploy.release.hostops import GOOD, Finished, HostOps, ReleaseInfo
from deploy.release.layout import Layout
from deploy.report.outputs import make_bus
from deploy.transport.base import Result, Transport
from deploy.transport.ssh import SshTransport


@dataclass
class Latency:
    rtt: float  # one command round trip
    bytes_per_s: float  # upload throughput
    unpack: float
    restart: float


def measure(bench) -> Latency:
    env = bench.env(1)
    with SshTransport.connect(env.hosts[0], env) as t:
        started = time.monotonic()
        for _ in range(20):
            t.run(["true"], timeout=10)
        rtt = (time.monotonic() - started) / 20
        started = time.monotonic()
        t.put(bench.artifact, f"{env.hosts[0].deploy_to}/sim.tgz")
        upload = time.monotonic() - started
        started = time.monotonic()
        t.run(f"mkdir -p /tmp/simx-$$ && tar -xzf {env.hosts[0].deploy_to}/sim.tgz -C /tmp/simx-$$ && rm -rf /tmp/simx-$$", timeout=60)
        unpack = time.monotonic() - started
    return Latency(rtt, bench.artifact.stat().st_size / upload, unpack, restart=1.5)


class SimTransport(Transport):
    def run(self, command, *, timeout, env=None, stdin=None, cwd=None, check=True) -> Result:
        return Result(self.name, command, 0, "", "", 0.0)

    def put(self, local, remote, *, sha256=None) -> None:
        pass

    def get(self, remote, local) -> None:
        pass


class SimHostOps(HostOps):
    """Keeps a host's state in memory; every verb costs the measured latency."""

    def __init__(self, transport: Transport, latency: Latency):
        super().__init__(transport, Layout(f"/sim/{transport.name}"))
        self.lat, self.lock, self.rel, self.cur, self.journal = latency, None, {}, None, []
        self.mutex = threading.Lock()

    def _cost(self, seconds: float = 0.0) -> None:
        time.sleep(self.lat.rtt + seconds)

    def prepare(self, linked_dirs, linked_files) -> None:
        self._cost()

    def acquire_lock(self, owner: dict[str, Any]) -> None:
        self._cost()
        with self.mutex:
            if self.lock:
                raise LockHeld(self.host, str(self.lock.get("user")))
            self.lock = dict(owner)

    def release_lock(self, token: str) -> None:
        self._cost()
        if self.lock and self.lock["token"] == token:
            self.lock = None

    def read_lock(self) -> dict[str, Any] | None:
        self._cost()
        return self.lock

    def upload(self, artifact: Path, sha256: str) -> str:
        self._cost(artifact.stat().st_size / self.lat.bytes_per_s)
        return "sim.tgz"

    def clean_leftovers(self) -> None:
        self._cost()

    def disk_space(self, env_key: str) -> tuple[int, bool]:
        self._cost()
        return 1 << 40, False

    def facts(self, python, env_keys) -> dict[str, Any]:
        self._cost()
        return {"platform": native_platform(), "envs": []}

    def receive(self, upload) -> dict[str, Any]:
        """The one streamed update command: the release part and bundle at the measured throughput."""
        size = upload.shipment.part.size + (upload.deps.bundle.size if upload.deps and upload.deps.bundle else 0)
        self._cost(size / self.lat.bytes_per_s + self.lat.unpack)
        self.rel[upload.release_id] = "pending"
        return {"sent": size}

    def unpack(self, remote, release_id, info) -> None:
        self._cost(self.lat.unpack)
        self.rel[release_id] = "pending"

    def link_shared(self, release_id, linked_dirs, linked_files) -> None:
        self._cost()

    def install(self, release_id, python, env_key, requirements="requirements.txt") -> None:
        self._cost()

    def write_files(self, release_id, files, dirs) -> None:
        self._cost()

    def set_status(self, release_id, status, extra=None) -> None:
        self._cost()
        self.rel[release_id] = status

    def releases(self) -> list[ReleaseInfo]:
        self._cost()
        return self._listing()

    def _listing(self) -> list[ReleaseInfo]:
        return [ReleaseInfo(r, s, current=r == self.cur) for r, s in sorted(self.rel.items())]

    def begin(self, owner, linked_dirs, linked_files) -> list[ReleaseInfo]:
        """One round trip, as PosixHostOps.begin: prepare, lock, leftovers, listing."""
        self.acquire_lock(owner)
        return self._listing()

    def finish(self, release_id, marks, entry, doomed):
        """One round trip, as PosixHostOps.finish."""
        self._cost()
        if self.cur != release_id:
            return None
        for rid, record in marks.items():
            self.rel[rid] = record["status"]
        self.journal.append(entry)
        for i in doomed:
            self.rel.pop(i, None)
        return Finished(removed=list(doomed))

    def probe(self, env_key, python="", bundle_keys=None):
        """One round trip, as PosixHostOps.probe."""
        self._cost()
        return 1 << 40, False, None if bundle_keys is None else {"platform": native_platform(), "envs": []}

    def switch(self, release_id) -> None:
        self._cost()
        self.cur = release_id

    def remove_releases(self, ids) -> list[str]:
        self._cost()
        for i in ids:
            self.rel.pop(i, None)
        return []

    def append_journal(self, entry) -> None:
        self._cost()
        self.journal.append(entry)

    def read_journal(self) -> list[dict[str, Any]]:
        self._cost()
        return list(self.journal)

    def read_manifest(self, release_id) -> dict[str, Any]:
        self._cost()
        return {}

    def run_hook(self, release_id, command, env, secrets) -> Result:
        self._cost()
        return Result(self.host, command, 0, "", "", 0.0)


def simulate(hosts: int, latency: Latency, artifact: Path, loaded: Loaded, parallel: int) -> tuple[float, float, int]:
    """One simulated deploy with every real sink attached (events file, JUnit, HTML, plain progress)."""
    from deploy.engine import flow

    configs = [HostConfig(name=f"sim{i}", transport="ssh") for i in range(hosts)]
    env = EnvConfig(hosts=configs, rollout=RolloutConfig(batch="25%"), health=HealthConfig(url=None), parallel=parallel)
    targets = []
    for h in configs:
        transport = SimTransport(h)
        targets.append(Target(h, transport, SimHostOps(transport, latency)))
    with tempfile.TemporaryDirectory() as tmp:
        bus = make_bus(f"{tmp}/events.jsonl", f"{tmp}/junit.xml", f"{tmp}/report.html", interactive=False,
                       stream=io.StringIO())
        ctx = RunContext(loaded, "sim", env, bus, targets, {}, "deploy", owner=new_owner("deploy"))
        tracemalloc.start()
        started = time.monotonic()
        flow.deploy(ctx, artifact)
        bus.close()
        wall = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        events = sum(1 for _ in open(f"{tmp}/events.jsonl"))
    assert all(t.ops.cur == ctx.release_id and t.ops.rel[ctx.release_id] == GOOD for t in targets)
    return wall, peak, events


def main() -> None:
    with bench_lab(1) as bench:
        lat = measure(bench)
        print(f"measured on lab1: rtt {lat.rtt * 1000:.1f} ms, upload {lat.bytes_per_s / 1e6:.1f} MB/s, "
              f"unpack {lat.unpack:.2f} s (restart modelled as {lat.restart} s, not used: no services in the sim)")
        for parallel in (None, 10):
            results = {n: simulate(n, lat, bench.artifact, bench.loaded, parallel or n) for n in (16, 256)}
            pool = "as wide as the fleet" if parallel is None else f"parallel={parallel}"
            print(f"SIMULATION (simulated transport; latencies above; pool {pool}; real event sinks):")
            for n, (wall, peak, events) in results.items():
                print(f"  {n:>3} hosts: wall {wall:6.2f} s, peak Python memory {peak:6.1f} MB, {events} events "
                      f"({events / n:.1f} per host)")
            ratio = results[256][0] / results[16][0]
            goal = f" goal <= 3.0: {'ok' if ratio <= 3 else 'MISSED'}" if parallel is None else " (queueing in the pool)"
            print(f"  256/16 wall ratio {ratio:.2f}{goal}")


if __name__ == "__main__":
    main()
