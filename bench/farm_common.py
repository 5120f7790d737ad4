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

IDENT = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.invalid",
         "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.invalid"}


@dataclass
class Bench:
    root: Path
    lab: farm.Lab
    loaded: Loaded
    artifact: Path = field(init=False)

    def git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True, env={**os.environ, **IDENT})

    def commit_and_build(self, message: str) -> Path:
        self.git("add", "-A")
        self.git("commit", "-qm", message, "--allow-empty")
        self.artifact = build_artifact(self.loaded, log=lambda _: None).path
        return self.artifact

    def env(self, hosts: int | None = None, **changes: Any) -> EnvConfig:
        env = self.loaded.environment("lab")
        if hosts is not None:
            changes["hosts"] = env.hosts[:hosts]
        return env.model_copy(update=changes)

    def change_files(self, count: int) -> None:
        """Touch `count` files of the vendored tree (or the site) with new content."""
        files = sorted((self.root / "site").rglob("*.py"))[:count]
        for f in files:
            f.write_text(f.read_text() + f"\n# bench change {uuid.uuid4().hex}\n")


@dataclass
class RunResult:
    wall: float
    events: list[dict]
    error: BaseException | None

    def stage_seconds(self, name: str) -> float:
        """The stage's duration (every host gets the same stage.end event; take the first)."""
        ends = [e for e in self.events if e["kind"] == "stage.end" and e.get("stage") == name and "duration" in e]
        return float(ends[0]["duration"]) if ends else float("nan")

    def sent_bytes(self) -> dict[str, int]:
        return {e["host"]: e["bytes"] for e in self.events if e["kind"] == "upload.progress"}


def run(bench: Bench, env: EnvConfig, command: str = "deploy", to: str | None = None) -> RunResult:
    from deploy.engine import flow

    events: list[dict] = []
    bus = EventBus()
    bus.subscribe(events.append)
    ctx = RunContext(bench.loaded, "lab", env, bus, open_targets(env), {}, command, owner=new_owner(command))
    started, error = time.monotonic(), None
    try:
        flow.deploy(ctx, bench.artifact) if command == "deploy" else flow.rollback(ctx, to)
    except BaseException as e:  # noqa: BLE001 - a bench reports, it does not crash half-way
        error = e
    finally:
        close_targets(ctx.targets)
    return RunResult(time.monotonic() - started, events, error)


def sshd_cpu(lab: farm.Lab) -> dict[str, float]:
    """CPU seconds used under each host's listening sshd, reaped children included (utime+stime+cutime+cstime)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for host in lab.hosts:
        pid = read_pid(host.root / "sshd.pid")
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out[host.name] = sum(int(x) for x in fields[11:15]) / tick
    return out


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def bench_lab(hosts: int, vendor: bool = False) -> Iterator[Bench]:
    base = Path(f"/tmp/sybench-{uuid.uuid4().hex[:6]}")
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
    b = None
    try:
        lab = farm.up(base / "lab", hosts, env_file=repo / ".shipyard" / "env" / "lab.toml")
        b = Bench(repo, lab, load(repo / "shipyard.toml"))
        b.git("init", "-q", "-b", "main")
        b.commit_and_build("bench v1")
        print(f"lab: {hosts} hosts ({lab.mode}); artifact {b.artifact.stat().st_size / 1e6:.1f} MB, "
              f"sha256 {read_sidecar(b.artifact)['sha256'][:12]}")
        yield b
    finally:
        farm.down(base / "lab")
        shutil.rmtree(base, ignore_errors=True)
