"""Default privileges (ALTER DEFAULT PRIVILEGES) under --with-privileges, on a real
PostgreSQL: generated sets of a role's own and per-schema defaults on both sides; after the
sync, pg_default_acl and pg_dump's privilege statements (an oracle Shipyard did not write)
equal the desired database's, and a second compare is empty. Without the option they are
not touched."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.db.compare import plan
from deploy.db.render import render
from db_live_helpers import live
from pg_oracle import apply, databases, dump, examples, values

GRANTS = ["GRANT SELECT ON TABLES TO dp_reader", "GRANT SELECT, INSERT ON TABLES TO \"dp writer\"",
          "GRANT USAGE ON SEQUENCES TO dp_reader", "REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
          "GRANT EXECUTE ON FUNCTIONS TO \"dp writer\" WITH GRANT OPTION", "REVOKE USAGE ON TYPES FROM PUBLIC",
          "GRANT CREATE ON SCHEMAS TO dp_reader", "REVOKE ALL ON TABLES FROM postgres"]
WHERE = ["", "IN SCHEMA s ", "IN SCHEMA \"S 2\" "]
CATALOG = ("SELECT pg_get_userbyid(defaclrole) || '|' || coalesce(n.nspname, '-') || '|' || defaclobjtype::text || '|' || "
           "array_to_string(ARRAY(SELECT unnest(defaclacl)::text ORDER BY 1), ',') FROM pg_default_acl d "
           "LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace ORDER BY 1")


@st.composite
def defaults_sql(draw) -> str:
    stmts = ['CREATE SCHEMA s', 'CREATE SCHEMA "S 2"']
    for grant in draw(st.lists(st.sampled_from(GRANTS), max_size=4, unique=True)):
        where = draw(st.sampled_from(WHERE))
        if where and ("SCHEMAS" in grant or grant.startswith("REVOKE")):
            where = ""  # IN SCHEMA only adds, and never to schemas
        stmts.append(f"ALTER DEFAULT PRIVILEGES FOR ROLE postgres {where}{grant}")
    return ";\n".join(stmts) + ";\n"


@pytest.mark.slow
@examples(25)
@given(a=defaults_sql(), b=defaults_sql())
def test_default_privileges_are_synced(pg_with_roles, a: str, b: str) -> None:
    with databases(pg_with_roles, a, b) as (cur, goal):
        untouched = render(plan(live(cur), live(goal)))
        assert "DEFAULT PRIVILEGES" not in untouched.text()
        script = render(plan(live(cur), live(goal), with_privileges=True))
        apply(cur, script)
        context = f"A:\n{a}\nB:\n{b}\nscript:\n{script.text()}"
        assert values(cur, CATALOG) == values(goal, CATALOG), context
        assert dump(cur, part=1) == dump(goal, part=1), context
        assert plan(live(cur), live(goal), with_privileges=True).changes == [], context
