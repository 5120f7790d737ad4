"""Shared set-up of the farm benchmarks: a lab of N hosts and a git project of the example
site (optionally with Django vendored in, ~18 MB / ~3,000 files like a real site), deployed
in-process so stage timings and bytes come from the event bus. Root only (namespaces)."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.artifact import build_artifact  # noqa: E402
from deploy.artifact.verify import read_sidecar  # noqa: E402
from deploy.config import EnvConfig, Loaded, load  # noqa: E402
from deploy.engine.context import RunContext, close_targets, new_owner, open_targets  # noqa: E402
from deploy.lab import farm  # noqa: E402
from deploy.lab.proc import read_pid  # noqa: E402
from deploy.report.events import EventBus  # noqa: E402
from labdisk import lab_disk  # noqa: E402

IDENT = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.invalid",
         "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.invalid"}


@dataclass
class Project:
    """The benchmarks' git project and the artifact last built from it (no lab needed)."""

    root: Path
    loaded: Loaded
    artifact: Path = field(init=False)

    def git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True, env={**os.environ, **IDENT})

    def first_build(self) -> Path:
        self.git("init", "-q", "-b", "main")
        return self.commit_and_build("bench v1")

    def commit_and_build(self, message: str) -> Path:
        self.git("add", "-A")
        self.git("commit", "-qm", message, "--allow-empty")
        self.artifact = build_artifact(self.loaded, log=lambda _: None).path
        return self.artifact

    def without_requirements(self) -> None:
        (self.root / "site" / "requirements.txt").unlink(missing_ok=True)

    def with_requirements(self) -> None:
        shutil.copyfile(ROOT / "examples" / "site" / "requirements.txt", self.root / "site" / "requirements.txt")

    def change_files(self, count: int) -> None:
        """Touch `count` files of the vendored tree (or the site) with new content."""
        files = sorted((self.root / "site").rglob("*.py"))[:count]
        for f in files:
            f.write_text(f.read_text() + f"\n# bench change {uuid.uuid4().hex}\n")


@dataclass
class Bench(Project):
    lab: farm.Lab = field(kw_only=True)

    def env(self, hosts: int | None = None, **changes: Any) -> EnvConfig:
        env = self.loaded.environment("lab")
        if hosts is not None:
            changes["hosts"] = env.hosts[:hosts]
        return env.model_copy(update=changes)

    def reset_hosts(self) -> None:
        """Every host back to nothing deployed: its supervisord stopped, its deploy root removed."""
        from deploy.lab.proc import stop_pid

        for host in self.lab.hosts:
            for pidfile in host.root.glob("**/supervisord.pid"):
                if pid := read_pid(pidfile):
                    stop_pid(pid, timeout=15)
            shutil.rmtree(host.deploy_to, ignore_errors=True)


@dataclass
class RunResult:
    wall: float  # from opening the connections to closing them: the command's own wall time
    events: list[dict]
    error: BaseException | None
    commands: dict[str, dict[str, int]] = field(default_factory=dict)  # host -> stage -> remote commands
    shipped: dict[str, int] = field(default_factory=dict)  # host -> bytes sent (stdin + uploads)
    controller_cpu: float = 0.0

    def commands_per_host(self) -> dict[str, float]:
        """Mean remote commands per host for each stage (and `other`: lock release, connection)."""
        stages: dict[str, list[int]] = {}
        for per_stage in self.commands.values():
            for name, n in per_stage.items():
                stages.setdefault(name, []).append(n)
        return {name: sum(v) / len(v) for name, v in stages.items()}

    def stage_seconds(self, name: str) -> float:
        """The stage's duration (every host gets the same stage.end event; take the first)."""
        ends = [e for e in self.events if e["kind"] == "stage.end" and e.get("stage") == name and "duration" in e]
        return float(ends[0]["duration"]) if ends else float("nan")

    def sent_bytes(self) -> dict[str, int]:
        return {e["host"]: e["bytes"] for e in self.events if e["kind"] == "upload.progress"}

    def receive_cpu(self) -> float:
        """Mean CPU-s per host of the updating stage's receiver (its own report: python + tar), nan if none."""
        cpu = [e["host_cpu"] for e in self.events if e["kind"] == "upload.progress" and "host_cpu" in e]
        return sum(cpu) / len(cpu) if cpu else float("nan")


class StageCounter:
    """Remote commands per host per stage, read from each transport's counter at stage events;
    whatever ran outside a stage (the lock release at the end) is counted as `other`."""

    def __init__(self) -> None:
        self.transports: dict[str, Any] = {}
        self.open: dict[str, tuple[str, int]] = {}
        self.counts: dict[str, dict[str, int]] = {}

    def __call__(self, event: dict) -> None:
        host = event.get("host")
        if host not in self.transports:
            return
        if event["kind"] == "stage.start":
            self.open[host] = (event["stage"], self.transports[host].commands)
        elif event["kind"] == "stage.end" and host in self.open:
            stage, start = self.open.pop(host)
            per = self.counts.setdefault(host, {})
            per[stage] = per.get(stage, 0) + self.transports[host].commands - start

    def finish(self) -> dict[str, dict[str, int]]:
        for host, transport in self.transports.items():
            per = self.counts.setdefault(host, {})
            per["other"] = transport.commands - sum(per.values())
        return self.counts


def run(bench: Bench, env: EnvConfig, command: str = "deploy", to: str | None = None) -> RunResult:
    from deploy.engine import flow

    events: list[dict] = []
    bus, counter = EventBus(), StageCounter()
    bus.subscribe(events.append)
    bus.subscribe(counter)
    started, cpu0, error = time.monotonic(), self_cpu(), None
    targets = open_targets(env)
    counter.transports = {t.name: t.transport for t in targets}
    ctx = RunContext(bench.loaded, "lab", env, bus, targets, {}, command, owner=new_owner(command))
    try:
        flow.deploy(ctx, bench.artifact) if command == "deploy" else flow.rollback(ctx, to)
    except BaseException as e:  # noqa: BLE001 - a bench reports, it does not crash half-way
        error = e
    finally:
        close_targets(ctx.targets)
    wall = time.monotonic() - started
    return RunResult(wall, events, error, counter.finish(), {t.name: t.transport.transferred_bytes for t in targets},
                     self_cpu() - cpu0)


def sshd_cpu(lab: farm.Lab, settle: float = 10.0) -> dict[str, float]:
    """CPU seconds used under each host's listening sshd, reaped children included (utime+stime+cutime+cstime).
    A connection's CPU reaches the listener only once that connection's sshd has exited and been
    reaped, which happens just after the client closes: wait (up to `settle` s) for every one to go,
    else a run that used one connection per host reads as 0."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for host in lab.hosts:
        pid = read_pid(host.root / "sshd.pid")
        deadline = time.monotonic() + settle
        while Path(f"/proc/{pid}/task/{pid}/children").read_text().split() and time.monotonic() < deadline:
            time.sleep(0.05)
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out[host.name] = sum(int(x) for x in fields[11:15]) / tick
    return out


def served_cpu(lab: farm.Lab, settle: float = 15.0) -> dict[str, float]:
    """CPU seconds of what each host serves with: its managed supervisord and every process under
    it (keeper, gunicorn master and workers; the ones already reaped are in their parents' counters).
    supervisord daemonizes away from sshd, so sshd_cpu never sees it: a deploy's restarts and the
    workers' imports are counted here. Waits (up to `settle` s) until the totals stop growing: a
    health check passes on the first worker that answers while the others may still be booting."""
    def totals() -> dict[str, float]:
        return {h.name: sum(tree_cpu(read_pid(p)) for p in h.root.glob("**/supervisord.pid")) for h in lab.hosts}

    deadline, last = time.monotonic() + settle, totals()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = totals()
        if sum(now.values()) - sum(last.values()) < 0.01 * len(now):
            return now
        last = now
    return last


def tree_cpu(root: int | None) -> float:
    """utime+stime+cutime+cstime of `root` and every live descendant (0 when it is gone)."""
    tick, children, cpu = os.sysconf("SC_CLK_TCK"), {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        cpu[pid] = sum(int(x) for x in fields[11:15]) / tick
    total, todo = 0.0, [root] if root in cpu else []
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo += children.get(pid, [])
    return total


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_repo(base: Path, vendor: bool = False) -> Path:
    """A project of the example site (Django vendored in with `vendor`), not yet a git repo."""
    repo = base / "repo"
    repo.mkdir(parents=True)
    shutil.copytree(ROOT / "examples" / "site", repo / "site", ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    if vendor:
        import django

        shutil.copytree(Path(django.__file__).parent, repo / "site" / "vendor" / "django",
                        ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    (repo / "shipyard.toml").write_text('[project]\nname = "site"\napp_dir = "site"\n')
    (repo / ".gitignore").write_text(".shipyard/\ndist/\n__pycache__/\n")
    os.environ.setdefault("SHIPYARD_WHEEL_CACHE", "/tmp/shipyard-farm-wheels")
    return repo


@contextlib.contextmanager
def bench_lab(hosts: int, vendor: bool = False, disk: str = "journaled") -> Iterator[Bench]:
    """A lab of `hosts` on its own disk (bench/labdisk.py: a journaled ext4 unless `disk` = "here")."""
    base = Path(f"/tmp/sybench-{uuid.uuid4().hex[:6]}")
    with lab_disk(base, disk) as what:
        repo = make_repo(base, vendor)
        try:
            lab = farm.up(base / "lab", hosts, env_file=repo / ".shipyard" / "env" / "lab.toml")
            b = Bench(repo, load(repo / "shipyard.toml"), lab=lab)
            b.first_build()
            print(f"lab: {hosts} hosts ({lab.mode}) on {what}; artifact {b.artifact.stat().st_size / 1e6:.1f} MB, "
                  f"sha256 {read_sidecar(b.artifact)['sha256'][:12]}")
            yield b
        finally:
            farm.down(base / "lab")
