"""Rollback seconds per host on the lab: deploy v1, deploy v2, then `rollback` (to v1), one
host at a time behind HAProxy (batch 1) and all at once (batch 100 %), beside the deploy of
v2 measured in the same run. Run as root: python bench/rollback.py [--hosts 4]"""

from __future__ import annotations

import argparse

from farm_common import bench_lab, run

from deploy.config import RolloutConfig


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=4)
    hosts = parser.parse_args().hosts
    with bench_lab(hosts) as bench:
        print(f"{'case':<40} {'wall s':>7} {'s/host':>7} {'vs deploy':>9}")
        for batch in (1, "100%"):
            env = bench.env(rollout=RolloutConfig(batch=batch, drain="haproxy"))
            assert run(bench, env).error is None
            bench.commit_and_build(f"v2 batch {batch}")
            deployed = run(bench, env)
            back = run(bench, env, command="rollback")
            assert deployed.error is None and back.error is None, (deployed.error, back.error)
            for name, r in ((f"deploy v2 (batch {batch})", deployed), (f"rollback to v1 (batch {batch})", back)):
                print(f"{name:<40} {r.wall:7.2f} {r.wall / hosts:7.2f} {r.wall / deployed.wall:9.2f}")


if __name__ == "__main__":
    main()
