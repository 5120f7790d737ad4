"""`invoke --list` wall time against `python -c pass` and against invoke itself listing a
one-task tasks.py, in the same run (goal: < 0.3 s absolute; nothing heavier than invoke and
the task definitions on the start-up path, so the second ratio should stay near 1).

Heavy imports (pydantic, fabric, rich, pywinrm) must stay off the start-up path.
Run: python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], runs: int, cwd: Path = ROOT) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    base = timed([sys.executable, "-c", "pass"], runs)
    with tempfile.TemporaryDirectory() as bare:
        (Path(bare) / "tasks.py").write_text("from invoke import task\n\n@task\ndef hello(c):\n    pass\n")
        invoke_only = timed([sys.executable, "-m", "invoke", "--list"], runs, Path(bare))
    listing = timed([sys.executable, "-m", "invoke", "--list"], runs)
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, tasks; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
         "('pydantic', 'fabric', 'paramiko', 'rich', 'winrm', 'jinja2', 'pyodbc', 'sqlglot'))))"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    print(f"python -c pass : {base * 1000:7.1f} ms (median of {runs})")
    print(f"invoke alone   : {invoke_only * 1000:7.1f} ms (one-task tasks.py: invoke's own start-up)")
    print(f"invoke --list  : {listing * 1000:7.1f} ms  {listing / base:.1f}x python, {listing / invoke_only:.2f}x invoke "
          f"alone (+{(listing - invoke_only) * 1000:.0f} ms for Shipyard's tasks)  goal < 300 ms: "
          f"{'ok' if listing < 0.3 else 'MISSED'}")
    print(f"heavy modules imported by tasks.py: {imported or 'none'}")


if __name__ == "__main__":
    main()
