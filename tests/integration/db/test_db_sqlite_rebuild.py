"""Hypothesis: random SQLite tables (STRICT, WITHOUT ROWID, STORED and VIRTUAL generated
columns, checks, collations, AUTOINCREMENT) migrated from a random A to a random B keep
their rows and end up as SQLite itself describes a database built straight from B
(the structural oracle in sqlite_oracle.py, which shares no code with Shipyard)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deploy.db.connect import DbUrl, connect
from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.errors import StatementFailed
from deploy.db.execute import run_script
from deploy.db.introspect import introspect
from deploy.db.render import render

import sqlite_oracle as oracle


@st.composite
def table_sql(draw, name: str) -> str:
    strict, without_rowid = draw(st.booleans()), draw(st.booleans())
    types = ["INTEGER", "TEXT", "REAL", *(["ANY"] if strict else ["numeric(10,2)", "varchar(20)"])]
    autoinc = not without_rowid and draw(st.booleans())
    parts = [f"id INTEGER PRIMARY KEY{' AUTOINCREMENT' if autoinc else ''}"]
    for col in draw(st.lists(st.sampled_from(["c0", "c1", "c2"]), max_size=3, unique=True)):
        typ = draw(st.sampled_from(types))
        text = f"{col} {typ}"
        if typ == "TEXT" and draw(st.booleans()):
            text += " COLLATE NOCASE"
        if draw(st.booleans()):
            text += " NOT NULL DEFAULT " + ("'x'" if typ == "TEXT" else "0")
        parts.append(text)
    if draw(st.booleans()):
        parts.append(f"g INTEGER GENERATED ALWAYS AS (id * 2) {draw(st.sampled_from(['STORED', 'VIRTUAL', '']))}".rstrip())
    if draw(st.booleans()):
        parts.append(f"CONSTRAINT {name}_positive CHECK (id > {draw(st.integers(-1, 0))})")
    options = [o for o, on in (("STRICT", strict), ("WITHOUT ROWID", without_rowid)) if on]
    return f"CREATE TABLE {name} (\n  {', '.join(parts)}\n){' ' + ', '.join(options) if options else ''};"


@st.composite
def schema_sql(draw) -> str:
    names = draw(st.lists(st.sampled_from(["t0", "t1", "t2"]), min_size=1, max_size=3, unique=True))
    return "\n".join(draw(table_sql(n)) for n in sorted(names))


def _rows(conn) -> dict:
    cur = conn.cursor()
    tables = [r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 't_'").fetchall()]
    return {t: [r[0] for r in cur.execute(f"SELECT id FROM {t} ORDER BY id").fetchall()] for t in tables}


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(a=schema_sql(), b=schema_sql())
def test_random_sqlite_tables_survive_a_rebuild(a: str, b: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        migrated, wanted = Path(d) / "a.db", Path(d) / "b.db"
        oracle.load(migrated, a + "\n" + "\n".join(f"INSERT INTO {t} (id) VALUES (1), (7);" for t in ("t0", "t1", "t2")
                                                   if f"TABLE {t} " in a))
        oracle.load(wanted, b)
        untouched = oracle.describe(migrated)
        conn = connect(DbUrl("sqlite", str(migrated)))
        try:
            before = _rows(conn)
            plan = diff(introspect(conn, "sqlite"), from_text(b, "sqlite"))
            script = render(plan)
            try:
                run_script(conn, script)
            except StatementFailed:
                # only a narrowing change may fail on the rows (TEXT 'x' into a STRICT INTEGER),
                # and then nothing at all has changed
                assert plan.destructive, script.text()
                assert oracle.differences(oracle.describe(migrated), untouched) == [] and _rows(conn) == before
                return
            after = _rows(conn)
        finally:
            conn.close()
        found = oracle.differences(oracle.describe(migrated), oracle.describe(wanted))
        assert found == [], f"A:\n{a}\nB:\n{b}\nscript:\n{script.text()}"
        assert {t: ids for t, ids in after.items() if t in before} == {t: before[t] for t in after if t in before}
