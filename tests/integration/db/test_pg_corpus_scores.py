"""PostgreSQL corpora scored against a real PostgreSQL by the vendored scorer
(tests/pgscore/score_pg.py, the same protocol as the project's shared one): fresh databases
per case, Shipyard's CLI between the two URLs, the script applied in one transaction, then
normalised pg_dump of both compared — an oracle Shipyard did not write. Two corpora:
apgdiff's 124 cases (tests/fixtures/apgdiff) and pgheld, cases from other tools' suites
(migra, psqldef, pg-schema-diff: tests/fixtures/pgheld), of which CI scores every third case
(`every` in its floor file) to keep within two minutes. Each recorded floor
(tests/pgscore/threshold*.json) only ever goes up."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
SCORE = ROOT / "tests" / "pgscore"
FLOORS = {"apgdiff": "threshold.json", "pgheld": "threshold_pgheld.json"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("corpus", sorted(FLOORS))
def test_pass_rate_never_drops(tmp_path, corpus: str) -> None:
    floor = json.loads((SCORE / FLOORS[corpus]).read_text())
    pgdir = Path(tempfile.mkdtemp(prefix=f"shipyard-{corpus}-", dir="/tmp"))
    pgdir.chmod(0o755)
    out = tmp_path / "results.jsonl"
    env = {**os.environ, "SHIPYARD_BIN": str(Path(sys.executable).parent / "shipyard")}
    try:
        run = subprocess.run(
            [sys.executable, str(SCORE / "score_pg.py"), "--corpus", corpus,
             "--tool-cmd", f"{SCORE / 'diff_wrapper.sh'} {{from_url}} {{to_url}} {{enable_drop}}",
             "--ok-exit", "0,2", "--refused-exit", "3", "--start-pg", str(pgdir / "pg"),
             "--pg-port", str(_free_port()), "--jobs", "2", "--every", str(floor.get("every", 1)), "--out", str(out)],
            capture_output=True, text=True, timeout=1800, env=env)
    finally:
        shutil.rmtree(pgdir, ignore_errors=True)
    assert out.is_file(), run.stdout[-3000:] + run.stderr[-3000:]
    results = [json.loads(line) for line in out.read_text().splitlines()]
    loadable = [r for r in results if r["outcome"] not in ("unloadable", "skipped")]
    passed = [r for r in loadable if r["outcome"] in ("pass", "pass_withheld")]
    failing = sorted(f"{r['name']}: {r['outcome']} {r.get('detail', '')[:120]}" for r in loadable if r not in passed)
    print(f"{corpus}: {len(passed)}/{len(loadable)} loadable cases pass")
    assert len(loadable) == floor["loadable"], "the corpus or the server changed: re-record the threshold"
    assert len(passed) >= floor["passed_at_least"], "\n".join(failing)
