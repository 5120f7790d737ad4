"""Identifiers are data (issue 11 §7): names with dots, spaces, quotes and brackets, drawn by
hypothesis, survive a sync on the real engine. The oracle is the engine's own catalog
(sqlite_master and its PRAGMAs; MariaDB's information_schema), not Shipyard's reader; T-SQL,
which cannot run here, is parsed back with sqlglot and applied in memory."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deploy.db.connect import DbUrl, connect
from deploy.db.desired import from_text
from deploy.db.diff import diff
from deploy.db.execute import run_script
from deploy.db.introspect import introspect
from deploy.db.render import render

ALPHABET = st.sampled_from(list("abcXYZ019 ._-\"'`[]é$#"))


def identifiers(forbid: str = "") -> st.SearchStrategy[str]:
    """Names a user can write quoted; `forbid` holds characters the engine refuses."""
    return (st.text(ALPHABET.filter(lambda ch: ch not in forbid), min_size=1, max_size=10)
            .filter(lambda s: s == s.strip() and not s.lower().startswith(("sqlite_", "_shipyard", "shipyard_"))))


@st.composite
def schema_names(draw, forbid: str = "") -> dict:
    """Two tables whose names differ by a dot-prefix (`x.t` beside `t`), a third drawn freely,
    columns and index names drawn freely; everything unique without regard to case."""
    base = draw(identifiers(forbid + "."))
    tables = [base, f"{draw(identifiers(forbid + '.'))}.{base}", draw(identifiers(forbid))]
    columns = draw(st.lists(identifiers(forbid), min_size=2, max_size=2, unique_by=str.lower))
    index = draw(identifiers(forbid))
    if len({t.lower() for t in tables}) < 3 or {c.lower() for c in columns} & {"id"}:
        tables, columns = [base, f"s.{base}", base + "2"], ["first name", "o'brien"]
    return {"tables": tables, "columns": columns, "index": index}


def _sql(names: dict, quote, with_index: bool, tables: list[str]) -> str:
    c1, c2 = (quote(c) for c in names["columns"])
    out = []
    for i, t in enumerate(tables):
        out.append(f"CREATE TABLE {quote(t)} (id integer PRIMARY KEY, {c1} integer, {c2} integer);")
        if with_index:
            out.append(f"CREATE INDEX {quote(names['index'] + str(i))} ON {quote(t)} ({c1}, {c2} DESC);")
    return "\n".join(out)


def _dq(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_catalog(conn) -> dict:
    """What SQLite itself says: tables, their columns, their indexes' key columns and order."""
    cur = conn.cursor()
    out = {}
    for (table,) in cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
        cols = [r[1] for r in cur.execute(f"PRAGMA table_xinfo({_dq(table)})").fetchall()]
        indexes = {}
        for row in cur.execute(f"PRAGMA index_list({_dq(table)})").fetchall():
            keys = cur.execute(f"PRAGMA index_xinfo({_dq(row[1])})").fetchall()
            indexes[row[1]] = [(k[2], k[3]) for k in keys if k[5]]
        out[table] = (cols, indexes)
    return out


def _expected(names: dict, tables: list[str], with_index: bool) -> dict:
    c1, c2 = names["columns"]
    return {t: (["id", c1, c2], {f"{names['index']}{i}": [(c1, 0), (c2, 1)]} if with_index else {})
            for i, t in enumerate(tables)}


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(names=schema_names())
def test_generated_identifiers_on_sqlite(names: dict) -> None:
    """Create all three tables, then drop only the third and add indexes, with
    --allow-destructive: SQLite's catalog must hold exactly the two kept tables."""
    everything, kept = names["tables"], names["tables"][:2]
    with tempfile.TemporaryDirectory() as d:
        conn = connect(DbUrl("sqlite", str(Path(d) / "i.db")))
        try:
            for text, tables, with_index in ((_sql(names, _dq, False, everything), everything, False),
                                             (_sql(names, _dq, True, kept), kept, True)):
                desired = from_text(text, "sqlite")
                plan = diff(introspect(conn, "sqlite"), desired)
                run_script(conn, render(plan))
                assert _sqlite_catalog(conn) == _expected(names, tables, with_index), render(plan).text()
                assert diff(introspect(conn, "sqlite"), desired).changes == []
        finally:
            conn.close()


def _bq(name: str) -> str:
    return "[" + name.replace("]", "]]") + "]"


@settings(max_examples=40, deadline=None)
@given(names=schema_names())
def test_generated_identifiers_as_tsql(names: dict) -> None:
    """No SQL Server here: every script is read back by both T-SQL parsers (inside render and
    by tests/conftest.py) and, applied to the model in memory, drops exactly the one table that went."""
    from deploy.db.model import Schema

    from db_tsql_apply import apply_tsql

    everything, kept = names["tables"], names["tables"][:2]
    live = Schema("tsql")
    for text, tables in ((_sql(names, _bq, False, everything), everything), (_sql(names, _bq, True, kept), kept)):
        desired = from_text(text.replace("integer", "int"), "tsql")
        script = render(diff(live, desired)).text()
        live = apply_tsql(live, script)
        assert sorted(t.name.name for t in live.tables.values()) == sorted(tables)
        assert diff(live, desired).changes == [], script


def test_a_dotted_name_beside_its_suffix_is_another_table() -> None:
    """`"a.t"` and `t` are two tables on every dialect: nothing is dropped or split."""
    for dialect, quote in (("sqlite", _dq), ("postgres", _dq), ("tsql", _bq)):
        text = f"CREATE TABLE t (id int); CREATE TABLE {quote('a.t')} (id int, {quote('first name')} int);"
        both = from_text(text, dialect)
        assert sorted(t.name.name for t in both.tables.values()) == ["a.t", "t"]
        only_t = from_text("CREATE TABLE t (id int);", dialect)
        plan = diff(both, only_t)
        assert [(c.kind, c.old.name.name) for c in plan.changes] == [("drop_table", "a.t")]
        assert quote("a.t") in render(plan).text() and diff(both, both).changes == []


def _tq(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _mysql_catalog(admin, database: str) -> dict:
    """What MariaDB itself lists (information_schema, through mysql_oracle)."""
    import mysql_oracle

    found = mysql_oracle.describe(admin, database)
    out: dict = {}
    for table, _pos, column, *_ in found["columns"]:
        out.setdefault(table, ([], {}))[0].append(column)
    for table, index, _seq, column, _sub, order, *_ in found["indexes"]:
        if index != "PRIMARY":
            out[table][1].setdefault(index, []).append((column, int(order == "D")))
    return out


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=schema_names())
@example(names={"tables": ["a", "a.a", "aa"], "columns": ["a", "a  a"], "index": "a"})  # a run of spaces in a name
@example(names={"tables": ["a", "s.a", "a2"], "columns": ["first name", "o'brien"], "index": "a  a"})
def test_generated_identifiers_on_mariadb(mysql_url, names: dict) -> None:
    """The same on MariaDB: the desired state read back through the shadow database, the
    script run by Shipyard's executor, and information_schema must list exactly the tables,
    columns and index keys asked for."""
    from deploy.db.mysql.shadow import desired_from_files

    everything, kept = names["tables"], names["tables"][:2]
    admin = connect(mysql_url.with_database(""), autocommit=True)
    conn = connect(mysql_url, autocommit=True)
    try:
        for row in conn.execute("SHOW TABLES").fetchall():  # hypothesis reuses the database
            conn.execute(f"DROP TABLE {_tq(row[0])}")
        for text, tables, with_index in ((_sql(names, _tq, False, everything), everything, False),
                                         (_sql(names, _tq, True, kept), kept, True)):
            desired = desired_from_files(mysql_url, None, [("ids.sql", text.replace("integer PRIMARY KEY", "int PRIMARY KEY"))])
            plan = diff(introspect(conn, "mysql"), desired)
            run_script(conn, render(plan))
            assert _mysql_catalog(admin, mysql_url.database) == _expected(names, tables, with_index), render(plan).text()
            assert diff(introspect(conn, "mysql"), desired).changes == []
    finally:
        conn.close()
        admin.close()
