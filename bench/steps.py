"""Where a first deploy's wall goes, step by step, beside the scp + tar floor of the same run.

For 1 host and for 16 hosts (no requirements, then requirements): each stage's wall, and
within it each step's mean and slowest host; `gap` is the part of a stage no host step
covers (controller work: verifying the artifact, planning, lock bookkeeping). Remote
commands per host per stage beside them. With `--redeploy`: the 16 hosts' redeploy after a
10-file change (batches of 25 %, HAProxy drain, as in fanout.py) and its publishing timeline,
batch by batch and host by host: when each step started and ended after its batch started,
so what is waiting (between steps, between batches) shows beside what is work. Run as root:
python bench/steps.py [--hosts 16] [--redeploy]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from pathlib import Path

from farm_common import bench_lab, run
from labdisk import add_disk_option
from fanout import floor

from deploy.config import RolloutConfig
from deploy.report.events import parse_timestamp

STAGES = ("starting", "updating", "publishing", "finishing")


def breakdown(result) -> list[tuple[str, float, float]]:
    """(stage or stage/step, mean over hosts, slowest host) in stage order."""
    rows = []
    for stage in STAGES:
        total = result.stage_seconds(stage)
        per_step: dict[str, dict[str, float]] = {}
        for e in result.events:
            if e["kind"] == "step" and e.get("stage") == stage and e.get("host") != "-":
                per_step.setdefault(e["step"], {}).setdefault(e["host"], 0.0)
                per_step[e["step"]][e["host"]] += float(e.get("duration") or 0)
        rows.append((stage, total, total))
        covered = 0.0
        for name, hosts in per_step.items():
            mean, slowest = sum(hosts.values()) / len(hosts), max(hosts.values())
            covered += slowest
            rows.append((f"  {name}", mean, slowest))
        rows.append(("  gap (no host step)", max(0.0, total - covered), max(0.0, total - covered)))
    return rows


def show(case: str, result, floor_s: float) -> None:
    print(f"-- {case}: wall {result.wall:.2f} s = {result.wall / floor_s:.2f}x floor ({floor_s:.2f} s); "
          f"controller CPU {result.controller_cpu:.2f} s; receiver CPU per host {result.receive_cpu():.2f} s; commands/host "
          + " ".join(f"{k}={v:g}" for k, v in result.commands_per_host().items()))
    for name, mean, slowest in breakdown(result):
        print(f"{name:<28} mean {mean:6.2f} s  slowest {slowest:6.2f} s  {slowest / floor_s:5.2f}x floor")
    accounted = sum(result.stage_seconds(s) for s in STAGES)
    print(f"{'outside stages':<28} {result.wall - accounted:6.2f} s (connect, close, artifact checks)")


def seconds(event: dict) -> float:
    return parse_timestamp(event["ts"]).timestamp()


def forked_at(pid: int) -> float:
    """Epoch seconds when `pid` was forked, from its /proc start time (clock ticks since boot)."""
    ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    return time.time() - time.clock_gettime(time.CLOCK_BOOTTIME) + ticks / os.sysconf("SC_CLK_TCK")


def masters(hosts) -> dict[str, tuple[float, float, float]]:
    """host -> (new master forked, its keeper's USR2 verdict written, first worker forked), epoch s."""
    out = {}
    for h in hosts:
        with contextlib.suppress(OSError, ValueError, KeyError):
            verdict = json.loads((Path(h.deploy_to) / "shared/supervisor/web.upgrade").read_text())
            pid = verdict["master"]
            workers = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            out[h.name] = (forked_at(pid), verdict["at"], min(forked_at(int(w)) for w in workers))
    return out


def timeline(result, marks: dict[str, tuple[float, ...]]) -> None:
    """Per batch: its wall and the gap since the previous one ended; per host, each publishing
    step as start-end seconds after the batch started (a step's event is stamped at its end),
    and the host's own marks (see masters()) on the same clock."""
    batches = [e for e in result.events if e["kind"] == "batch"]
    starts = {e["batch"]: seconds(e) for e in batches if e["action"] == "start"}
    ends = {e["batch"]: seconds(e) for e in batches if e["action"] == "end"}
    attempts = {e["host"]: e.get("attempts") for e in result.events if e["kind"] == "health"}
    for number, began in sorted(starts.items()):
        hosts = next(e["hosts"] for e in batches if e["batch"] == number)
        since = began - ends[number - 1] if number - 1 in ends else float("nan")
        print(f"batch {number}: {ends[number] - began:5.2f} s, {since:5.3f} s after the previous one ended")
        for host in hosts:
            cells = [f"{e['step']} {seconds(e) - e['duration'] - began:5.2f}-{seconds(e) - began:5.2f}"
                     for e in result.events if e["kind"] == "step" and e.get("host") == host
                     and e.get("stage") == "publishing" and e["step"] != "serve"]
            own = " ".join(f"{t - began:5.2f}" for t in marks.get(host, ()))
            print(f"  {host:<8} " + "  ".join(cells) + f"  (forked/verdict/worker {own}; health attempts {attempts.get(host)})")


def redeploy(bench, hosts) -> None:
    """A first deploy with requirements, then the 10-file redeploy of fanout.py, its timeline shown."""
    bench.reset_hosts()
    bench.with_requirements()
    bench.commit_and_build("bench: requirements")
    names = {h.name for h in hosts}
    env = bench.env(rollout=RolloutConfig(batch="25%", drain="haproxy")).model_copy(
        update={"hosts": [h for h in bench.env().hosts if h.name in names], "parallel": 16})
    if (first := run(bench, env)).error:
        raise SystemExit(f"deploy failed: {first.error}")
    floor_s = floor(bench, hosts).wall
    bench.change_files(10)
    bench.commit_and_build("bench: 10 files changed")
    result = run(bench, env)
    if result.error:
        raise SystemExit(f"redeploy failed: {result.error}")
    show(f"redeploy, 10 files changed, {len(hosts)} hosts", result, floor_s)
    timeline(result, masters(hosts))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--redeploy", action="store_true", help="the 10-file redeploy and its publishing timeline")
    add_disk_option(parser)
    args = parser.parse_args()
    count = args.hosts
    with bench_lab(count + 1, vendor=True, disk=args.disk) as bench:
        if args.redeploy:
            return redeploy(bench, bench.lab.hosts[1:])
        one, many = bench.lab.hosts[:1], bench.lab.hosts[1:]
        for label, setup in (("no requirements", bench.without_requirements), ("requirements", bench.with_requirements)):
            bench.reset_hosts()
            setup()
            bench.commit_and_build(f"bench: {label}")
            for hosts in (one, many):
                floor_s = floor(bench, hosts).wall
                names = {h.name for h in hosts}
                env = bench.env(rollout=RolloutConfig(batch="100%", drain="haproxy")).model_copy(
                    update={"hosts": [h for h in bench.env().hosts if h.name in names], "parallel": 16})
                result = run(bench, env)
                if result.error:
                    raise SystemExit(f"deploy failed: {result.error}")
                show(f"first deploy, {len(hosts)} host(s), {label}", result, floor_s)


if __name__ == "__main__":
    main()
