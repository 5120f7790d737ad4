"""introspect_catalog(conn) -> Catalog: about twenty set-based catalog queries, whatever the
size of the schema, run with an empty search_path so that every name the server renders
is schema-qualified (the same text on the live side and on the shadow database)."""

from __future__ import annotations

import json
from typing import Any

from deploy.db.errors import IntrospectionFailed
from deploy.db.postgres import queries
from deploy.db.postgres.model import Catalog
from deploy.db.postgres.read_other import (finish_domains, read_collations, read_event_triggers, read_extensions,
                                           read_functions, read_policies, read_rules, read_schemas, read_statistics,
                                           read_triggers, read_types)
from deploy.db.postgres.read_relations import build_relations, read_constraints, read_indexes, read_relations, read_sequences
from deploy.db.postgres.reader import Reader


def fetch(conn: Any, with_owners: bool = True) -> dict[str, list]:
    """Every query's rows, each query handed over by the server as one JSON text; the owners
    only `with_owners` (a compare that does not sync them never reads them)."""
    import pyodbc

    cur = conn.cursor()
    # search_path empty: every name the server prints is schema-qualified. jit off: compiling
    # these one-off catalog queries costs more than running them (~0.1 s of the relations
    # query on a 2,000-table schema). Both are the caller's again afterwards.
    saved = cur.execute("SELECT current_setting('search_path'), current_setting('jit')").fetchone()
    cur.execute("SELECT set_config('search_path', '', false), set_config('jit', 'off', false)")
    rows: dict[str, list] = {}
    try:
        for name, sql in queries.ALL.items():
            if name == "owners" and not with_owners:
                continue
            try:
                rows[name] = json.loads(cur.execute(queries.aggregated(sql)).fetchone()[0])
            except pyodbc.Error as e:
                raise IntrospectionFailed(queries.CATALOGS[name], " ".join(str(a) for a in e.args)) from None
    finally:
        conn.rollback()
        cur.execute("SELECT set_config('search_path', ?, false), set_config('jit', ?, false)", *saved)
        conn.commit()
    return rows


def introspect_catalog(conn: Any, with_owners: bool = True) -> Catalog:
    return build(fetch(conn, with_owners))


def build(rows: dict[str, list]) -> Catalog:
    r = Reader({(c, o) for c, o in rows["extension_members"]})
    read_schemas(r, rows["namespaces"])
    read_extensions(r, rows["extensions"])
    read_collations(r, rows["collations"])
    read_types(r, rows["types"])
    read_relations(r, rows["relations"])
    read_sequences(r, rows["sequences"])
    read_indexes(r, rows["indexes"])
    read_constraints(r, rows["constraints"])
    finish_domains(r)
    build_relations(r)
    read_functions(r, rows["functions"])
    read_triggers(r, rows["triggers"])
    read_policies(r, rows["policies"])
    read_rules(r, rows["rules"])
    read_statistics(r, rows["statistics"])
    read_event_triggers(r, rows["event_triggers"])
    r.comments(rows["comments"])
    r.dependencies(rows["depends"])
    r.owners(rows.get("owners", []))
    r.cat.default_acls = [list(row) for row in rows["default_acls"]]
    r.cat.unsupported = sorted(f"{kind} {name}" for kind, name in rows["unsupported"])
    return r.cat
