"""`invoke --list` wall time against `python -c pass` in the same run (goal: < 0.3 s absolute).

Heavy imports (pydantic, fabric, rich, pywinrm) must stay off the start-up path.
Run: python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    base = timed([sys.executable, "-c", "pass"], runs)
    listing = timed([sys.executable, "-m", "invoke", "--list"], runs)
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, tasks; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
         "('pydantic', 'fabric', 'paramiko', 'rich', 'winrm', 'jinja2', 'pyodbc', 'sqlglot'))))"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    print(f"python -c pass : {base * 1000:7.1f} ms (median of {runs})")
    print(f"invoke --list  : {listing * 1000:7.1f} ms  ratio {listing / base:.1f}x  goal < 300 ms: {'ok' if listing < 0.3 else 'MISSED'}")
    print(f"heavy modules imported by tasks.py: {imported or 'none'}")


if __name__ == "__main__":
    main()
