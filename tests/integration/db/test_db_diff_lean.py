"""`shipyard db.diff` on the console script's lean path prints what `invoke db.diff` prints:
the same stdout, stderr and exit code for generated option combinations (PostgreSQL and
SQLite sides, URLs, a sql/ tree, `live`, bad URLs and files, rename hints, flags, configs the
lean reader takes and ones it leaves to deploy.config, --help and bad options). The oracle is
invoke's own Program running the task collection, as `shipyard` did before the lean path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from deploy.db.connect import connect

SHIPYARD = Path(sys.executable).parent / "shipyard"
INVOKE = ("import sys; from invoke import Program; from deploy import __version__; from deploy.tasks import ns; "
          "Program(namespace=ns, version=__version__, name='Shipyard', binary='shipyard').run()")
PG_A = "CREATE TABLE t (id integer PRIMARY KEY, name varchar(20), old text); CREATE TABLE gone (id integer)"
PG_B = "CREATE TABLE t (id integer PRIMARY KEY, name varchar(40), added integer); CREATE INDEX t_name ON t (name)"
CONFIGS = {
    "plain": '[env.local]\ndeploy_to = "/tmp/shipyard-lean-unused"\n[env.other]\ndeploy_to = "/tmp/shipyard-lean-o"\n',
    "with_db": '[env.local]\ndeploy_to = "/tmp/shipyard-lean-unused"\n[env.local.db]\nallow_destructive = true\n',
    "broken": "[env.local\n",
    "nested": '[env.local]\ndeploy_to = "/tmp/shipyard-lean"\n[env.other]\ndeploy_to = "/tmp/shipyard-lean/x"\n',
}


@pytest.fixture(scope="module")
def project(pg_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("lean")
    admin = connect(pg_server, autocommit=True)
    for name, sql in (("lean_a", PG_A), ("lean_b", PG_B)):
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
        conn = connect(pg_server.with_database(name), autocommit=True)
        conn.execute(sql)
        conn.close()
    admin.close()
    import pyodbc

    for name, sql in (("a.db", "CREATE TABLE t (id integer PRIMARY KEY, old text)"),
                      ("b.db", "CREATE TABLE t (id integer PRIMARY KEY, v text)")):
        conn = pyodbc.connect(f"DRIVER={{SQLite3}};Database={root / name}")
        conn.execute(sql)
        conn.commit()
        conn.close()
    (root / "schema").mkdir()
    (root / "schema" / "t.sql").write_text(PG_B.replace("; ", ";\n") + ";\n")
    for name, text in CONFIGS.items():
        (root / f"{name}.toml").write_text(text)
    pg = f"postgresql://postgres@127.0.0.1:{pg_server.port}"
    sides = {"pg_a": f"{pg}/lean_a", "pg_b": f"{pg}/lean_b", "sqlite_a": f"sqlite:///{root / 'a.db'}",
             "sqlite_b": f"sqlite:///{root / 'b.db'}", "live": "live", "schema": "schema", "bad_url": "nope://x/y",
             "missing": "missing.json", "pg_nodb": f"{pg}/no_such_db", "task_name": "db.sync", "dash": "-x",
             "empty": ""}
    return root, sides


def _run(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SHIPYARD_CONFIG", "INVOKE_DEBUG")}
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)
    return proc.returncode, proc.stdout, proc.stderr


def _option(name: str, value: str | None, joined: bool) -> list[str]:
    if value is None:
        return [f"--{name}"]
    return [f"--{name}={value}"] if joined else [f"--{name}", value]


@st.composite
def db_diff_args(draw, sides: dict[str, str], root: Path) -> list[str]:
    side = st.sampled_from(sorted(sides))
    options: list[tuple[str, str | None]] = []
    if draw(st.booleans()):
        options.append(("from", sides[draw(side)]))
    if draw(st.booleans()):
        options.append(("to", sides[draw(side)]))
    config = draw(st.sampled_from([None, *CONFIGS]))
    if config:
        options.append(("config", str(root / f"{config}.toml")))
    if draw(st.booleans()):
        options.append(("env", draw(st.sampled_from(["local", "other", "nope"]))))
    for flag in draw(st.sets(st.sampled_from(["allow-destructive", "with-privileges", "skip-destructive",
                                              "concurrently", "with-owners"]))):
        options.append((flag, None))
    for hint in draw(st.lists(st.sampled_from(["table:gone=t2", "column:t.old=added", "garbage"]), max_size=2)):
        options.append(("rename", hint))
    options = draw(st.permutations(options))
    args = [token for name, value in options for token in _option(name, value, draw(st.booleans()))]
    odd = draw(st.sampled_from([None, None, None, "--help", "--bogus", "-a", "--from", "db.sync"]))
    if odd:
        args.insert(draw(st.integers(0, len(args))), odd)
    return args


def test_lean_db_diff_prints_what_invoke_prints(project):
    root, sides = project

    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
    @given(args=db_diff_args(sides, root))
    def check(args):
        lean = _run([str(SHIPYARD), "db.diff", *args], root)
        full = _run([sys.executable, "-c", INVOKE, "db.diff", *args], root)
        assert lean == full, args

    check()


def test_the_lean_path_is_taken_for_two_urls_and_a_plain_config(project):
    """The parity above is not vacuous: this run never loads invoke (its import log)."""
    root, sides = project
    proc = subprocess.run([sys.executable, "-X", "importtime", str(SHIPYARD), "db.diff", "--config",
                           str(root / "plain.toml"), "--from", sides["pg_a"], "--to", sides["pg_b"]],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3 and "drop_table public.gone" in proc.stderr
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "deploy.db.compare_cli" in modules and not any(m.split(".")[0] in ("invoke", "pydantic") for m in modules)
