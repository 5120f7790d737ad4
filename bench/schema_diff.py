"""Benchmark: Shipyard's CLI against migra's on the same two PostgreSQL databases, end to end.

Generates a schema of N tables (columns, indexes, foreign keys) and N/10 views, and a
modified copy; runs `shipyard db.diff --from URL --to URL` and `migra URL URL` (from its own
venv created here at run time, never a dependency of Shipyard) as a user runs them, each
timed from process start to exit (wall, and CPU of the process and its children), best of
--runs, and the PostgreSQL server's CPU for the same run (the backends' time, as the
postmaster reaps them). Both tools run with their bytecode cached, as after any install
(a private PYTHONPYCACHEPREFIX and one untimed run each first: PYTHONDONTWRITEBYTECODE in
the caller's environment would otherwise recompile Shipyard's source on every run). Also
times the desired state given as a sql/ file (loaded into a shadow database on the same
server). Prints the ratios. Not run in CI.
   usage: python bench/schema_diff.py [--tables 2000] [--runs 3] [--venv DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deploy.db.connect import connect  # noqa: E402
from deploy.db.throwaway import ThrowawayPostgres  # noqa: E402


def schema_sql(tables: int, modified: bool, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for i in range(tables):
        cols = ["id integer PRIMARY KEY", "name varchar(80) NOT NULL", "qty integer DEFAULT 0", "note text"]
        if i and rnd.random() < 0.5:
            cols.append(f"parent_id integer REFERENCES t{rnd.randrange(i)} (id)")
        if modified and i % 10 == 0:
            cols.append("added_at timestamp")
        if modified and i % 17 == 0:
            cols[1] = "name varchar(120) NOT NULL"
        out.append(f"CREATE TABLE t{i} ({', '.join(cols)})")
        if not (modified and i % 13 == 0):
            out.append(f"CREATE INDEX t{i}_name_idx ON t{i} (name)")
    for v in range(tables // 10):
        where = "qty > 1" if modified and v % 5 == 0 else "qty > 0"
        out.append(f"CREATE VIEW v{v} AS SELECT id, name FROM t{v * 10} WHERE {where}")
    return out


def create(server, name: str, statements: list[str]) -> object:
    admin = connect(server, autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    admin.close()
    url = server.with_database(name)
    conn = connect(url)
    for stmt in statements:
        conn.execute(stmt)
    conn.commit()
    conn.close()
    return url


def server_cpu(server: ThrowawayPostgres) -> float:
    """CPU seconds of every backend the postmaster has reaped so far (its children's times)."""
    pid = (server.base / "data" / "postmaster.pid").read_text().split()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime, cstime


def timed(argv: list[str], env: dict[str, str], server: ThrowawayPostgres) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds of the child, server CPU seconds, stdout) of one process, start to exit."""
    before, backends = resource.getrusage(resource.RUSAGE_CHILDREN), server_cpu(server)
    started = time.perf_counter()
    run = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode not in (0, 2):
        raise SystemExit(f"{argv[0]} failed ({run.returncode}): {run.stderr[-2000:]}")
    time.sleep(0.2)  # the postmaster reaps the backends of the connections just closed
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, server_cpu(server) - backends, run.stdout


def best(argv: list[str], runs: int, env: dict[str, str], server: ThrowawayPostgres) -> tuple[float, float, float, str]:
    timed(argv, env, server)  # untimed: writes the bytecode cache
    results = [timed(argv, env, server) for _ in range(runs)]
    return min(r[0] for r in results), min(r[1] for r in results), min(r[2] for r in results), results[-1][3]


def statements(script: str) -> int:
    return sum(1 for line in script.splitlines() if line.rstrip().endswith(";") and not line.startswith("--"))


def migra_venv(venv: Path) -> Path:
    if not (venv / "bin" / "migra").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "migra", "psycopg2-binary", "setuptools"], check=True)
    return venv / "bin" / "migra"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--venv", type=Path, default=Path("/tmp/shipyard-bench-migra"))
    args = ap.parse_args()
    migra = migra_venv(args.venv)
    root = Path(__file__).resolve().parents[1]
    shipyard = [str(Path(sys.executable).parent / "shipyard"), "db.diff", "--config", str(root / "tests/pgscore/shipyard.toml")]
    server = ThrowawayPostgres()
    with server, tempfile.TemporaryDirectory() as tmp:
        a = create(server.url, "bench_a", schema_sql(args.tables, modified=False))
        b = create(server.url, "bench_b", schema_sql(args.tables, modified=True))
        url = lambda u: f"postgresql://postgres@127.0.0.1:{u.port}/{u.database}"  # noqa: E731
        sql_dir = Path(tmp) / "schema"
        sql_dir.mkdir()
        (sql_dir / "schema.sql").write_text(";\n".join(schema_sql(args.tables, modified=True)) + ";\n")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        ours = best([*shipyard, "--from", url(a), "--to", url(b), "--allow-destructive"], args.runs, env, server)
        shadow = best([*shipyard, "--from", url(a), "--to", str(sql_dir), "--allow-destructive"], args.runs, env, server)
        dsn = lambda u: f"postgresql+psycopg2://postgres@127.0.0.1:{u.port}/{u.database}"  # noqa: E731
        theirs = best([str(migra), "--unsafe", dsn(a), dsn(b)], args.runs, env, server)
    print(f"tables={args.tables} views={args.tables // 10}, end to end (process start to exit), best of {args.runs}")
    line = "{:.2f}s wall, {:.2f}s CPU, server {:.2f}s CPU".format
    print(f"shipyard db.diff URL URL:      {line(*ours[:3])}, {statements(ours[3])} statements")
    print(f"shipyard db.diff URL sql/:     {line(*shadow[:3])} (shadow database load included)")
    print(f"migra URL URL (same run):      {line(*theirs[:3])}, {statements(theirs[3])} statements")
    print(f"ratio migra/shipyard: {theirs[0] / ours[0]:.1f}x wall, {theirs[1] / ours[1]:.1f}x CPU, "
          f"{theirs[2] / max(ours[2], 0.01):.1f}x server CPU (goal >= 5x wall and CPU)")


if __name__ == "__main__":
    main()
