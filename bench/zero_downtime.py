"""Failed requests while deploying, measured with wrk (bounded duration, non-2xx and socket
errors counted), each figure against a baseline measured in the same run:

  single host  the local environment on 127.0.0.1 (supervisord + gunicorn, no balancer):
               Shipyard's redeploy of new code (gunicorn HUP), of new dependencies (USR2
               binary upgrade) and of new code with `preload = true` (USR2: a new master
               imports it) versus a plain `supervisorctl restart` (stop, then start).
  farm         3 lab hosts behind HAProxy: the rolling deploy (batch 1, drain) versus a
               naive "restart all at once" (batch 100 %, no drain).

Goal: 0 failed for every Shipyard row. Run as root, under both locks:
    flock /tmp/shipyard-lab.lock flock /tmp/shipyard-bench.lock python bench/zero_downtime.py [--seconds 40] [--only single|farm]"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

from farm_common import IDENT, ROOT, bench_lab, run

from deploy.config import RolloutConfig

Row = tuple[str, int, int, float]


def failed_requests(wrk_output: str) -> tuple[int, int]:
    total = int(re.search(r"(\d+) requests in", wrk_output).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", wrk_output)) else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", wrk_output)
    return total, non2xx + (sum(int(x) for x in sock.groups()) if sock else 0)


def under_load(url: str, seconds: int, action: Callable[[], None]) -> tuple[int, int, float]:
    """(requests, failed, seconds the action took) with wrk running across the action."""
    wrk = subprocess.Popen(["wrk", "-t2", "-c8", f"-d{seconds}s", "--timeout", "5s", url],
                           stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    started = time.monotonic()
    action()
    took = time.monotonic() - started
    out, _ = wrk.communicate(timeout=seconds + 30)
    if took > seconds - 1:
        raise SystemExit(f"the action took {took:.1f}s, longer than the load ({seconds}s): rerun with a larger --seconds")
    return (*failed_requests(out), took)


class LocalSite:
    """A git project of the example site whose local env serves on a free loopback port."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(ROOT / "examples" / "site", root / "site", ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        (root / "shipyard.toml").write_text(
            '[project]\nname = "site"\napp_dir = "site"\n[hooks]\n'
            'before_publishing = ["$SHIPYARD_PYTHON manage.py migrate --noinput"]\n'
            f'[env.local]\nhosts = [{{ name = "localhost", transport = "local" }}]\napp_port = {self.port}\n'
            'supervisor = { program = "web", workers = 2 }\n')
        (root / "tasks.py").write_text("from deploy.tasks import ns  # noqa: F401\n")
        (root / ".gitignore").write_text(".shipyard/\ndist/\n__pycache__/\n")
        self.env = {**os.environ, **IDENT, "PYTHONPATH": str(ROOT)}
        self.env.setdefault("SHIPYARD_WHEEL_CACHE", "/tmp/shipyard-farm-wheels")
        self.sh("git", "init", "-q", "-b", "main")
        self.commit("v1")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health/"

    def sh(self, *argv: str) -> None:
        subprocess.run(argv, cwd=self.root, env=self.env, check=True, capture_output=True)

    def commit(self, message: str) -> None:
        self.sh("git", "add", "-A")
        self.sh("git", "commit", "-qm", message, "--allow-empty")

    def invoke(self, *args: str) -> None:
        self.sh(sys.executable, "-m", "invoke", *args)

    def redeploy(self, change: Callable[[], None], message: str) -> Callable[[], None]:
        change()
        self.commit(message)
        self.invoke("build")
        return lambda: self.invoke("deploy")

    def preload(self) -> None:
        toml = self.root / "shipyard.toml"
        toml.write_text(toml.read_text().replace("workers = 2 }", "workers = 2, preload = true }"))

    def naive_restart(self) -> None:
        conf = self.root / ".shipyard" / "local" / "shared" / "supervisor" / "supervisord.conf"
        self.sh(sys.executable, "-m", "supervisor.supervisorctl", "-c", str(conf), "restart", "web")


@contextlib.contextmanager
def local_site() -> Iterator[LocalSite]:
    root = Path(f"/tmp/syzero-{uuid.uuid4().hex[:6]}")
    site = None
    try:
        site = LocalSite(root)
        site.invoke("build", "deploy")
        yield site
    finally:
        if site is not None:
            subprocess.run([sys.executable, "-m", "invoke", "stop"], cwd=root, env=site.env, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def single_host(seconds: int) -> list[Row]:
    with local_site() as site:
        code = site.redeploy(lambda: (site.root / "site" / "CHANGES.txt").write_text("v2\n"), "v2: code")
        hup = under_load(site.url, seconds, code)
        requirements = site.root / "site" / "requirements.txt"
        deps = site.redeploy(lambda: requirements.write_text(requirements.read_text() + "six\n"), "v3: a dependency")
        usr2 = under_load(site.url, seconds, deps)
        site.redeploy(site.preload, "preload the app")()  # a program setting: restarts, so not measured
        preloaded = under_load(site.url, seconds, site.redeploy(
            lambda: (site.root / "site" / "CHANGES.txt").write_text("v4\n"), "v4: code, preloaded"))
        naive = under_load(site.url, seconds, site.naive_restart)
    return [("Shipyard redeploy, new code (HUP)", *hup), ("Shipyard redeploy, new deps (USR2)", *usr2),
            ("Shipyard redeploy, preloaded (USR2)", *preloaded), ("baseline: supervisorctl restart", *naive)]


def farm(seconds: int) -> list[Row]:
    with bench_lab(3) as bench:
        assert run(bench, bench.env()).error is None  # every host serving before we measure
        rows = []
        for name, rollout in (("rolling (batch 1, HAProxy drain)", RolloutConfig(batch=1, drain="haproxy")),
                              ("baseline: all at once, no drain", RolloutConfig(batch="100%", drain="none"))):
            outcome: dict = {}
            total, failed, took = under_load(bench.lab.frontend_url + "/health/", seconds,
                                             lambda: outcome.update(r=run(bench, bench.env(rollout=rollout))))
            if outcome["r"].error:
                raise SystemExit(f"deploy failed: {outcome['r'].error}")
            rows.append((name, total, failed, took))
    return rows


def table(title: str, rows: list[Row]) -> None:
    print(f"\n{title}\n{'deploy':<38} {'requests':>9} {'failed':>7} {'failed %':>9} {'seconds':>8}")
    for name, total, failed, took in rows:
        print(f"{name:<38} {total:>9} {failed:>7} {100 * failed / max(total, 1):>8.3f}% {took:>8.2f}")
    ours, base = [r[2] for r in rows[:-1]], rows[-1][2]
    print(f"failed requests, Shipyard vs baseline: {'/'.join(map(str, ours))} vs {base}"
          + ("  (0 = goal met)" if not any(ours) else "  (goal missed)"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=40, help="load per measurement; must outlast one deploy")
    parser.add_argument("--only", choices=["single", "farm"])
    args = parser.parse_args()
    if args.only != "farm":
        table("single host: local env on 127.0.0.1, wrk -t2 -c8", single_host(args.seconds))
    if args.only != "single":
        table("farm: 3 lab hosts behind HAProxy, wrk -t2 -c8", farm(args.seconds))


if __name__ == "__main__":
    main()
