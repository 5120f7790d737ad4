"""`--concurrently` on a real PostgreSQL: index builds and drops on tables that stay run as
CREATE/DROP INDEX CONCURRENTLY after the transaction (the server itself refuses them inside
one, so a passing apply proves they ran outside), and the result equals the desired
database by normalised pg_dump (the vendored scorer's units: an oracle Shipyard did not
write); a failed build's INVALID index is read from pg_index, named, and rebuilt by the
next sync. Without the option nothing changes: no tail, no CONCURRENTLY."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.db.compare import plan
from deploy.db.connect import connect
from deploy.db.errors import TailFailed
from deploy.db.render import render
from db_live_helpers import live, want
from pg_oracle import apply, databases, dump, examples, values

TABLES = ("CREATE TABLE t1 (id integer PRIMARY KEY, a integer, b text, c integer);\n"
          "INSERT INTO t1 SELECT g, g, 'v' || g, g % 7 FROM generate_series(1, 200) g;\n"
          "CREATE TABLE t2 (id integer PRIMARY KEY, x integer, y text);\n"
          "CREATE TABLE pt (k integer, v integer) PARTITION BY RANGE (k);\n"
          "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);\n"
          "CREATE MATERIALIZED VIEW mv AS SELECT id, a FROM t1;\n")
SHAPES = {"t1": ["(a)", "(a, c)", "(b)", "(c DESC NULLS LAST)", "((lower(b)))", "(a) WHERE (c > 0)", "(a) INCLUDE (b)",
                 "USING hash (b)", "UNIQUE (id, a)", "UNIQUE (b)"],
          "t2": ["(x)", "(y, x)", "UNIQUE (y)"], "pt": ["(v)", "(k, v)"], "pt1": ["(k)", "(k DESC)"], "mv": ["(a)", "UNIQUE (id)"],
          "t3": ["(z)"]}
STABLE = {"t1", "t2", "pt1", "mv"}  # tables both sides hold alike, where every index change can be made online
ONLINE = STABLE | {"pt"}  # and where new indexes can be (on pt: ON ONLY, then each partition's, attached)
# One index on the partitioned table, none alike on its partition: the names of the copies the
# server makes on each partition (pt1_v_idx, pt1_v_idx1...) follow the order of creation, and an
# index alike already on the partition is attached instead of copied, whatever the option.
MOST = {"pt": 1}


def index_sql(name: str, table: str, shape: str) -> str:
    unique, shape = ("UNIQUE ", shape[7:]) if shape.startswith("UNIQUE ") else ("", shape)
    return f"CREATE {unique}INDEX {name} ON {table} {shape}"


@st.composite
def schema_sql(draw, with_new_table: bool) -> str:
    stmts = [TABLES]
    tables = sorted(SHAPES) if with_new_table else sorted(set(SHAPES) - {"t3"})
    if with_new_table:
        stmts.append("CREATE TABLE t3 (z integer);\n")
    for table in tables:
        for n in draw(st.lists(st.integers(0, 2), max_size=MOST.get(table, 3), unique=True)):
            name = f"ix_{table}_{n}"
            stmts.append(index_sql(name, table, draw(st.sampled_from(SHAPES[table]))) + ";\n")
            if draw(st.booleans()):
                stmts.append(f"COMMENT ON INDEX {name} IS {draw(st.sampled_from(['$$a$$', '$$b$$']))};\n")
    return "".join(stmts)


PROPERTY = examples(30)


def _on(statement: str) -> str:
    """The table a server-rendered CREATE INDEX is on."""
    return re.search(r" ON (?:ONLY )?public\.(\w+) ", statement).group(1)


def _invalid(url) -> list[str]:
    return values(url, "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid")


@pytest.mark.slow
@PROPERTY
@given(a=schema_sql(with_new_table=False), b=schema_sql(with_new_table=True))
def test_online_script_turns_a_into_b_by_pg_dump(pg_server, a: str, b: str) -> None:
    with databases(pg_server, a, b) as (cur, goal):
        plain = render(plan(live(cur), live(goal)))
        assert not plain.tail and "CONCURRENTLY" not in plain.text()
        script = render(plan(live(cur), live(goal), concurrently=True))
        apply(cur, script)
        context = f"A:\n{a}\nB:\n{b}\nscript:\n{script.text()}"
        assert dump(cur) == dump(goal), context
        assert plan(live(cur), live(goal)).changes == [] and _invalid(cur) == [], context
        built_in_transaction = {_on(s.sql) for s in script.steps if re.match(r"CREATE (UNIQUE )?INDEX ", s.sql)}
        assert not built_in_transaction & STABLE, context
        for step in script.tail:
            assert step.sql.startswith(("CREATE INDEX CONCURRENTLY", "CREATE UNIQUE INDEX CONCURRENTLY",
                                        "DROP INDEX CONCURRENTLY", "ALTER INDEX", "COMMENT ON INDEX")) \
                or re.match(r"CREATE (UNIQUE )?INDEX \w+ ON ONLY public\.pt ", step.sql), context
            assert not step.sql.startswith("CREATE") or _on(step.sql) in ONLINE, context


def test_a_failed_build_is_named_invalid_and_the_next_sync_rebuilds_it(pg_url) -> None:
    conn = connect(pg_url, autocommit=True)
    conn.execute("CREATE TABLE t (id integer PRIMARY KEY, b text); INSERT INTO t VALUES (1, 'x'), (2, 'x')")
    conn.close()
    desired = want(pg_url, "CREATE TABLE t (id integer PRIMARY KEY, b text, c integer); CREATE UNIQUE INDEX t_b ON t (b)")
    with pytest.raises(TailFailed) as e:
        apply(pg_url, render(plan(live(pg_url), desired, concurrently=True)))
    assert e.value.left_behind == ["public.t_b"] and "public.t_b was left INVALID" in str(e.value)
    assert "committed" in str(e.value) and "duplicated" in str(e.value)
    assert _invalid(pg_url) == ["t_b"]  # the catalog agrees
    assert "c" in [c for k, o in live(pg_url).objects.items() if k == ("table", "public", "t") for c in o.data["columns"]]
    assert [c.describe() for c in plan(live(pg_url), desired).changes] == ["replace_index public.t_b"]
    conn = connect(pg_url, autocommit=True)
    conn.execute("DELETE FROM t WHERE id = 2")
    conn.close()
    again = render(plan(live(pg_url), desired, concurrently=True))
    assert [s.sql.split(" ", 3)[:3] for s in again.tail] == [["DROP", "INDEX", "CONCURRENTLY"],
                                                            ["CREATE", "UNIQUE", "INDEX"]]
    apply(pg_url, again)
    assert _invalid(pg_url) == [] and plan(live(pg_url), desired).changes == []


@pytest.mark.parametrize("before, after", [
    # a new foreign key needs the new unique index inside the transaction
    ("CREATE TABLE t (id integer, u integer); CREATE TABLE s (r integer)",
     "CREATE TABLE t (id integer, u integer); CREATE UNIQUE INDEX t_u ON t (u); "
     "CREATE TABLE s (r integer REFERENCES t (u))"),
    # the foreign key that uses it goes first, in the transaction: the index with it
    ("CREATE TABLE t (id integer, u integer); CREATE UNIQUE INDEX t_u ON t (u); "
     "CREATE TABLE s (r integer REFERENCES t (u))",
     "CREATE TABLE t (id integer, u integer); CREATE TABLE s (r integer)"),
    # a column whose type changes takes its index: re-made under the same lock
    ("CREATE TABLE t (id integer, u integer); CREATE INDEX t_u ON t (u)",
     "CREATE TABLE t (id integer, u bigint); CREATE INDEX t_u ON t (u)"),
    # ... and a changed index on it is made anew where the old one goes: never a moment without it
    ("CREATE TABLE t (id integer, u integer); CREATE UNIQUE INDEX t_u ON t (u)",
     "CREATE TABLE t (id integer, u bigint); CREATE UNIQUE INDEX t_u ON t (u DESC)"),
    # CLUSTER ON names the new index
    ("CREATE TABLE t (id integer, u integer)",
     "CREATE TABLE t (id integer, u integer); CREATE INDEX t_u ON t (u); ALTER TABLE t CLUSTER ON t_u"),
    # an index dropped whose name a new constraint takes
    ("CREATE TABLE t (id integer, u integer); CREATE UNIQUE INDEX t_key ON t (u)",
     "CREATE TABLE t (id integer, u integer, CONSTRAINT t_key UNIQUE (id))"),
])
def test_what_the_transaction_needs_stays_in_it(pg_server, before: str, after: str) -> None:
    with databases(pg_server, before, after) as (cur, goal):
        script = render(plan(live(cur), live(goal), concurrently=True))
        assert not script.tail, script.text()
        apply(cur, script)
        assert dump(cur) == dump(goal)


def _project(pg_url, tmp_path: Path, steps: str = "[]") -> Path:
    """A live table t and a sql/ tree that wants an index on it, with `concurrently = true`."""
    conn = connect(pg_url, autocommit=True)
    conn.execute("CREATE TABLE t (id integer PRIMARY KEY, a integer)")
    conn.close()
    (tmp_path / "sql" / "schema").mkdir(parents=True)
    (tmp_path / "sql" / "schema" / "t.sql").write_text("CREATE TABLE t (id integer PRIMARY KEY, a integer);\n"
                                                       "CREATE INDEX t_a ON t (a);\n")
    (tmp_path / "shipyard.toml").write_text(
        f'[env.local]\ndatabase = "postgresql://postgres@127.0.0.1:{pg_url.port}/{pg_url.database}"\n'
        f'[env.local.db]\nconcurrently = true\ndeploy_steps = {steps}\n')
    return tmp_path / "shipyard.toml"


def test_the_deploy_step_builds_online_too(pg_url, tmp_path) -> None:
    from deploy import config as cfg
    from deploy.db import deploy_step

    loaded = cfg.load(_project(pg_url, tmp_path, '["sync"]'))
    summary = deploy_step.before_switch(loaded, loaded.environment("local"), "r1", lambda _: None)
    assert "CREATE INDEX CONCURRENTLY t_a ON public.t" in summary["script"]
    assert values(pg_url, "SELECT indexrelid::regclass::text FROM pg_index WHERE indisvalid AND "
                          "indrelid = 'public.t'::regclass ORDER BY 1") == ["t_a", "t_pkey"]


def test_sync_applies_the_tail_through_the_cli_with_the_config_option(pg_url, tmp_path) -> None:
    _project(pg_url, tmp_path)
    shipyard = Path(sys.executable).parent / "shipyard"
    run = subprocess.run([str(shipyard), "db.sync", "--config", str(tmp_path / "shipyard.toml"), "--apply"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "-- online index changes (--concurrently)" in run.stdout and "BEGIN" not in run.stdout
    assert "CREATE INDEX CONCURRENTLY t_a ON public.t" in run.stdout
    diff = subprocess.run([str(shipyard), "db.diff", "--config", str(tmp_path / "shipyard.toml")],
                          capture_output=True, text=True, timeout=120)
    assert diff.returncode == 0 and "no differences" in diff.stdout


def test_other_engines_say_the_option_is_not_theirs(tmp_path) -> None:
    (tmp_path / "sql" / "schema").mkdir(parents=True)
    (tmp_path / "sql" / "schema" / "t.sql").write_text("CREATE TABLE t (id integer PRIMARY KEY, a integer);\n"
                                                       "CREATE INDEX t_a ON t (a);\n")
    (tmp_path / "shipyard.toml").write_text('[env.local]\ndatabase = "sqlite:///site.db"\n')
    shipyard = Path(sys.executable).parent / "shipyard"
    run = subprocess.run([str(shipyard), "db.diff", "--config", str(tmp_path / "shipyard.toml"), "--concurrently"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "--concurrently is for PostgreSQL; sqlite indexes are built in the script" in run.stderr
    assert 'CREATE INDEX "t_a"' in run.stdout and "CONCURRENTLY" not in run.stdout
