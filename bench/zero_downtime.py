"""Failed requests while deploying 3 lab hosts behind HAProxy, measured with wrk (bounded
duration, against HAProxy on 127.0.0.1): Shipyard's rolling deploy (batch 1, drain in HAProxy)
versus a naive "restart all at once" (batch 100 %, no drain). Goal: 0 failed for the rolling deploy.
Run as root: python bench/zero_downtime.py [--seconds 25]"""

from __future__ import annotations

import argparse
import re
import subprocess
import time

from farm_common import bench_lab, run

from deploy.config import RolloutConfig


def failed_requests(wrk_output: str) -> tuple[int, int]:
    total = int(re.search(r"(\d+) requests in", wrk_output).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", wrk_output)) else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", wrk_output)
    return total, non2xx + (sum(int(x) for x in sock.groups()) if sock else 0)


def under_load(bench, rollout: RolloutConfig, seconds: int) -> tuple[int, int, float]:
    wrk = subprocess.Popen(["wrk", "-t2", "-c8", f"-d{seconds}s", "--timeout", "5s",
                            bench.lab.frontend_url + "/health/"], stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    result = run(bench, bench.env(rollout=rollout))
    out, _ = wrk.communicate(timeout=seconds + 30)
    if result.error:
        raise SystemExit(f"deploy failed: {result.error}")
    total, failed = failed_requests(out)
    return total, failed, result.wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=25)
    seconds = parser.parse_args().seconds
    with bench_lab(3) as bench:
        assert run(bench, bench.env()).error is None  # every host serving before we measure
        rows = [("rolling (batch 1, HAProxy drain)", *under_load(bench, RolloutConfig(batch=1, drain="haproxy"), seconds)),
                ("naive (all at once, no drain)", *under_load(bench, RolloutConfig(batch="100%", drain="none"), seconds))]
        print(f"{'deploy':<36} {'requests':>9} {'failed':>7} {'failed %':>9} {'deploy s':>9}")
        for name, total, failed, wall in rows:
            print(f"{name:<36} {total:>9} {failed:>7} {100 * failed / max(total, 1):>8.3f}% {wall:>9.2f}")
        base = rows[1][2]
        print(f"rolling/naive failed requests: {rows[0][2]}/{base}" + (" (0 = goal met)" if rows[0][2] == 0 else ""))


if __name__ == "__main__":
    main()
