"""Inheritance changes on a real PostgreSQL (apgdiff's modify_inherits, generalised): a child
moves between parents while its parents gain or drop columns. The script must leave the child
exactly as the desired database has it by normalised pg_dump — which shows whether each
column is the child's own (`attislocal`) or only inherited, an oracle Shipyard did not write —
and a second compare must be empty."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.db.compare import plan
from deploy.db.render import render
from db_live_helpers import live
from pg_oracle import apply, databases, dump, examples, values

COLUMNS = {"id": "bigint", "a": "integer", "b": "text"}
PARENTS = {"p1": ["id", "a"], "p2": ["id", "a", "b"], "p3": ["id"]}


def _sql(parents: dict[str, list[str]], inherits: list[str], own: list[str]) -> str:
    stmts = [f"CREATE TABLE {p} ({', '.join(f'{c} {COLUMNS[c]}' for c in cols)})" for p, cols in parents.items()]
    body = ", ".join(["note text", *(f"{c} {COLUMNS[c]}" for c in own)])
    stmts.append(f"CREATE TABLE c ({body}) INHERITS ({', '.join(inherits)})")
    stmts.append("INSERT INTO c (note) VALUES ('kept')")
    return ";\n".join(stmts) + ";\n"


@st.composite
def pair(draw) -> tuple[str, str]:
    """A: the child inherits some parents; B: others, keeping as its own some of the columns
    none of its new parents gives it (the others go), while p1 may drop `a`."""
    before = sorted(draw(st.lists(st.sampled_from(sorted(PARENTS)), min_size=1, max_size=3, unique=True)))
    after = draw(st.lists(st.sampled_from(sorted(PARENTS)), min_size=1, max_size=3, unique=True))
    parents_b = dict(PARENTS, p1=["id"] if draw(st.booleans()) else PARENTS["p1"])
    had = {c for p in before for c in PARENTS[p]}
    # a column only a new parent brings cannot be made inherited-only in place (every parent has id)
    after = [p for p in after if set(parents_b[p]) <= had] or ["p3"]
    # INHERIT appends a parent: the parents kept come first, in their order (reordering is not done)
    after = [p for p in before if p in after] + sorted(p for p in after if p not in before)
    left = sorted(had - {c for p in after for c in parents_b[p]})
    own = [c for c in left if draw(st.booleans())]
    return _sql(PARENTS, before, []), _sql(parents_b, after, own)


@pytest.mark.slow
@examples(25)
@given(case=pair())
def test_a_child_moves_between_parents(pg_server, case: tuple[str, str]) -> None:
    a, b = case
    with databases(pg_server, a, b) as (cur, goal):
        script = render(plan(live(cur), live(goal)))
        apply(cur, script)
        context = f"A:\n{a}\nB:\n{b}\nscript:\n{script.text()}"
        assert dump(cur) == dump(goal), context
        assert plan(live(cur), live(goal)).changes == [], context
        assert values(cur, "SELECT note FROM c") == ["kept"]  # the child's rows stay


def test_modify_inherits_keeps_the_column_inherited(pg_server) -> None:
    """apgdiff's modify_inherits: testtable leaves parenttable (which drops id) for a new
    parenttable2 giving id: the child's id stays inherited, never becomes its own."""
    before = ("CREATE TABLE parenttable (id bigserial NOT NULL);"
              "CREATE TABLE testtable (field1 polygon) INHERITS (parenttable)")
    after = ("CREATE TABLE parenttable (field3 information_schema.cardinal_number);"
             "CREATE TABLE parenttable2 (id bigserial NOT NULL);"
             "CREATE TABLE testtable (field1 polygon) INHERITS (parenttable2)")
    with databases(pg_server, before, after) as (cur, goal):
        script = render(plan(live(cur), live(goal)))
        apply(cur, script)
        local = values(cur, "SELECT attislocal::text || attinhcount FROM pg_attribute "
                             "WHERE attrelid = 'testtable'::regclass AND attname = 'id'")
        assert local == ["false1"], script.text()  # inherited once, not the child's own
        assert dump(cur) == dump(goal)

