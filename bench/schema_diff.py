"""Benchmark: Shipyard's introspect + diff against migra on the same two PostgreSQL databases.

Generates a schema of N tables (columns, indexes, foreign keys) and N/10 views, and a
modified copy; times Shipyard (introspect both + diff + render) and migra (its CLI, from
its own venv created here at run time), and prints the ratio and both scripts' statement
counts. Not run in CI.   usage: python bench/schema_diff.py [--tables 2000] [--venv DIR]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deploy.db.connect import connect  # noqa: E402
from deploy.db.diff import diff  # noqa: E402
from deploy.db.introspect import introspect  # noqa: E402
from deploy.db.render import render  # noqa: E402
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


def _introspect(url) -> object:
    conn = connect(url)
    try:
        return introspect(conn, "postgres")
    finally:
        conn.close()


def time_shipyard(a, b) -> tuple[float, float, int]:
    """Both databases are read at once (pyodbc releases the GIL while the server works).
    Returns (total seconds, of which introspection, statement count)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        current, desired = pool.map(_introspect, [a, b])
    read = time.perf_counter() - started
    script = render(diff(current, desired))
    return time.perf_counter() - started, read, len(script.statements)


def migra_venv(venv: Path) -> Path:
    if not (venv / "bin" / "migra").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "migra", "psycopg2-binary", "setuptools"], check=True)
    return venv / "bin" / "migra"


def time_migra(migra: Path, a, b) -> tuple[float, int]:
    dsn = lambda u: f"postgresql+psycopg2://postgres@127.0.0.1:{u.port}/{u.database}"  # noqa: E731
    started = time.perf_counter()
    run = subprocess.run([str(migra), "--unsafe", dsn(a), dsn(b)], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if run.returncode not in (0, 2):
        raise SystemExit(f"migra failed ({run.returncode}): {run.stderr[-2000:]}")
    return elapsed, sum(1 for line in run.stdout.splitlines() if line.rstrip().endswith(";"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", type=int, default=2000)
    ap.add_argument("--venv", type=Path, default=Path("/tmp/shipyard-bench-migra"))
    args = ap.parse_args()
    migra = migra_venv(args.venv)
    with ThrowawayPostgres() as server:
        a = create(server, "bench_a", schema_sql(args.tables, modified=False))
        b = create(server, "bench_b", schema_sql(args.tables, modified=True))
        ours, read, our_count = time_shipyard(a, b)
        theirs, their_count = time_migra(migra, a, b)
    print(f"tables={args.tables} views={args.tables // 10}")
    print(f"shipyard introspect+diff+render: {ours:.2f}s (introspection {read:.2f}s), {our_count} statements")
    print(f"migra (baseline, same run):      {theirs:.2f}s, {their_count} statements")
    print(f"ratio migra/shipyard: {theirs / ours:.1f}x (goal >= 5x)")


if __name__ == "__main__":
    main()
