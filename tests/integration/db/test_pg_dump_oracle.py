"""Adversarial: random PostgreSQL schemas A and B (quoted, case-sensitive and dotted names,
names with spaces and quotes, enums, domains, sequences, identity and generated columns,
checks, keys, indexes, views, comments) are built for real; Shipyard's script from A to B
is applied to A, and the result must equal B by pg_dump --schema-only (normalised by the
vendored scorer: an oracle Shipyard did not write) and re-diff empty."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from deploy.db.compare import plan
from deploy.db.connect import connect
from deploy.db.execute import run_script
from deploy.db.introspect import introspect
from deploy.db.render import render
from pg_oracle import database, drop, dump

TABLES = ['"t"', '"a.t"', '"Users"', '"users"', '"o\'brien"', 's."t"', 's."a.t"']
# each column name keeps to types a USING cast can convert between (no tool turns boolean into integer[])
COLUMN_TYPES = {'"id2"': ["integer", "bigint", "posint"], '"first name"': ["text", "varchar(12)"],
                '"o\'brien"': ["numeric(8,2)", "integer", "bigint"], '"Name"': ["mood", "text"],
                '"name"': ["boolean", "text"], '"x.y"': ["integer[]", "text"]}
COLUMNS = list(COLUMN_TYPES)
DEFAULTS = {"integer": "7", "bigint": "0", "text": "'it''s'", "varchar(12)": "'a b'", "numeric(8,2)": "1.5",
            "boolean": "true", "mood": "'sad'", "posint": "3", "integer[]": "'{1,2}'"}
COMMENTS = ["'plain'", "'it''s'", "$$dollar$$"]


@st.composite
def column(draw, name: str) -> str:
    typ = draw(st.sampled_from(COLUMN_TYPES[name]))
    out = f"{name} {typ}"
    if draw(st.booleans()):
        out += f" DEFAULT {DEFAULTS[typ]}"
    if draw(st.booleans()):
        out += " NOT NULL"
    return out


@st.composite
def schema_sql(draw) -> str:
    labels = draw(st.sampled_from([["happy", "sad"], ["happy", "ok", "sad"], ["sad", "happy", "meh"]]))
    stmts = ["CREATE SCHEMA s", f"CREATE TYPE mood AS ENUM ({', '.join(repr(v) for v in labels)})",
             "CREATE DOMAIN posint AS integer" + draw(st.sampled_from(["", " CHECK (VALUE > 0)", " DEFAULT 1 NOT NULL"]))]
    tables = draw(st.lists(st.sampled_from(TABLES), min_size=1, max_size=4, unique=True))
    for i, table in enumerate(tables):
        names = draw(st.lists(st.sampled_from(COLUMNS), max_size=3, unique=True))
        ident = draw(st.sampled_from(["id serial", "id integer GENERATED ALWAYS AS IDENTITY", "id bigint"]))
        parts = [f"{ident} PRIMARY KEY", *[draw(column(n)) for n in names]]
        if draw(st.booleans()):
            parts.append("twice integer GENERATED ALWAYS AS (id * 2) STORED")
        if i and draw(st.booleans()):
            parts.append(f"ref integer REFERENCES {tables[draw(st.integers(0, i - 1))]} (id) ON DELETE CASCADE")
        if draw(st.booleans()):
            parts.append(f"CONSTRAINT \"chk {i}\" CHECK (id > {draw(st.integers(-1, 1))})")
        stmts.append(f"CREATE TABLE {table} ({', '.join(parts)})")
        if names and draw(st.booleans()):
            how = draw(st.sampled_from(["{c}", "{c} DESC NULLS LAST", "({c} IS NULL)"]))
            stmts.append(f"CREATE INDEX \"ix {i}\" ON {table} ({how.format(c=names[0])})")
        if draw(st.booleans()):
            stmts.append(f"COMMENT ON TABLE {table} IS {draw(st.sampled_from(COMMENTS))}")
    if draw(st.booleans()):
        stmts.append(f"CREATE VIEW \"v.1\" AS SELECT id FROM {tables[0]} WHERE id > 0")
        stmts.append("CREATE VIEW s.v2 AS SELECT count(*) AS n FROM \"v.1\"")
    if draw(st.booleans()):
        stmts.append("CREATE SEQUENCE s.counter START WITH 5 INCREMENT BY 3")
    return ";\n".join(stmts) + ";\n"


# no shrinking: each example builds two databases, and an unshrunk failure is printed whole
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
                    phases=[Phase.explicit, Phase.reuse, Phase.generate])


def _catalog(url):
    conn = connect(url)
    try:
        return introspect(conn, "postgres")
    finally:
        conn.close()


@pytest.mark.slow
@PROPERTY
@given(a=schema_sql(), b=schema_sql())
def test_script_turns_a_into_b_by_pg_dump(pg_server, a: str, b: str) -> None:
    cur, want = database(pg_server, a), database(pg_server, b)
    try:
        conn = connect(cur)
        try:
            script = render(plan(introspect(conn, "postgres"), _catalog(want)))
            run_script(conn, script)
        finally:
            conn.close()
        assert dump(cur) == dump(want), f"A:\n{a}\nB:\n{b}\nscript:\n{script.text()}"
        assert plan(_catalog(cur), _catalog(want)).changes == []
    finally:
        drop(pg_server, cur, want)


def test_identifiers_over_63_bytes_converge(pg_url) -> None:
    """The server truncates them (NAMEDATALEN); read back through the shadow, both sides
    carry the truncated name, so a second diff is empty instead of a drop/create loop."""
    from db_live_helpers import remaining, sync, want

    long_name = "t_" + "é" * 40  # 82 bytes
    desired = want(pg_url, f'CREATE TABLE "{long_name}" (id integer, "{long_name}_col" text)')
    sync(pg_url, desired)
    assert remaining(pg_url, desired) == []
    names = [k[2] for k in _catalog(pg_url).objects if k[0] == "table"]
    assert len(names) == 1 and len(names[0].encode()) <= 63 and long_name.startswith(names[0])
