"""The catalog queries: one set-based query per object kind (never one per object), each
returning the engine's own renderings (pg_get_*def, pg_get_expr, format_type). They run
with an empty search_path, so every name the server prints is schema-qualified.

Each query yields one JSON array per row and the server aggregates them into one text
(`aggregated`): the driver hands over a few large strings instead of ~50,000 rows, and
json.loads reads them in C. A relation's columns, parents, identity options and
clustering come nested in one JSON text of its own, which the reader keeps unparsed until
the relation is asked for (deploy/db/postgres/model.py, LazyObject)."""

from __future__ import annotations


def user_ns(alias: str) -> str:
    return f"{alias}.nspname NOT IN ('pg_catalog', 'information_schema') AND {alias}.nspname !~ '^pg_(toast|temp_)'"


USER_NS = user_ns("n")
JOURNAL = "shipyard_migrations"
_NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 1259 AND e.objid = {oid} AND e.deptype = 'e')"


def aggregated(query: str) -> str:
    """One row, one text: the JSON array of every row of `query` (whose one column is a JSON array)."""
    return f"SELECT coalesce(json_agg(q.j), '[]')::text FROM ({query}) q(j)"


NAMESPACES = f"""SELECT json_build_array(n.oid::int8, n.nspname, n.nspacl::text[]) FROM pg_namespace n WHERE {USER_NS}"""

EXTENSIONS = """SELECT json_build_array(e.oid::int8, e.extname, e.extversion, n.nspname) FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace"""

_IDENTITY = f"""(SELECT json_build_object('as', format_type(s.seqtypid, NULL), 'start', s.seqstart,
  'increment', s.seqincrement, 'max', s.seqmax, 'min', s.seqmin, 'cache', s.seqcache, 'cycle', s.seqcycle,
  'name', json_build_array(sn.nspname, sc.relname))
 FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid JOIN pg_class sc ON sc.oid = s.seqrelid
 JOIN pg_namespace sn ON sn.oid = sc.relnamespace
 WHERE d.classid = 1259 AND d.refclassid = 1259 AND d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
 AND d.deptype = 'i' AND {_NOT_EXTENSION.format(oid='sc.oid')} LIMIT 1)"""

# Per relation: [name, type, notnull, default, identity, generated, collation, local,
# stattarget, storage, acl, enum, identity options] of each column, in order; a plain column
# (none of the last nine set: most of them) only as [name, type, notnull, default], which
# halves the text the server builds and sends (~13 ms of a backend's time on 2,000 tables).
# A default is rendered without its table (relid 0): only a generated column's expression
# can name columns, and opening every table to name none costs ~20 us a table on a cold backend.
# Beside them, the column names and, when some column was dropped, their attnums: pg_depend
# gives columns by number and the reader names them (cheaper than three joins on pg_attribute).
_PLAIN_COLUMN = """a.attidentity = '' AND a.attgenerated = '' AND a.attcollation = t.typcollation AND a.attislocal
  AND a.attstattarget = -1 AND a.attstorage = t.typstorage AND a.attacl IS NULL AND t.typtype <> 'e'
  AND t.typcategory <> 'A'"""
_COLUMNS = f"""SELECT a.attrelid, json_agg(CASE WHEN {_PLAIN_COLUMN}
  THEN json_build_array(a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, 0))
  ELSE json_build_array(a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
  pg_get_expr(d.adbin, CASE WHEN a.attgenerated <> '' THEN d.adrelid ELSE 0 END), a.attidentity, a.attgenerated,
  CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
  a.attislocal, a.attstattarget, NULLIF(a.attstorage, t.typstorage), a.attacl::text[],
  t.typtype = 'e' OR (t.typcategory = 'A' AND EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typtype = 'e')),
  CASE WHEN a.attidentity <> '' THEN {_IDENTITY} END) END ORDER BY a.attnum) AS columns,
  json_agg(a.attname ORDER BY a.attnum) AS names,
  CASE WHEN max(a.attnum) <> count(*) THEN json_agg(a.attnum ORDER BY a.attnum) END AS attnums
 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 JOIN pg_type t ON t.oid = a.atttypid
 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
 WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'c') AND {USER_NS}
 GROUP BY a.attrelid"""

_PARENTS = f"""SELECT h.inhrelid, json_agg(json_build_array(pn.nspname, p.relname) ORDER BY h.inhseqno) AS parents
 FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
 WHERE p.relkind IN ('r', 'p', 'v', 'm', 'c') AND {user_ns('pn')} AND NOT (p.relname = '{JOURNAL}' AND p.relkind = 'r')
 AND {_NOT_EXTENSION.format(oid='p.oid')} GROUP BY h.inhrelid"""

_FLAGGED_INDEXES = f"""SELECT i.indrelid, min(ic.relname::text) FILTER (WHERE i.indisclustered) AS cluster,
 min(ic.relname::text) FILTER (WHERE i.indisreplident) AS replident_index
 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
 WHERE (i.indisclustered OR i.indisreplident) AND {_NOT_EXTENSION.format(oid='i.indexrelid')} GROUP BY i.indrelid"""

# [oid, schema, name, relkind, row type, its array type, everything else as one JSON text,
#  column names, their attnums when not 1..n]
RELATIONS = f"""WITH columns AS ({_COLUMNS}), parents AS ({_PARENTS}), flagged AS ({_FLAGGED_INDEXES})
SELECT json_build_array(c.oid::int8, n.nspname, c.relname, c.relkind, c.reltype::int8, rt.typarray::int8,
json_build_object('relkind', c.relkind, 'persistence', c.relpersistence, 'options', c.reloptions, 'rls', c.relrowsecurity,
  'force_rls', c.relforcerowsecurity, 'replident', c.relreplident,
  'bound', CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
  'partkey', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
  'viewdef', CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, 'acl', c.relacl::text[],
  'populated', CASE WHEN c.relkind = 'm' THEN c.relispopulated END,
  'of_type', CASE WHEN c.reloftype <> 0 THEN format_type(c.reloftype, NULL) END,
  'cluster', f.cluster, 'replident_index', f.replident_index,
  'parents', CASE WHEN c.relkind IN ('r', 'p') THEN p.parents END, 'columns', columns.columns)::text,
  columns.names, columns.attnums)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_type rt ON rt.oid = c.reltype
LEFT JOIN columns ON columns.attrelid = c.oid LEFT JOIN parents p ON p.inhrelid = c.oid
LEFT JOIN flagged f ON f.indrelid = c.oid
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'c') AND {USER_NS} AND NOT (c.relname = '{JOURNAL}' AND c.relkind = 'r')
ORDER BY c.oid"""

CONSTRAINTS = f"""SELECT json_build_array(k.oid::int8, k.conrelid::int8, k.contypid::int8, k.conname, k.contype,
pg_get_constraintdef(k.oid), k.conislocal, k.coninhcount, k.conparentid::int8, k.conindid::int8, k.convalidated)
FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE {USER_NS} ORDER BY k.oid"""

# Indexes that are objects of their own: a constraint's index is the constraint's, and a
# partition's copy of its parent's index is the parent's. An index on a partitioned table
# comes with its tree of copies, each [parent index's schema, its name, schema, name, table,
# definition, partitioned], parents first, and whether every partition has its copy (a
# foreign table has none): what an online build makes one by one (online.py).
_INDEX_TREE = """(SELECT json_agg(json_build_array(pn.nspname, p.relname, cn.nspname, ci.relname, tc.relname,
 pg_get_indexdef(t.relid), ci.relkind = 'I') ORDER BY t.level, ci.relname)
 FROM pg_partition_tree(i.indexrelid) t JOIN pg_class ci ON ci.oid = t.relid JOIN pg_namespace cn ON cn.oid = ci.relnamespace
 JOIN pg_index x ON x.indexrelid = t.relid JOIN pg_class tc ON tc.oid = x.indrelid
 JOIN pg_class p ON p.oid = t.parentrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE t.level > 0),
 (SELECT count(*) FROM pg_partition_tree(i.indrelid)) = (SELECT count(*) FROM pg_partition_tree(i.indexrelid))"""
INDEXES = f"""SELECT json_build_array(i.indexrelid::int8, i.indrelid::int8, c.relname, pg_get_indexdef(i.indexrelid),
 i.indisvalid, CASE WHEN c.relkind = 'I' THEN json_build_array({_INDEX_TREE}) END)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_NS} AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
ORDER BY i.indexrelid"""

SEQUENCES = f"""SELECT json_build_array(c.oid::int8, n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart,
s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle, c.relacl::text[], o.refobjid::int8,
(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = o.refobjid AND a.attnum = o.refobjsubid),
EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 1259 AND d.objid = c.oid AND d.deptype = 'i'))
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (SELECT d.refobjid, d.refobjsubid FROM pg_depend d WHERE d.classid = 1259 AND d.objid = c.oid
  AND d.deptype IN ('a', 'i') AND d.refclassid = 1259 AND d.refobjsubid > 0 LIMIT 1) o ON true
WHERE {USER_NS} ORDER BY c.oid"""

TYPES = f"""SELECT json_build_array(t.oid::int8, n.nspname, t.typname, t.typtype, t.typrelid::int8,
CASE t.typtype WHEN 'e' THEN (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
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
t.typacl::text[], t.typarray::int8)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_type b ON b.oid = t.typbasetype
LEFT JOIN pg_collation co ON co.oid = t.typcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE {USER_NS} AND (t.typtype IN ('e', 'd', 'r')
  OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
ORDER BY t.oid"""

FUNCTIONS = f"""SELECT json_build_array(p.oid::int8, n.nspname, p.proname, p.prokind, pg_get_function_identity_arguments(p.oid),
CASE WHEN p.prokind IN ('f', 'p', 'w') THEN pg_get_functiondef(p.oid) END, pg_get_function_result(p.oid),
pg_get_function_arguments(p.oid), p.proacl::text[], l.lanname)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE {USER_NS} ORDER BY p.oid"""

TRIGGERS = """SELECT json_build_array(t.oid::int8, t.tgrelid::int8, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled)
FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgrelid >= 16384 ORDER BY t.oid"""

POLICIES = """SELECT json_build_array(p.oid::int8, p.polrelid::int8, p.polname, p.polcmd, p.polpermissive,
ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END FROM unnest(p.polroles) r ORDER BY 1),
pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)) FROM pg_policy p ORDER BY p.oid"""

RULES = """SELECT json_build_array(r.oid::int8, r.ev_class::int8, r.rulename,
CASE WHEN r.rulename <> '_RETURN' THEN pg_get_ruledef(r.oid) END, r.ev_enabled)
FROM pg_rewrite r WHERE r.ev_class >= 16384 ORDER BY r.oid"""

STATISTICS = f"""SELECT json_build_array(s.oid::int8, n.nspname, s.stxname, pg_get_statisticsobjdef(s.oid), s.stxstattarget,
s.stxrelid::int8) FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE {USER_NS} ORDER BY s.oid"""

EVENT_TRIGGERS = """SELECT json_build_array(e.oid::int8, e.evtname, e.evtevent, e.evtfoid::regprocedure::text, e.evttags,
e.evtenabled) FROM pg_event_trigger e ORDER BY e.oid"""

COLLATIONS = f"""SELECT json_build_array(c.oid::int8, n.nspname, c.collname, c.collprovider, c.collcollate, c.collctype,
c.colliculocale, c.collisdeterministic) FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
WHERE {USER_NS} ORDER BY c.oid"""

# [classid, oid, column name (of a relation) or NULL, the schema and name when it is an index, text]
COMMENTS = """SELECT json_build_array(d.classoid::int8, d.objoid::int8,
CASE WHEN d.classoid = 1259 AND d.objsubid > 0 THEN a.attname END,
CASE WHEN c.relkind IN ('i', 'I') THEN n.nspname END, CASE WHEN c.relkind IN ('i', 'I') THEN c.relname END,
d.objsubid, d.description)
FROM pg_description d
LEFT JOIN pg_class c ON d.classoid = 1259 AND c.oid = d.objoid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON d.classoid = 1259 AND d.objsubid > 0 AND a.attrelid = d.objoid AND a.attnum = d.objsubid
WHERE d.objoid >= 16384 OR d.classoid = 2615"""

# [classid, oid, column number, refclassid, refoid, refcolumn number, deptype]: columns by
# number (objsubid on pg_class, which the reader names from the relations' column names);
# a column default (pg_attrdef) as class 2604 with its table's oid and column number. Left
# out, as the reader would drop them: internal dependencies (a row type on its table, an
# index on its constraint, a view's rule on its view, toast tables, foreign-key triggers),
# and a default's own dependency on its column; ends that are no object the reader knows (a
# toast table) it drops itself. One filtered scan of pg_depend, no join: the ~12,000 rows of
# a 2,000-table schema cost ~25 ms of server time instead of ~80 ms with the names joined.
DEPENDS = """SELECT CASE WHEN d.classid = 2604 THEN (SELECT json_build_array(2604, ad.adrelid::int8, ad.adnum,
  d.refclassid::int8, d.refobjid::int8, d.refobjsubid, d.deptype) FROM pg_attrdef ad WHERE ad.oid = d.objid)
ELSE json_build_array(d.classid::int8, d.objid::int8, d.objsubid, d.refclassid::int8, d.refobjid::int8, d.refobjsubid,
  d.deptype) END
FROM pg_depend d
WHERE d.objid >= 16384 AND d.refobjid >= 16384 AND d.deptype IN ('n', 'a') AND NOT (d.classid = 2604 AND d.deptype = 'a')"""

EXTENSION_MEMBERS = """SELECT json_build_array(d.classid::int8, d.objid::int8) FROM pg_depend d
WHERE d.deptype = 'e' AND d.objid >= 16384 AND d.refobjid >= 16384"""

# [role, schema (NULL: the role's own defaults), object type, aclitems, and for the role's own
# defaults what the server grants without any row (acldefault, whose code for sequences is 's'):
# what removing the row goes back to]
DEFAULT_ACLS = """SELECT json_build_array(pg_get_userbyid(d.defaclrole), n.nspname, d.defaclobjtype,
array_to_json(d.defaclacl::text[])::text, CASE WHEN d.defaclnamespace = 0 THEN array_to_json(acldefault(
CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END, d.defaclrole)::text[])::text END)
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace"""

# [catalog, owner, the oids it owns there] for every object an ALTER ... OWNER TO can name,
# grouped by owner (most share one: a few arrays, not one per object); a catalog of 0 gives
# the login reading them, who will own what a script creates. Extension members are left
# out by the reader, which knows no key for them
OWNERS = f"""SELECT json_build_array(0, current_user, '[]'::json)
UNION ALL SELECT json_build_array(1259, pg_get_userbyid(c.relowner), json_agg(c.oid::int8)) FROM pg_class c
 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'c')
 GROUP BY c.relowner
UNION ALL SELECT json_build_array(1255, pg_get_userbyid(p.proowner), json_agg(p.oid::int8)) FROM pg_proc p
 JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER_NS} AND p.prokind IN ('f', 'p', 'w') GROUP BY p.proowner
UNION ALL SELECT json_build_array(1247, pg_get_userbyid(t.typowner), json_agg(t.oid::int8)) FROM pg_type t
 JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER_NS} AND t.typtype IN ('d', 'e', 'r') GROUP BY t.typowner
UNION ALL SELECT json_build_array(2615, pg_get_userbyid(n.nspowner), json_agg(n.oid::int8)) FROM pg_namespace n
 WHERE {USER_NS} GROUP BY n.nspowner
UNION ALL SELECT json_build_array(3456, pg_get_userbyid(c.collowner), json_agg(c.oid::int8)) FROM pg_collation c
 JOIN pg_namespace n ON n.oid = c.collnamespace WHERE {USER_NS} GROUP BY c.collowner
UNION ALL SELECT json_build_array(3466, pg_get_userbyid(e.evtowner), json_agg(e.oid::int8)) FROM pg_event_trigger e
 GROUP BY e.evtowner"""

_NOT_EXT = "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass AND e.objid = x.oid AND e.deptype = 'e')"
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
UNSUPPORTED = "\nUNION ALL ".join(f"SELECT json_build_array('{kind}', {name}) FROM {catalog} x WHERE {cond} AND "
                                  + _NOT_EXT.format(catalog=catalog)
                                  for kind, catalog, name, cond in _UNSUPPORTED_KINDS)

ALL = {
    "namespaces": NAMESPACES, "extensions": EXTENSIONS, "relations": RELATIONS, "constraints": CONSTRAINTS,
    "indexes": INDEXES, "sequences": SEQUENCES, "types": TYPES, "functions": FUNCTIONS, "triggers": TRIGGERS,
    "policies": POLICIES, "rules": RULES, "statistics": STATISTICS, "event_triggers": EVENT_TRIGGERS,
    "collations": COLLATIONS, "comments": COMMENTS, "depends": DEPENDS, "extension_members": EXTENSION_MEMBERS,
    "default_acls": DEFAULT_ACLS, "unsupported": UNSUPPORTED, "owners": OWNERS,
}

CATALOGS = {  # what a failing query was reading, for the message
    "namespaces": "pg_namespace (schemas)", "extensions": "pg_extension (extensions)",
    "relations": "pg_class/pg_attribute (tables, views, columns)", "constraints": "pg_constraint (constraints)",
    "indexes": "pg_index (indexes)", "sequences": "pg_sequence (sequences)", "types": "pg_type (types)",
    "functions": "pg_proc (functions)", "triggers": "pg_trigger (triggers)", "policies": "pg_policy (policies)",
    "rules": "pg_rewrite (rules)", "statistics": "pg_statistic_ext (statistics)",
    "event_triggers": "pg_event_trigger (event triggers)", "collations": "pg_collation (collations)",
    "comments": "pg_description (comments)", "depends": "pg_depend (dependencies)",
    "extension_members": "pg_depend (extension members)",
    "default_acls": "pg_default_acl (default privileges)", "unsupported": "catalogs of unsupported object kinds",
    "owners": "pg_class/pg_proc/pg_type/pg_namespace/pg_collation/pg_event_trigger (owners)",
}
