"""Where a first deploy's wall goes, step by step, beside the scp + tar floor of the same run.

For 1 host and for 16 hosts (no requirements, then requirements): each stage's wall, and
within it each step's mean and slowest host; `gap` is the part of a stage no host step
covers (controller work: verifying the artifact, planning, lock bookkeeping). Remote
commands per host per stage beside them. Run as root:
python bench/steps.py [--hosts 16]
"""

from __future__ import annotations

import argparse

from farm_common import bench_lab, run
from labdisk import add_disk_option
from fanout import floor

from deploy.config import RolloutConfig

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=16)
    add_disk_option(parser)
    args = parser.parse_args()
    count = args.hosts
    with bench_lab(count + 1, vendor=True, disk=args.disk) as bench:
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
