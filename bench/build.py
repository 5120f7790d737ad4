"""Artifact build time against `git archive | gzip` of the same revision, in the same run.

    PYTHONPATH=. python bench/build.py [--runs N]

Builds the example site from a throwaway git repo: once with a cold wheel cache
(pip wheel + pip install --target + collectstatic), then N times warm. The
baseline is the cheapest possible "artifact": the app tree alone, git archive
piped to gzip. Prints seconds and ratios; never run in CI.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.artifact import build_artifact  # noqa: E402
from deploy.config import load  # noqa: E402

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


def make_repo(path: Path) -> str:
    path.mkdir()
    shutil.copytree(ROOT / "examples" / "site", path / "site", ignore=shutil.ignore_patterns("__pycache__", "db.sqlite3"))
    (path / "shipyard.toml").write_text('[project]\nname = "site"\napp_dir = "site"\n')
    (path / ".gitignore").write_text("dist/\n.shipyard/\n")
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "bench"]):
        subprocess.run(["git", *argv], cwd=path, env=GIT_ENV, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=True).stdout.strip()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def git_archive_gzip(repo: Path, rev: str, out: Path) -> None:
    with open(out, "wb") as f:
        archive = subprocess.Popen(["git", "archive", f"{rev}:site"], cwd=repo, stdout=subprocess.PIPE)
        subprocess.run(["gzip", "-6", "-n"], stdin=archive.stdout, stdout=f, check=True)
        archive.stdout.close()
        if archive.wait() != 0:
            raise SystemExit("git archive failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        tmp_path = Path(tmp)
        repo = tmp_path / "repo"
        rev = make_repo(repo)
        os.environ["SHIPYARD_WHEEL_CACHE"] = str(tmp_path / "wheel-cache")
        cfg = load(repo / "shipyard.toml")
        quiet = lambda line: None
        baseline = min(timed(lambda: git_archive_gzip(repo, rev, tmp_path / "base.tar.gz")) for _ in range(runs))
        cold = timed(lambda: build_artifact(cfg, rev=rev, log=quiet))
        warm = min(timed(lambda: build_artifact(cfg, rev=rev, log=quiet)) for _ in range(runs))
        size = next((repo / "dist").glob("*.tar.gz")).stat().st_size
        base_size = (tmp_path / "base.tar.gz").stat().st_size
    print(f"git archive | gzip (app only) {baseline:8.3f} s  {base_size / 1024:9.0f} KiB")
    print(f"build, cold wheel cache       {cold:8.3f} s  {size / 1024:9.0f} KiB   x{cold / baseline:.1f} of baseline")
    print(f"build, warm wheel cache (min) {warm:8.3f} s  {'':>13}   x{warm / baseline:.1f} of baseline")
    print(f"warm / cold                   {warm / cold:8.2f}")


if __name__ == "__main__":
    main()
