"""Owners under --with-owners on a real PostgreSQL: generated owners for every kind of object
that has one (schema, table, serial table, view, materialized view, sequence, enum, domain,
function, procedure, collation, event trigger) on both sides, and objects only the desired
side has; after the sync the owners pg_class, pg_proc, pg_type, pg_namespace, pg_collation
and pg_event_trigger record (an oracle Shipyard did not write) equal the desired database's,
and a second compare is empty. Without the option no OWNER TO is written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.db.compare import plan
from deploy.db.connect import connect
from deploy.db.render import render
from db_live_helpers import live
from pg_oracle import apply, databases, ensure_roles, examples, values

WHO = ["postgres", "own_a", '"own b"']
OBJECTS = [("SCHEMA", "s", "CREATE SCHEMA s"),
           ("TABLE", "s.t", "CREATE TABLE s.t (id integer)"),
           ("TABLE", "ser", "CREATE TABLE ser (id serial)"),
           ("VIEW", "v", "CREATE VIEW v AS SELECT 1 AS one"),
           ("MATERIALIZED VIEW", "mv", "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one"),
           ("SEQUENCE", "sq", "CREATE SEQUENCE sq"),
           ("TYPE", "mood", "CREATE TYPE mood AS ENUM ('a', 'b')"),
           ("DOMAIN", "posint", "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)"),
           ("FUNCTION", "f(integer)", "CREATE FUNCTION f(integer) RETURNS integer LANGUAGE sql AS 'select $1'"),
           ("PROCEDURE", "p()", "CREATE PROCEDURE p() LANGUAGE sql AS 'select 1'"),
           ("COLLATION", "coll", "CREATE COLLATION coll (provider = libc, locale = 'C')"),
           ("EVENT TRIGGER", "et", "CREATE FUNCTION evf() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$; "
                                   "CREATE EVENT TRIGGER et ON sql_drop EXECUTE FUNCTION evf()")]
SUPERUSERS = ["postgres", "own_su"]  # an event trigger's owner must be one
ONLY_DESIRED = [("TABLE", "fresh", "CREATE TABLE fresh (id integer)")]
CATALOG = """SELECT 'rel ' || c.oid::regclass::text || ' ' || pg_get_userbyid(c.relowner) FROM pg_class c
 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 's') AND c.relkind IN ('r', 'v', 'm', 'S')
UNION ALL SELECT 'proc ' || p.oid::regprocedure::text || ' ' || pg_get_userbyid(p.proowner) FROM pg_proc p
 WHERE p.pronamespace = 'public'::regnamespace
UNION ALL SELECT 'type ' || t.typname || ' ' || pg_get_userbyid(t.typowner) FROM pg_type t
 WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('d', 'e')
UNION ALL SELECT 'schema ' || nspname || ' ' || pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 's'
UNION ALL SELECT 'collation ' || collname || ' ' || pg_get_userbyid(collowner) FROM pg_collation
 WHERE collnamespace = 'public'::regnamespace
UNION ALL SELECT 'event trigger ' || evtname || ' ' || pg_get_userbyid(evtowner) FROM pg_event_trigger
ORDER BY 1"""


@pytest.fixture(scope="session")
def pg_superuser(pg_with_roles):
    """The roles of the owner tests, and a second superuser (to own an event trigger)."""
    conn = connect(ensure_roles(pg_with_roles, "own_su"), autocommit=True)
    conn.execute("ALTER ROLE own_su SUPERUSER")
    conn.close()
    return pg_with_roles


@st.composite
def owners_sql(draw, desired: bool) -> str:
    stmts = []
    for word, name, create in OBJECTS + (ONLY_DESIRED if desired else []):
        stmts.append(create)
        who = draw(st.sampled_from(SUPERUSERS if word == "EVENT TRIGGER" else WHO))
        if who != "postgres":
            stmts.append(f"ALTER {word} {name} OWNER TO {who}")
    return ";\n".join(stmts) + ";\n"


@pytest.mark.slow
@examples(20)
@given(a=owners_sql(desired=False), b=owners_sql(desired=True))
def test_owners_are_synced(pg_superuser, a: str, b: str) -> None:
    with databases(pg_superuser, a, b) as (cur, goal):
        assert "OWNER TO" not in render(plan(live(cur), live(goal))).text()
        script = render(plan(live(cur), live(goal), with_owners=True))
        apply(cur, script)
        context = f"A:\n{a}\nB:\n{b}\nscript:\n{script.text()}"
        assert values(cur, CATALOG) == values(goal, CATALOG), context
        assert plan(live(cur), live(goal), with_owners=True).changes == [], context
