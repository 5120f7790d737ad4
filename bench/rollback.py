"""Rollback seconds per host on the lab: deploy v1, deploy v2, then `rollback` (to v1), one
host at a time behind HAProxy (batch 1) and all at once (batch 100 %), beside the deploy of
v2 measured in the same run. Goal (issue 15): per host, at most 1 s beyond the restart and
health check the environment configures (printed apart: `restart+health s/host`), with no
re-verify or re-upload (remote commands per host printed). Run as root:
python bench/rollback.py [--hosts 4]"""

from __future__ import annotations

import argparse

from farm_common import bench_lab, run

from deploy.config import RolloutConfig


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=4)
    hosts = parser.parse_args().hosts
    with bench_lab(hosts) as bench:
        print(f"{'case':<40} {'wall s':>7} {'s/host':>7} {'vs deploy':>9} {'restart+health s/host':>22} "
              f"{'rest s/host':>11}  remote commands per host per stage")
        for batch in (1, "100%"):
            env = bench.env(rollout=RolloutConfig(batch=batch, drain="haproxy"))
            assert run(bench, env).error is None
            bench.commit_and_build(f"v2 batch {batch}")
            deployed = run(bench, env)
            back = run(bench, env, command="rollback")
            assert deployed.error is None and back.error is None, (deployed.error, back.error)
            for name, r in ((f"deploy v2 (batch {batch})", deployed), (f"rollback to v1 (batch {batch})", back)):
                service = service_seconds(r) / hosts
                per_host = r.wall / hosts if batch == 1 else r.wall
                rest = per_host - (service if batch == 1 else service_seconds(r, slowest=True))
                stages = " ".join(f"{k[:5]}={v:g}" for k, v in r.commands_per_host().items())
                print(f"{name:<40} {r.wall:7.2f} {r.wall / hosts:7.2f} {r.wall / deployed.wall:9.2f} {service:22.2f} "
                      f"{rest:11.2f}  {stages}")
        print("rest s/host: wall per host (batch 1) or wall (all at once) less the restart and health steps "
              "(their mean, or the slowest host's): the rollback's own cost, goal <= 1 s.")


def service_seconds(result, slowest: bool = False) -> float:
    """Seconds spent in publishing/restart and publishing/health: summed over hosts, or the slowest host's."""
    per_host: dict[str, float] = {}
    for e in result.events:
        if e["kind"] == "step" and e.get("stage") == "publishing" and e.get("step") in ("restart", "health"):
            per_host[e["host"]] = per_host.get(e["host"], 0.0) + float(e.get("duration", 0))
    return max(per_host.values(), default=0.0) if slowest else sum(per_host.values())


if __name__ == "__main__":
    main()
