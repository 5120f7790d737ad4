"""Snapshots on PostgreSQL are the catalog model as JSON: read back, they compare equal to
the live catalog (so drift checks and rollback guards need no server), and a contract change
between two of them is named."""

from __future__ import annotations

import json

import pytest

from deploy.db.compare import from_json, plan
from deploy.db.connect import connect
from deploy.db.deploy_step import rollback_blockers
from deploy.db.postgres.introspect import introspect_catalog

from db_live_helpers import live, sync, want


def test_a_catalog_survives_json_and_compares_equal(pg_url) -> None:
    schema = want(pg_url, 'CREATE TYPE mood AS ENUM (\'a\', \'b\'); CREATE TABLE "a.t" (id serial PRIMARY KEY, '
                          'm mood DEFAULT \'a\', "first name" text); CREATE INDEX ON "a.t" ("first name");'
                          'CREATE VIEW v AS SELECT id FROM "a.t"; COMMENT ON TABLE "a.t" IS \'it\'\'s\'')
    sync(pg_url, schema)
    copy = from_json(json.loads(json.dumps(schema.to_json())))
    assert plan(copy, live(pg_url)).changes == []
    assert plan(live(pg_url), copy).changes == []


def test_rollback_blockers_name_contract_changes_between_catalogs(pg_url) -> None:
    old = want(pg_url, "CREATE TABLE post (id integer PRIMARY KEY, legacy text); CREATE VIEW v AS SELECT id FROM post")
    new = want(pg_url, "CREATE TABLE post (id integer PRIMARY KEY, extra text NOT NULL)")
    blockers = rollback_blockers(new.to_json(), old.to_json())
    assert "column public.post.legacy is gone" in blockers and "view public.v is gone" in blockers
    expand = want(pg_url, "CREATE TABLE post (id integer PRIMARY KEY, legacy text, more text); "
                          "CREATE VIEW v AS SELECT id FROM post")
    assert rollback_blockers(expand.to_json(), old.to_json()) == []


@pytest.mark.parametrize("autocommit", [False, True])
def test_reading_the_catalog_leaves_the_sessions_settings_as_they_were(pg_url, autocommit: bool) -> None:
    """The reader empties search_path and turns jit off for its queries, then gives both back."""
    conn = connect(pg_url, autocommit=autocommit)
    try:
        conn.execute("SET search_path = pg_catalog, public")
        conn.execute("SET jit = on")
        if not autocommit:
            conn.commit()
        introspect_catalog(conn)
        assert tuple(conn.execute("SELECT current_setting('search_path'), current_setting('jit')").fetchone()) == (
            "pg_catalog, public", "on")
    finally:
        conn.close()
