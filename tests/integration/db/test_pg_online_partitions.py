"""`--concurrently` on partitioned tables, on a real PostgreSQL: an index on a partition tree is
built ON ONLY the parent, CONCURRENTLY on each partition, then attached (the server refuses
CONCURRENTLY on the parent itself, so a passing apply of a script with no transaction proves
the builds ran outside one); the result equals the desired database by normalised pg_dump
(the vendored scorer's units) and pg_index says every index is valid. Generated trees
(sub-partitions, defaults, indexes already on partitions) and a failed build that the next
sync finishes online are checked the same way."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

import pytest

from deploy.db.compare import plan
from deploy.db.connect import connect
from deploy.db.errors import TailFailed
from deploy.db.render import render
from db_live_helpers import live
from pg_oracle import apply, databases, dump, examples, values

TREE = ("CREATE TABLE pt (k integer, v integer, w text) PARTITION BY RANGE (k);\n"
        "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);\n"
        "CREATE TABLE pt2 PARTITION OF pt FOR VALUES FROM (100) TO (200) PARTITION BY LIST (v);\n"
        "CREATE TABLE pt2a PARTITION OF pt2 FOR VALUES IN (1, 2);\n"
        "CREATE TABLE pt2b PARTITION OF pt2 DEFAULT;\n")
ROWS = "INSERT INTO pt SELECT g % 200, g % 5, 'x' || g FROM generate_series(1, 1000) g;\n"
INDEXES = "SELECT indexrelid::regclass::text, indisvalid FROM pg_index WHERE indexrelid::regclass::text LIKE 'pt%' ORDER BY 1"


def _valid(url) -> list:
    conn = connect(url)
    try:
        return [(name, valid in (True, 1, "1")) for name, valid in conn.execute(INDEXES).fetchall()]
    finally:
        conn.close()


def _online_only(script) -> None:
    """No transaction, and every build on a partition with rows is CONCURRENTLY."""
    assert not script.steps, script.text()
    for step in script.tail:
        if step.sql.startswith("CREATE"):
            assert " CONCURRENTLY " in step.sql or " ON ONLY " in step.sql, step.sql


def test_a_partition_tree_gets_its_indexes_online(pg_server) -> None:
    before = TREE + "CREATE INDEX pt1_w ON pt1 (w);\n" + ROWS
    after = TREE + ("CREATE INDEX pt1_w ON pt1 (w);\nCREATE INDEX pt_v ON pt (v, k);\n"
                    "CREATE UNIQUE INDEX pt_u ON pt (k, v, w);\nCREATE INDEX pt_w ON pt (w);\nCOMMENT ON INDEX pt_v IS 'vv';\n")
    with databases(pg_server, before, after) as (cur, goal):
        kept_oid = values(cur, "SELECT 'public.pt1_w'::regclass::oid::int8")
        script = render(plan(live(cur), live(goal), concurrently=True))
        _online_only(script)
        text = script.text()
        assert "CREATE INDEX pt_v ON ONLY public.pt " in text and "ATTACH PARTITION \"public\".\"pt1_w\"" in text, text
        assert text.index("pt2a_v_k_idx\";") < text.index("ATTACH PARTITION \"public\".\"pt2_v_k_idx\"")  # deepest first
        apply(cur, script)
        assert dump(cur) == dump(goal), text
        assert _valid(cur) == _valid(goal) and all(v for _, v in _valid(cur)) and len(_valid(cur)) == 15
        assert values(cur, "SELECT 'public.pt1_w'::regclass::oid::int8") == kept_oid  # attached as it was, not rebuilt
        assert plan(live(cur), live(goal)).changes == []


def test_a_failed_partition_build_is_named_and_the_next_sync_finishes_it_online(pg_server) -> None:
    tree = ("CREATE TABLE pt (k integer, v integer) PARTITION BY RANGE (k);\n"
            "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);\n"
            "CREATE TABLE pt2 PARTITION OF pt FOR VALUES FROM (100) TO (200);\n")
    with databases(pg_server, tree + "INSERT INTO pt VALUES (1, 1), (150, 1), (150, 1);",
                   tree + "CREATE UNIQUE INDEX pt_kv ON pt (k, v);") as (cur, goal):
        with pytest.raises(TailFailed) as e:
            apply(cur, render(plan(live(cur), live(goal), concurrently=True)))
        assert e.value.left_behind == ["public.pt2_k_v_idx", "public.pt_kv"] and "duplicated" in str(e.value)
        assert _valid(cur) == [("pt1_k_v_idx", True), ("pt2_k_v_idx", False), ("pt_kv", False)]  # the catalog agrees
        conn = connect(cur, autocommit=True)
        conn.execute("DELETE FROM pt2")
        conn.close()
        again = plan(live(cur), live(goal), concurrently=True)
        script = render(again)
        _online_only(script)
        assert [c.describe() for c in again.changes] == ["replace_index public.pt_kv"]
        assert not any(s.sql.startswith(("DROP INDEX CONCURRENTLY \"public\".\"pt_kv\"", "CREATE UNIQUE INDEX pt_kv"))
                       for s in script.tail), script.text()  # finished, not made anew
        apply(cur, script)
        assert dump(cur) == dump(goal) and _valid(cur) == [("pt1_k_v_idx", True), ("pt2_k_v_idx", True), ("pt_kv", True)]


@pytest.mark.parametrize("before, after", [
    # a partition the script creates: the whole index is made in the transaction
    ("CREATE TABLE pt (k integer) PARTITION BY RANGE (k); CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (9)",
     "CREATE TABLE pt (k integer) PARTITION BY RANGE (k); CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (9);"
     "CREATE TABLE pt2 PARTITION OF pt FOR VALUES FROM (9) TO (20); CREATE INDEX pt_k ON pt (k)"),
    # the copy's name is held by a relation the transaction drops (the tail cannot build under it first)
    ("CREATE TABLE pt (k integer) PARTITION BY RANGE (k); CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (9);"
     "CREATE TABLE pt1_k_idx (x integer)",
     "CREATE TABLE pt (k integer) PARTITION BY RANGE (k); CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (9);"
     "CREATE INDEX pt_k ON pt (k)"),
])
def test_what_cannot_be_built_online_stays_in_the_transaction(pg_server, before: str, after: str) -> None:
    with databases(pg_server, before, after) as (cur, goal):
        script = render(plan(live(cur), live(goal), concurrently=True))
        assert not script.tail and any(s.sql.startswith("CREATE INDEX pt_k ON public.pt ") for s in script.steps), script.text()
        apply(cur, script)
        assert dump(cur) == dump(goal)


@st.composite
def partitioned_pair(draw) -> tuple[str, str]:
    """A tree of 1-3 range partitions (one maybe split by list, with a default), and indexes
    on the parent (new or kept), some already on partitions under the server's names."""
    parts = draw(st.integers(1, 3))
    split = draw(st.integers(-1, parts - 1))
    ddl = ["CREATE TABLE pt (k integer, v integer, w text) PARTITION BY RANGE (k);"]
    leaves = []
    for i in range(parts):
        by = " PARTITION BY LIST (v)" if i == split else ""
        ddl.append(f"CREATE TABLE p{i} PARTITION OF pt FOR VALUES FROM ({i * 100}) TO ({i * 100 + 100}){by};")
        if i == split:
            ddl += [f"CREATE TABLE p{i}a PARTITION OF p{i} FOR VALUES IN (1, 2);", f"CREATE TABLE p{i}d PARTITION OF p{i} DEFAULT;"]
            leaves += [f"p{i}a", f"p{i}d"]
        else:
            leaves.append(f"p{i}")
    shapes = {"v": "(v)", "k_v": "(k, v)", "w": "(w)", "expr": "((lower(w)))"}
    pre = draw(st.lists(st.tuples(st.sampled_from(leaves), st.sampled_from(sorted(shapes))), max_size=3, unique=True))
    existing = "".join(f"CREATE INDEX {t}_{c}_idx ON {t} {shapes[c]};" for t, c in pre)
    old = draw(st.lists(st.sampled_from(sorted(shapes)), max_size=2, unique=True))
    new = draw(st.lists(st.sampled_from(sorted(shapes)), min_size=1, max_size=3, unique=True))
    unique = draw(st.booleans())
    base = "\n".join(ddl) + existing
    a = base + "".join(f"CREATE INDEX ix_{c} ON pt {shapes[c]};" for c in old if c in new)
    a += f"INSERT INTO pt SELECT g % {100 * parts}, g % 4, 'x' || g FROM generate_series(1, 300) g;"
    b = base + "".join(f"CREATE INDEX ix_{c} ON pt {shapes[c]};" for c in new)
    b += "CREATE UNIQUE INDEX ix_u ON pt (k, v, w);" if unique else ""
    return a, b


@pytest.mark.slow
@examples(25)
@given(pair=partitioned_pair())
def test_generated_trees_are_built_online_to_the_desired_dump(pg_server, pair: tuple[str, str]) -> None:
    a, b = pair
    with databases(pg_server, a, b) as (cur, goal):
        script = render(plan(live(cur), live(goal), concurrently=True))
        context = f"A:\n{a}\nB:\n{b}\nscript:\n{script.text()}"
        _online_only(script)
        apply(cur, script)
        assert dump(cur) == dump(goal), context
        assert _valid(cur) == _valid(goal) and all(v for _, v in _valid(cur)), context
        assert plan(live(cur), live(goal)).changes == [], context
        assert all(re.match(r"(CREATE|ALTER INDEX|DROP INDEX CONCURRENTLY|COMMENT)", s.sql) for s in script.tail), context
