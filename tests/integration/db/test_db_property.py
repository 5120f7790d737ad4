"""Hypothesis: for random pairs of schemas A and B, build A for real, sync to B, and the
live schema must then equal B (re-diff empty), on PostgreSQL and on SQLite. On PostgreSQL
the lazily built catalog must also plan exactly as its fully built copy."""

from __future__ import annotations

import copy
import itertools
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.db.compare import plan
from deploy.db.connect import DbUrl, connect
from deploy.db.desired import from_text
from deploy.db.render import render

from db_live_helpers import live, remaining, sync, want

TYPES = ["integer", "bigint", "varchar(10)", "varchar(40)", "text", "numeric(10,2)"]
DEFAULTS = {"integer": "0", "bigint": "7", "varchar(10)": "'a'", "varchar(40)": "'bb'", "text": "'t'", "numeric(10,2)": "1.5"}
_ids = itertools.count()


@st.composite
def column(draw, name: str) -> str:
    typ = draw(st.sampled_from(TYPES))
    out = f"{name} {typ}"
    if draw(st.booleans()):
        out += " NOT NULL"
    if draw(st.booleans()):
        out += f" DEFAULT {DEFAULTS[typ]}"
    return out


@st.composite
def schema_sql(draw) -> str:
    tables = draw(st.lists(st.sampled_from(["t0", "t1", "t2", "t3"]), min_size=1, max_size=3, unique=True))
    stmts = []
    for i, table in enumerate(sorted(tables)):
        names = draw(st.lists(st.sampled_from(["c0", "c1", "c2", "c3"]), max_size=3, unique=True))
        parts = ["id integer PRIMARY KEY", *[draw(column(n)) for n in sorted(names)]]
        earlier = sorted(tables)[:i]
        if earlier and draw(st.booleans()):
            parts.append(f"ref integer REFERENCES {draw(st.sampled_from(earlier))} (id)")
        if names and draw(st.booleans()):
            parts.append(f"CONSTRAINT {table}_chk CHECK (id > {draw(st.integers(0, 3))})")
        if len(names) > 1 and draw(st.booleans()):
            parts.append(f"UNIQUE ({', '.join(sorted(names)[-2:])})")
        stmts.append(f"CREATE TABLE {table} ({', '.join(parts)});")
        if names and draw(st.booleans()):
            stmts.append(f"CREATE INDEX {table}_ix ON {table} ({sorted(names)[0]});")
    if draw(st.booleans()):
        first = sorted(tables)[0]
        stmts.append(f"CREATE VIEW v_{first} AS SELECT id FROM {first};")
        if len(tables) > 1 and draw(st.booleans()):
            second = sorted(tables)[1]
            stmts.append(f"CREATE VIEW w_{second} AS SELECT v.id FROM v_{first} v JOIN {second} s ON s.id = v.id;")
    return "\n".join(stmts)


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.slow
@PROPERTY
@given(a=schema_sql(), b=schema_sql())
def test_random_pairs_round_trip_on_postgres(pg_server, a: str, b: str) -> None:
    name = f"h{os.getpid()}_{next(_ids)}"
    admin = connect(pg_server, autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    try:
        _round_trip(pg_server.with_database(name), a, b)
    finally:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        admin.close()


@pytest.mark.slow
@PROPERTY
@given(a=schema_sql(), b=schema_sql())
def test_random_pairs_round_trip_on_sqlite(a: str, b: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        _round_trip(DbUrl("sqlite", str(Path(d) / "p.db")), a, b)


def _round_trip(url: DbUrl, a: str, b: str) -> None:
    sync(url, want(url, a))
    assert remaining(url, want(url, a)) == []
    desired = want(url, b)
    if url.dialect == "postgres":
        _lazy_plans_like_full(url, desired)
    sync(url, desired)
    assert remaining(url, desired) == [], f"A:\n{a}\nB:\n{b}"


def _lazy_plans_like_full(url: DbUrl, desired: Any) -> None:
    """The catalog reader's objects are lazy and equal digests skip their comparison; plain
    copies (no digests, every statement worked out) must give the same script and JSON."""
    current = live(url)
    lazy = render(plan(current, desired)).text()
    full_current, full_desired = copy.deepcopy(current), copy.deepcopy(desired)
    assert render(plan(full_current, full_desired)).text() == lazy
    assert current.to_json() == full_current.to_json() and desired.to_json() == full_desired.to_json()


@PROPERTY
@given(a=schema_sql(), b=schema_sql())
def test_random_pairs_round_trip_as_tsql_in_memory(a: str, b: str) -> None:
    """No SQL Server: the T-SQL script must parse back fully and, applied to the model in
    memory, reach B."""
    from deploy.db.diff import diff
    from deploy.db.model import Schema
    from db_tsql_apply import apply_tsql

    tsql_a = a.replace(" text", " varchar(max)")
    tsql_b = b.replace(" text", " varchar(max)")
    created = render(diff(Schema("tsql"), from_text(tsql_a, "tsql"))).text()  # read back by both parsers
    live = apply_tsql(Schema("tsql"), created)
    want = from_text(tsql_b, "tsql")
    script = render(diff(live, want)).text()
    assert [c.describe() for c in diff(apply_tsql(live, script), want).changes] == [], script
