"""Hypothesis on MariaDB: random pairs of schemas A and B (many column types, character sets,
generated columns, prefix and descending and fulltext indexes, foreign keys, checks, table
options, views and triggers). A is built by the `mariadb` client, Shipyard migrates it to B
and back, its script is applied by the client, and each time the server's own description
(mysql_oracle.py) must equal that of a database built straight from the target."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from deploy.db.connect import connect
from deploy.db.diff import diff
from deploy.db.introspect import introspect
from deploy.db.mysql.shadow import desired_from_files
from deploy.db.render import render

import mysql_oracle as oracle

TYPES = {
    "int": "0", "bigint unsigned": "7", "tinyint(1)": "1", "decimal(10,2)": "1.50", "decimal(12,3)": "2.000",
    "varchar(20)": "'a'", "varchar(40) CHARACTER SET latin1": "'b'", "varchar(30) COLLATE utf8mb4_bin": "'c'",
    "text": None, "datetime(3)": "'2024-01-01 00:00:00'", "enum('x','y')": "'x'", "enum('x','y','z')": "'y'",
    "json": None, "double": "0.5",
}
_ids = itertools.count()


@st.composite
def column(draw, name: str) -> tuple[str, str]:
    typ = draw(st.sampled_from(sorted(TYPES)))
    out = f"`{name}` {typ}"
    if draw(st.booleans()):
        out += " NOT NULL"
    if TYPES[typ] is not None and draw(st.booleans()):
        out += f" DEFAULT {TYPES[typ]}"
    if draw(st.integers(0, 4)) == 0:
        out += " COMMENT 'it''s " + name + "'"
    return out, typ


@st.composite
def table(draw, name: str, earlier: list[str]) -> list[str]:
    cols = draw(st.lists(st.sampled_from(["c0", "c1", "c2", "c3"]), max_size=4, unique=True))
    if draw(st.booleans()):
        cols = draw(st.permutations(cols))
    parts, types = [f"`id` int NOT NULL{' AUTO_INCREMENT' if draw(st.booleans()) else ''}"], {}
    for c in cols:
        text, types[c] = draw(column(c))
        parts.append(text)
    numeric = [c for c in cols if types[c] in ("int", "bigint unsigned", "decimal(10,2)", "double")]
    if numeric and draw(st.booleans()):
        parts.append(f"`g` int GENERATED ALWAYS AS (`{numeric[0]}` + 1) {draw(st.sampled_from(['VIRTUAL', 'STORED']))}")
    parts.append("PRIMARY KEY (`id`)")
    strings = [c for c in cols if types[c].startswith("varchar")]
    for c in draw(st.lists(st.sampled_from(strings), max_size=2, unique=True)) if strings else []:
        desc = " DESC" if draw(st.booleans()) else ""
        extra = draw(st.sampled_from(["", " USING BTREE", " COMMENT 'ix'", " IGNORED"]))
        parts.append(f"{draw(st.sampled_from(['KEY', 'UNIQUE KEY']))} `{name}_{c}` (`{c}`({draw(st.integers(2, 8))}){desc}){extra}")
    if len(cols) > 1 and draw(st.booleans()):
        pair = draw(st.permutations(cols))[:2]
        parts.append(f"KEY `{name}_pair` ({', '.join(f'`{c}`' + ('(4)' if types[c] in ('text', 'json') else '') for c in pair)})")
    if "text" in types.values() and draw(st.booleans()):
        parts.append(f"FULLTEXT KEY `{name}_ft` (`{[c for c in cols if types[c] == 'text'][0]}`)")
    if numeric and draw(st.booleans()):
        parts.append(f"CONSTRAINT `{name}_chk` CHECK (`{numeric[-1]}` > {draw(st.integers(-5, 0))})")
    if earlier and draw(st.booleans()):
        parts.insert(1, "`ref` int")
        action = draw(st.sampled_from(["", " ON DELETE CASCADE", " ON DELETE SET NULL"]))
        parts.append(f"CONSTRAINT `{name}_fk` FOREIGN KEY (`ref`) REFERENCES `{draw(st.sampled_from(earlier))}` (`id`){action}")
    options = draw(st.sampled_from(["", " COMMENT='t'", " ROW_FORMAT=COMPACT", " DEFAULT CHARSET=latin1"]))
    out = [f"CREATE TABLE `{name}` (\n  " + ",\n  ".join(parts) + f"\n){options};"]
    for n in draw(st.permutations([0, 1]))[: draw(st.integers(0, 2))]:
        body = draw(st.sampled_from([f"SET NEW.`id` = NEW.`id` + {n}", f"BEGIN SET NEW.`id` = NEW.`id` + {n}; SET @x = {n}; END"]))
        out.append(f"CREATE TRIGGER `{name}_bi{n}` BEFORE INSERT ON `{name}` FOR EACH ROW {body};")
    return out


@st.composite
def schema_sql(draw) -> str:
    names = sorted(draw(st.lists(st.sampled_from(["t0", "t1", "t2"]), min_size=1, max_size=3, unique=True)))
    out = []
    for i, name in enumerate(names):
        out += draw(table(name, names[:i]))
    if draw(st.booleans()):
        options = draw(st.sampled_from(["", "ALGORITHM=MERGE ", "SQL SECURITY INVOKER "]))
        check = draw(st.sampled_from(["", " WITH CHECK OPTION"]))
        out.append(f"CREATE {options}VIEW `v_{names[0]}` AS SELECT `id` FROM `{names[0]}` WHERE `id` > {draw(st.integers(0, 3))}{check};")
    if draw(st.booleans()):
        out.append(f"CREATE FUNCTION `f_{names[0]}`(x int) RETURNS int DETERMINISTIC RETURN x + {draw(st.integers(0, 2))};")
    if draw(st.booleans()):
        out.append(f"CREATE PROCEDURE `p_{names[-1]}`() BEGIN SELECT count(*) FROM `{names[-1]}`; "
                   f"SELECT {draw(st.integers(0, 2))}; END;")
    # the `mariadb` client needs DELIMITER around bodies holding `;`; Shipyard reads it too
    return "DELIMITER //\n" + "\n".join(f"{s[:-1]}//" for s in out) + "\nDELIMITER ;\n"


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


@pytest.mark.slow
@PROPERTY
@given(a=schema_sql(), b=schema_sql())
def test_random_schema_pairs_on_mariadb(mariadb, a: str, b: str) -> None:
    client = oracle.Client(mariadb.port)
    admin = connect(mariadb.url, autocommit=True)
    names = [f"p{next(_ids)}" for _ in range(3)]
    try:
        for name in names:
            admin.execute(f"CREATE DATABASE {name}")
        live, at_a, at_b = names
        loads = [client.run(live, a), client.run(at_a, a), client.run(at_b, b)]
        assume(all(done.returncode == 0 for done in loads))
        for target_sql, reference in ((b, at_b), (a, at_a)):
            _migrate(mariadb, client, admin, live, target_sql, reference)
    finally:
        for name in names:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


def _migrate(mariadb, client, admin, live: str, target_sql: str, reference: str) -> None:
    url = mariadb.url.with_database(live)
    want = desired_from_files(url, None, [("target.sql", target_sql)])
    conn = connect(url, autocommit=True)
    try:
        text = render(diff(introspect(conn, "mysql"), want)).text()
        done = client.run(live, text)
        assert done.returncode == 0, f"{done.stderr}\n{text}\ntarget:\n{target_sql}"
        found = oracle.differences(oracle.describe(admin, live), oracle.describe(admin, reference))
        assert found == [], f"{found}\n{text}\ntarget:\n{target_sql}"
        assert diff(introspect(conn, "mysql"), want).changes == []
    finally:
        conn.close()
