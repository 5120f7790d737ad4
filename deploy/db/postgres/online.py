"""Online index builds (`--concurrently`): the indexes a diff creates or drops on tables that
stay in place are built and dropped with CONCURRENTLY after the transaction, so writers are
not locked out for the length of a build (pg-schema-diff's online index changes). CONCURRENTLY
cannot run in a transaction block, so these statements form a tail of their own, each
committing alone; a failed build leaves an INVALID index, which the executor names and the
next compare rebuilds (an invalid index never equals a valid one).

An index on a partitioned table (where the server refuses CONCURRENTLY) is made the way
PostgreSQL's docs give: CREATE INDEX ... ON ONLY the parent (invalid, and instant: a
partitioned table holds no rows), CREATE INDEX CONCURRENTLY on each partition under the name
the desired database gives its copy (an index alike already there under that name is kept),
then ALTER INDEX ... ATTACH PARTITION each copy, deepest first: the parent index becomes valid
with its last partition's.

What stays in the transaction, because building it online gains nothing or cannot work:
indexes on tables (or materialized views) the script creates or re-creates, an index on a
partitioned table one of whose partitions the script creates or drops, that lacks a copy on
some partition (a foreign table) or whose copy's name another relation holds, index drops
on partitioned tables (DROP INDEX CONCURRENTLY is refused there), indexes re-made only because a
column they use changes type or goes (the ALTER rewrites the table under its lock anyway) and
a changed index whose old one must go inside the transaction, an index something else in the script needs (a foreign key on its columns, CLUSTER ON,
REPLICA IDENTITY USING INDEX), and a drop whose index something still uses or whose name
the script gives to another relation."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from deploy.db.postgres.keep import Work
from deploy.db.postgres.model import Key, PgObject, literal, q, qn, truthy
from deploy.db.postgres.reader import node
from deploy.db.postgres.stable import stable

DEFAULT_LOCK_TIMEOUT = "3s"  # pg-schema-diff's lock timeout for its online statements
_CREATE = re.compile(r"^CREATE (UNIQUE )?INDEX ")
_RELATIONS = ("table", "view", "matview", "sequence", "index", "type")  # kinds that take a pg_class name


@dataclass
class Online:
    """The index work taken out of the transaction, as (statement, query naming what a
    failure of it left INVALID) pairs in the order they run."""

    creates: dict[Key, PgObject] = field(default_factory=dict)
    drops: dict[Key, PgObject] = field(default_factory=dict)
    tail: list[tuple[str, str]] = field(default_factory=list)
    kept: set[Key] = field(default_factory=set)  # live indexes a partitioned build attaches or finishes: not dropped


def take_online(w: Work) -> Online:
    """Moves the index creates and drops that can run concurrently out of `w`."""
    out = Online()
    creates = {k for k, o in w.create.items() if o.kind == "index"}
    drops = {k for k, o in w.drop.items() if o.kind == "index"}
    if creates:
        used = _used(w.des.deps)
        creates = {k for k in creates if _create_online(w, k, w.create[k], used)}
    if drops:
        used = _used(w.cur.deps)
        drops = {k for k in drops if _drop_online(w, k, w.drop[k], used)}
    builds = _partitioned_builds(w, creates)
    creates -= {k for k, b in builds.items() if b is None}
    out.kept = {a for b in builds.values() if b for a in b.kept}
    for kept in out.kept:  # built on, not dropped
        drops.discard(kept)
        w.drop.pop(kept, None)
    # a changed index is made in one place: where its old one goes (never a moment without it)
    creates -= {k for k in creates if k in w.drop and k not in drops}
    drops -= {k for k in drops if k in w.create and k not in creates}
    for k in sorted(creates, key=str):
        out.creates[k] = w.create.pop(k)
    for k in sorted(drops, key=str):
        out.drops[k] = w.drop.pop(k)
    taken: set[tuple[str, str]] = set()
    for k, new in out.creates.items():
        if builds.get(k):
            out.tail += builds[k].tail
            continue
        old = out.drops.pop(k, None)
        if old is not None and _valid(old):  # build the new one beside the old, then swap: never without it
            taken = taken or _names_in_use(w)
            spare = _spare_name(k, taken)
            out.tail.append((f"ALTER INDEX {qn(*k[1:])} RENAME TO {q(spare)}", ""))
            out.tail.append((_concurrently(new.create[0]), _invalid_query(k[1], k[2])))
            out.tail.append((f"DROP INDEX CONCURRENTLY {qn(k[1], spare)}", _invalid_query(k[1], spare)))
            continue
        if old is not None:  # an INVALID index serves no query: drop it first
            out.tail.append((f"DROP INDEX CONCURRENTLY {qn(*k[1:])}", _invalid_query(k[1], k[2])))
        out.tail.append((_concurrently(new.create[0]), _invalid_query(k[1], k[2])))
    out.tail += [(f"DROP INDEX CONCURRENTLY {qn(*k[1:])}", _invalid_query(k[1], k[2])) for k in out.drops]
    return out


def split_comments(statements: list[str], online: Online) -> tuple[list[str], list[str]]:
    """(comments for the transaction, comments on indexes built online: after their build)."""
    prefixes = tuple(f"COMMENT ON INDEX {qn(*k[1:])} IS " for k in online.creates)
    if not prefixes:
        return statements, []
    later = [s for s in statements if s.startswith(prefixes)]
    return [s for s in statements if not s.startswith(prefixes)], later


def _used(deps: dict[Key, set[Key]]) -> set[Key]:
    """The indexes some other object depends on (a foreign key on a unique index)."""
    return {node(t) for s, ts in deps.items() for t in ts if t[0] == "index" and node(s) != node(t)}


def _create_online(w: Work, key: Key, obj: PgObject, used: set[Key]) -> bool:
    table = obj.parent
    target = w.des.objects.get(table) if table else None
    if target is None or table in w.create or target.kind not in ("table", "matview"):
        return False
    if target.kind == "table" and key[2] in (target.data.get("cluster"), target.data.get("replident_index")):
        return False
    return _own_change(w, key) and key not in used


def _drop_online(w: Work, key: Key, obj: PgObject, used: set[Key]) -> bool:
    table = obj.parent
    if table is None or table in w.drop or table not in w.cur.objects or key in w.after_alters:
        return False
    if w.cur.objects[table].kind == "table" and w.cur.objects[table].data.get("relkind") == "p":
        return False
    if not _own_change(w, key):
        return False
    breaking = w.alters[table].breaking if table in w.alters else set()
    for t in w.cur.deps.get(key, ()):
        if t[0] == "column" and node(t) == table and t[2] in breaking:
            return False  # the column's ALTER or DROP takes the index with it
    # DROP INDEX CONCURRENTLY cannot cascade to what uses it; a name the transaction reuses must be free
    return key not in used and (key[1], key[2]) not in _created_names(w, exclude=key)


def _own_change(w: Work, key: Key) -> bool:
    """The index itself appears, goes or changes (not only re-made for a column under it)."""
    a, b = w.cur.objects.get(key), w.des.objects.get(key)
    return a is None or b is None or not a.same_as(b)


def _created_names(w: Work, exclude: Key) -> set[tuple[str, str]]:
    """(schema, name) of every relation the transaction creates (a constraint: its index)."""
    out = {(k[1], k[2]) for k in w.create if k[0] in _RELATIONS and k != exclude}
    return out | {(k[1], k[3]) for k, o in w.create.items() if k[0] == "constraint" and o.data.get("type") in ("p", "u", "x")}


def _names_in_use(w: Work) -> set[tuple[str, str]]:
    out = {(k[1], k[2]) for k in (*w.cur.objects, *w.des.objects) if k[0] in _RELATIONS}
    return out | {(k[1], k[3]) for k in (*w.cur.objects, *w.des.objects) if k[0] == "constraint"}


def _spare_name(key: Key, taken: set[tuple[str, str]]) -> str:
    """A name for the old index while its successor is built: short (63 bytes) and free."""
    stem = "shipyard_old_" + hashlib.sha256(key[2].encode()).hexdigest()[:16]
    name, n = stem, 0
    while (key[1], name) in taken:
        n += 1
        name = f"{stem}_{n}"
    taken.add((key[1], name))
    return name


def _valid(obj: PgObject) -> bool:
    return not obj.data.get("invalid")


def _concurrently(create: str) -> str:
    return _CREATE.sub(lambda m: f"CREATE {m.group(1) or ''}INDEX CONCURRENTLY ", stable(create), count=1)


def _invalid_query(schema: str, name: str, *more: tuple[str, str]) -> str:
    """Rows naming the indexes (schema, name pairs) a failed statement left INVALID."""
    pairs = ", ".join(f"({literal(s)}, {literal(n)})" for s, n in ((schema, name), *more))
    return ("SELECT n.nspname || '.' || c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid AND (n.nspname, c.relname) IN ({pairs}) "
            "ORDER BY 1")


@dataclass
class _Build:
    """The tail that builds one index on a partitioned table, and the live indexes it builds on."""

    tail: list[tuple[str, str]]
    kept: set[Key]


def _partitioned_builds(w: Work, creates: set[Key]) -> dict[Key, _Build | None]:
    """For each index on a partitioned table to be built online: its build, or None (keep it in the transaction)."""
    keys = [k for k in creates if w.des.objects[w.create[k].parent].data.get("relkind") == "p"]
    if not keys:
        return {}
    attached = {tuple(n[:4]): n[5] for o in w.cur.objects.values() if o.kind == "index"
                for n in (o.data.get("partitions") or ())}  # (parent's schema and name, schema, name) -> definition
    taken = _names_in_use(w) | {(n[2], n[3]) for n in attached}
    used = _used(w.cur.deps)
    return {k: _partitioned_build(w, k, w.create[k], taken, used, attached) for k in sorted(keys, key=str)}


def _partitioned_build(w: Work, key: Key, obj: PgObject, taken: set[tuple[str, str]], used: set[Key],
                       attached: dict[tuple, str]) -> _Build | None:
    """ON ONLY the parent, each partition's copy, the attaches deepest first. What a failed
    build of the same index left (the parent, copies built or attached) is built on: so the
    next sync finishes it online instead of dropping what is there."""
    only, nodes = obj.data.get("only"), obj.data.get("partitions") or []
    live_top = w.cur.objects.get(key)
    if not obj.data.get("complete") or only is None or (live_top is not None and live_top.compare != ["INVALID", only]):
        return None
    check = _invalid_query(key[1], key[2], *[(n[2], n[3]) for n in nodes])
    steps, attaches = ([] if live_top else [(stable(only), check)]), []
    kept, settled = ({key} if live_top else set()), set()
    for parent_ns, parent, ns, name, table, definition, partitioned in nodes:
        table_key = ("table", ns, table)
        if (parent_ns, parent) in settled or attached.get((parent_ns, parent, ns, name)) == definition:
            settled.add((ns, name))  # in place already, with what hangs under it
            continue
        if table_key not in w.cur.objects or table_key in w.create or table_key in w.drop:
            return None  # a partition the transaction makes or removes
        live = w.cur.objects.get(("index", ns, name))
        if live is not None and live.parent == table_key and live.key in w.drop and live.key not in used \
                and live.compare in (definition, ["INVALID", definition]):
            kept.add(live.key)
            if live.compare == definition and truthy(partitioned):
                settled.add((ns, name))
            elif live.compare != definition and not truthy(partitioned):  # a failed build: made anew
                steps += [(f"DROP INDEX CONCURRENTLY {qn(ns, name)}", check), (_concurrently(definition), check)]
        elif (ns, name) in taken:
            return None
        else:
            steps.append((stable(definition) if truthy(partitioned) else _concurrently(definition), check))
        attaches.append((f"ALTER INDEX {qn(parent_ns, parent)} ATTACH PARTITION {qn(ns, name)}", check))
    return _Build([*steps, *reversed(attaches)], kept)
