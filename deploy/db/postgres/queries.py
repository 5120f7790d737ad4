"""The catalog queries: one set-based query per object kind (never one per object), each
returning the engine's own renderings (pg_get_*def, pg_get_expr, format_type). They run
with an empty search_path, so every name the server prints is schema-qualified."""

from __future__ import annotations

USER_NS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'"
JOURNAL = "shipyard_migrations"

NAMESPACES = f"""SELECT n.oid, n.nspname, array_to_json(n.nspacl::text[])::text FROM pg_namespace n WHERE {USER_NS}"""

EXTENSIONS = """SELECT e.oid, e.extname, e.extversion, n.nspname FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace"""

RELATIONS = f"""SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence, array_to_json(c.reloptions::text[])::text,
c.relrowsecurity, c.relforcerowsecurity, c.relreplident, c.relispartition,
pg_get_expr(c.relpartbound, c.oid), CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, c.reltype, array_to_json(c.relacl::text[])::text,
CASE WHEN c.relkind = 'm' THEN c.relispopulated END,
CASE WHEN c.reloftype <> 0 THEN format_type(c.reloftype, NULL) END,
(SELECT t.typarray FROM pg_type t WHERE t.oid = c.reltype)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f') AND {USER_NS} AND NOT (c.relname = '{JOURNAL}' AND c.relkind = 'r')"""

COLUMNS = f"""SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
a.attislocal, a.attinhcount, a.attstattarget, NULLIF(a.attstorage, t.typstorage), array_to_json(a.attacl::text[])::text, d.oid,
t.typtype = 'e' OR (t.typcategory = 'A' AND EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typtype = 'e'))
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f') AND {USER_NS}
ORDER BY a.attrelid, a.attnum"""

INHERITS = """SELECT i.inhrelid, i.inhparent, i.inhseqno FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE c.relkind IN ('r', 'p', 'f') ORDER BY i.inhrelid, i.inhseqno"""

CONSTRAINTS = f"""SELECT k.oid, k.conrelid, k.contypid, k.conname, k.contype, pg_get_constraintdef(k.oid),
k.conislocal, k.coninhcount, k.conparentid, k.conindid, k.convalidated
FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE {USER_NS}"""

INDEXES = f"""SELECT i.indexrelid, i.indrelid, c.relname, pg_get_indexdef(i.indexrelid), i.indisclustered,
i.indisreplident, i.indexrelid IN (SELECT h.inhrelid FROM pg_inherits h),
i.indexrelid IN (SELECT k.conindid FROM pg_constraint k WHERE k.contype IN ('p', 'u', 'x'))
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_NS}"""

SEQUENCES = f"""SELECT c.oid, n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
s.seqmax, s.seqmin, s.seqcache, s.seqcycle, array_to_json(c.relacl::text[])::text,
(SELECT d.refobjid FROM pg_depend d WHERE d.classid = 1259 AND d.objid = c.oid AND d.deptype IN ('a', 'i')
 AND d.refclassid = 1259 AND d.refobjsubid > 0 LIMIT 1),
(SELECT d.refobjsubid FROM pg_depend d WHERE d.classid = 1259 AND d.objid = c.oid AND d.deptype IN ('a', 'i')
 AND d.refclassid = 1259 AND d.refobjsubid > 0 LIMIT 1),
EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 1259 AND d.objid = c.oid AND d.deptype = 'i')
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_NS}"""

TYPES = f"""SELECT t.oid, n.nspname, t.typname, t.typtype, t.typrelid,
CASE t.typtype WHEN 'e' THEN (SELECT array_to_json(array_agg(e.enumlabel ORDER BY e.enumsortorder))::text FROM pg_enum e
  WHERE e.enumtypid = t.oid) END,
CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END, t.typnotnull, t.typdefault,
CASE WHEN t.typtype = 'd' AND t.typcollation <> COALESCE(b.typcollation, 0)
  THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
CASE WHEN t.typtype = 'r' THEN (SELECT concat_ws(', ', 'subtype = ' || format_type(r.rngsubtype, NULL),
  CASE WHEN r.rngsubopc <> 0 AND NOT oc.opcdefault THEN 'subtype_opclass = ' || quote_ident(ocn.nspname) || '.'
    || quote_ident(oc.opcname) END,
  CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation THEN 'collation = ' || r.rngcollation::regcollation::text END,
  CASE WHEN r.rngcanonical <> 0 THEN 'canonical = ' || r.rngcanonical::regproc::text END,
  CASE WHEN r.rngsubdiff <> 0 THEN 'subtype_diff = ' || r.rngsubdiff::regproc::text END)
  FROM pg_range r JOIN pg_type st ON st.oid = r.rngsubtype LEFT JOIN pg_opclass oc ON oc.oid = r.rngsubopc
  LEFT JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace WHERE r.rngtypid = t.oid) END,
array_to_json(t.typacl::text[])::text, t.typarray
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_type b ON b.oid = t.typbasetype
LEFT JOIN pg_collation co ON co.oid = t.typcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE {USER_NS} AND (t.typtype IN ('e', 'd', 'r')
  OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
"""

FUNCTIONS = f"""SELECT p.oid, n.nspname, p.proname, p.prokind, pg_get_function_identity_arguments(p.oid),
CASE WHEN p.prokind IN ('f', 'p', 'w') THEN pg_get_functiondef(p.oid) END, pg_get_function_result(p.oid),
pg_get_function_arguments(p.oid), array_to_json(p.proacl::text[])::text, l.lanname
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE {USER_NS}"""

TRIGGERS = """SELECT t.oid, t.tgrelid, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, t.tgconstraint
FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgrelid >= 16384"""

POLICIES = """SELECT p.oid, p.polrelid, p.polname, p.polcmd, p.polpermissive,
array_to_json(ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END FROM unnest(p.polroles) r ORDER BY 1))::text,
pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) FROM pg_policy p"""

RULES = """SELECT r.oid, r.ev_class, r.rulename, CASE WHEN r.rulename <> '_RETURN' THEN pg_get_ruledef(r.oid) END,
r.ev_enabled FROM pg_rewrite r WHERE r.ev_class >= 16384"""

STATISTICS = f"""SELECT s.oid, n.nspname, s.stxname, pg_get_statisticsobjdef(s.oid), s.stxstattarget, s.stxrelid
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE {USER_NS}"""

EVENT_TRIGGERS = """SELECT e.oid, e.evtname, e.evtevent, e.evtfoid::regprocedure::text, array_to_json(e.evttags)::text, e.evtenabled
FROM pg_event_trigger e"""

COLLATIONS = f"""SELECT c.oid, n.nspname, c.collname, c.collprovider, c.collcollate, c.collctype,
c.colliculocale, c.collisdeterministic FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
WHERE {USER_NS}"""

COMMENTS = """SELECT d.classoid, d.objoid, d.objsubid, d.description FROM pg_description d
WHERE d.objoid >= 16384 OR d.classoid = 2615"""

DEPENDS = """SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, d.refobjsubid, d.deptype
FROM pg_depend d WHERE d.objid >= 16384 AND d.refobjid >= 16384 AND d.deptype IN ('n', 'a', 'i', 'e')"""

DEFAULT_ACLS = """SELECT pg_get_userbyid(d.defaclrole), n.nspname, d.defaclobjtype, array_to_json(d.defaclacl::text[])::text
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace"""

_NOT_EXT = "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = x.oid AND e.deptype = 'e')"
_UNSUPPORTED_KINDS = [  # (kind, catalog, name expression, extra condition)
    ("foreign data wrapper", "pg_foreign_data_wrapper", "x.fdwname", "x.oid >= 16384"),
    ("foreign server", "pg_foreign_server", "x.srvname", "true"),
    ("user mapping", "pg_user_mapping", "x.umuser::regrole::text", "true"),
    ("publication", "pg_publication", "x.pubname", "true"),
    ("subscription", "pg_subscription", "x.subname", "true"),
    ("operator", "pg_operator", "x.oid::regoperator::text", "x.oid >= 16384"),
    ("operator class", "pg_opclass", "x.opcname", "x.oid >= 16384"),
    ("operator family", "pg_opfamily", "x.opfname", "x.oid >= 16384"),
    ("cast", "pg_cast", "format_type(x.castsource, NULL) || ' AS ' || format_type(x.casttarget, NULL)", "x.oid >= 16384"),
    ("conversion", "pg_conversion", "x.conname", "x.oid >= 16384"),
    ("text search configuration", "pg_ts_config", "x.cfgname", "x.oid >= 16384"),
    ("text search dictionary", "pg_ts_dict", "x.dictname", "x.oid >= 16384"),
    ("text search parser", "pg_ts_parser", "x.prsname", "x.oid >= 16384"),
    ("text search template", "pg_ts_template", "x.tmplname", "x.oid >= 16384"),
    ("language", "pg_language", "x.lanname", "x.oid >= 16384"),
    ("transform", "pg_transform", "format_type(x.trftype, NULL)", "true"),
    ("access method", "pg_am", "x.amname", "x.oid >= 16384"),
    ("aggregate", "pg_proc", "x.oid::regprocedure::text", "x.oid >= 16384 AND x.prokind = 'a'"),
    ("base type", "pg_type", "format_type(x.oid, NULL)", "x.oid >= 16384 AND x.typtype = 'b' AND x.typcategory <> 'A'"),
    ("foreign table", "pg_class", "x.oid::regclass::text", "x.oid >= 16384 AND x.relkind = 'f'"),
]
UNSUPPORTED = "\nUNION ALL ".join(f"SELECT '{kind}', {name} FROM {catalog} x WHERE {cond} AND {_NOT_EXT}"
                                  for kind, catalog, name, cond in _UNSUPPORTED_KINDS)

ALL = {
    "namespaces": NAMESPACES, "extensions": EXTENSIONS, "relations": RELATIONS, "columns": COLUMNS,
    "inherits": INHERITS, "constraints": CONSTRAINTS, "indexes": INDEXES, "sequences": SEQUENCES,
    "types": TYPES, "functions": FUNCTIONS, "triggers": TRIGGERS, "policies": POLICIES, "rules": RULES,
    "statistics": STATISTICS, "event_triggers": EVENT_TRIGGERS, "collations": COLLATIONS,
    "comments": COMMENTS, "depends": DEPENDS, "default_acls": DEFAULT_ACLS, "unsupported": UNSUPPORTED,
}

CATALOGS = {  # what a failing query was reading, for the message
    "namespaces": "pg_namespace (schemas)", "extensions": "pg_extension (extensions)",
    "relations": "pg_class (tables, views)", "columns": "pg_attribute/pg_attrdef (columns)",
    "inherits": "pg_inherits (inheritance)", "constraints": "pg_constraint (constraints)",
    "indexes": "pg_index (indexes)", "sequences": "pg_sequence (sequences)", "types": "pg_type (types)",
    "functions": "pg_proc (functions)", "triggers": "pg_trigger (triggers)", "policies": "pg_policy (policies)",
    "rules": "pg_rewrite (rules)", "statistics": "pg_statistic_ext (statistics)",
    "event_triggers": "pg_event_trigger (event triggers)", "collations": "pg_collation (collations)",
    "comments": "pg_description (comments)", "depends": "pg_depend (dependencies)",
    "default_acls": "pg_default_acl (default privileges)", "unsupported": "catalogs of unsupported object kinds",
}
