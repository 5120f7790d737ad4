"""diff_catalogs(current, desired) -> PgPlan: which objects to drop, create, re-create or
alter, closed over pg_depend (whatever uses something that is dropped or re-created, or a
column whose type changes, is dropped first and re-created after), then ordered: drops in
reverse dependency order of the current database, creates and alters in dependency order
of the desired one, and last what needs everything in place (comments, OWNED BY, CLUSTER)."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from deploy.db.errors import RenderError
from deploy.db.plan import Change, Plan
from deploy.db.postgres.alters import alter
from deploy.db.postgres.comments import comment_statements
from deploy.db.postgres.keep import (Work, detach_partition, foreign_key_cycles, inherit_before_leaving,
                                     keep_columns_children_declare, keep_owned_sequences, postpone_what_they_use,
                                     recreate_enums_used_at_once, through_base_type)
from deploy.db.postgres.model import Catalog, Key, PgObject, q, qn
from deploy.db.postgres.online import DEFAULT_LOCK_TIMEOUT, split_comments, take_online
from deploy.db.postgres.owners import owner_statements
from deploy.db.postgres.privileges import default_privilege_statements, privilege_statements
from deploy.db.postgres.reader import node
from deploy.db.postgres.stable import stable
from deploy.db.postgres.tables import Alter

RANK = {k: i for i, k in enumerate(["schema", "extension", "collation", "type", "function", "sequence", "table",
                                    "constraint", "index", "view", "matview", "statistics", "trigger", "rule",
                                    "policy", "event_trigger"])}
_DROPPED_WITH_PARENT = ("table", "view", "matview")
_DESTRUCTIVE_DROPS = ("table", "sequence")
_CONTRACT_DROPS = ("table", "view", "matview", "function", "sequence", "type")


@dataclass
class PgPlan(Plan):
    """A Plan whose statements are already worked out from the two catalogs."""

    statements: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    online: list[tuple[str, str]] = field(default_factory=list)  # after the transaction: see online.py
    lock_timeout: str | None = None  # SET lock_timeout for the whole script (None: the server's own)


def diff_catalogs(current: Catalog, desired: Catalog, with_privileges: bool = False,
                  concurrently: bool = False, with_owners: bool = False, lock_timeout: str | None = None) -> PgPlan:
    """With `concurrently`, index builds and drops on tables that stay are taken out of the
    transaction into `plan.online` (CREATE/DROP INDEX CONCURRENTLY), and no statement waits
    longer than `lock_timeout` (default 3s) for a lock: an online migration must not queue
    behind a long-running query and block all traffic behind itself. With `with_owners`,
    owners are compared and set (ALTER ... OWNER TO)."""
    w = Work(current, desired)
    for key, b in desired.objects.items():
        a = current.objects.get(key)
        if a is None:
            w.create[key] = b
        elif not a.same_as(b):
            change = alter(a, b)
            if change is None:
                w.drop[key], w.create[key] = a, b
            else:
                w.alters[key] = change
    w.drop.update({k: a for k, a in current.objects.items() if k not in desired.objects})
    recreate_enums_used_at_once(w)
    keep_columns_children_declare(w)
    inherit_before_leaving(w)
    _convert_columns(w)
    _cascade(w)
    postpone_what_they_use(w)
    keep_owned_sequences(w)
    w.keys_first = foreign_key_cycles(w)
    plan = PgPlan(current, desired, _changes(w), unsupported=sorted(set(current.unsupported) | set(desired.unsupported)))
    extra = comment_statements(w.cur, w.des, w.create, w.drop)
    extra += owner_statements(w.cur, w.des, w.create) if with_owners else []  # before GRANTs: a new owner's come with it
    if with_privileges:
        extra += privilege_statements(w.cur, w.des, w.create) + default_privilege_statements(w.cur, w.des)
    plan.changes += [Change(s.split(" ", 1)[0].lower(), s.split(" IS ", 1)[0]) for s in extra]
    if concurrently:
        online = take_online(w)
        extra, later = split_comments(extra, online)
        plan.online = online.tail + [(s, "") for s in later]
        plan.changes = [c for c in plan.changes if not (c.kind == "drop_index" and c.old.key in online.kept)]
    plan.statements = _statements(w) + extra
    plan.lock_timeout = lock_timeout or (DEFAULT_LOCK_TIMEOUT if concurrently else None)
    return plan


def _reverse(deps: dict[Key, set[Key]]) -> tuple[dict[Key, set[Key]], dict[Key, set[Key]]]:
    """(object -> what uses it or any of its columns, column -> what uses that column)."""
    by_node: dict[Key, set[Key]] = {}
    by_column: dict[Key, set[Key]] = {}
    for source, targets in deps.items():
        for t in targets:
            by_node.setdefault(node(t), set()).add(source)
            if t[0] == "column":
                by_column.setdefault(t, set()).add(source)
    return by_node, by_column


def _convert_columns(w: Work) -> None:
    """A type re-made under its own name (an enum that lost or reordered values): each column
    of it is converted through text, its default put back, its dependents re-created."""
    retyped = [(k, a) for k, a in w.alters.items() if a.retype]
    by_node = _reverse(w.cur.deps)[0] if retyped else {}
    for key, change in retyped:
        for source in sorted(by_node.get(key, ()), key=str):
            table = source[1] if source[0] == "column" else None
            if table is None or table in w.drop or table not in w.des.objects or table[0] != "table":
                continue
            column = w.des.objects[table].data["columns"].get(source[2])
            old = w.cur.objects[table].data["columns"].get(source[2])
            if column is None or old is None:
                continue
            alter = f"ALTER TABLE {qn(*table[1:])} ALTER COLUMN {q(source[2])}"
            via = "text[]" if column["type"].endswith("[]") else "text"
            change.now[1:1] = ([f"{alter} DROP DEFAULT"] if old["default"] is not None else []) + [
                f"{alter} TYPE {column['type']} USING {q(source[2])}::{via}::{column['type']}"] + (
                [f"{alter} SET DEFAULT {column['default']}"] if column["default"] is not None else [])
            w.alters.setdefault(table, Alter()).breaking.add(source[2])


def _cascade(w: Work) -> None:
    pending: list[Key] = list(w.drop)
    pending += [("column", k, c) for k, a in w.alters.items() for c in a.breaking]
    if not pending:
        return
    by_node, by_column = _reverse(w.cur.deps)
    seen: set[Key] = set()
    while pending:
        k = pending.pop()
        if k in seen:
            continue
        seen.add(k)
        for source in (by_column if k[0] == "column" else by_node).get(k, ()):
            dependent = node(source)
            if dependent in w.drop or dependent == node(k):
                continue
            if source[0] == "default":
                w.defaults.setdefault(dependent, set()).add(source[2])
                continue
            obj = w.cur.objects.get(dependent)
            if obj is None:
                continue
            if obj.kind in ("table", "type") and dependent not in w.drop:
                change = w.alters.get(dependent)
                if source[0] == "column" and change is not None and source[2] in change.breaking and node(k) not in w.create:
                    w.after_alters.add(node(k))  # the column changes type (or goes) first
                    continue
                if through_base_type(w, node(k), source):
                    pending.append(source)
                    continue
                if detach_partition(w, node(k), dependent):
                    continue
                raise RenderError(f"postgres: {w.cur.objects[node(k)].label if node(k) in w.cur.objects else k} must be "
                                  f"re-created, but {source[0]} {'.'.join(str(p) for p in source[1:] if isinstance(p, str))} "
                                  f"of {obj.label} uses it; change it in steps")
            w.drop[dependent] = obj
            w.alters.pop(dependent, None)
            if dependent in w.des.objects:
                w.create[dependent] = w.des.objects[dependent]
            pending.append(dependent)


def _implicit(w: Work, obj: PgObject) -> bool:
    """Dropped by the server with its parent (a table's indexes, a serial's sequence)."""
    if obj.parent is None:
        return False
    parent = w.drop.get(obj.parent)
    if parent is not None and parent.kind in _DROPPED_WITH_PARENT:
        return True
    owned = obj.data.get("owned_by") if obj.kind == "sequence" else None
    change = w.alters.get(obj.parent)
    return bool(owned and change and owned[1] in change.breaking and owned[1] not in w.des.objects.get(obj.parent, obj).data.get("columns", {}))


def _order(keys: list[Key], deps: dict[Key, set[Key]], objects: dict[Key, PgObject],
           after: dict[Key, set[Key]] | None = None) -> list[Key]:
    """Topological order (Kahn), ties broken by kind then name; a cycle yields its first.
    `after`: more of what each key waits for, beyond the catalog's dependencies."""
    wanted = set(keys)
    needs: dict[Key, set[Key]] = {k: set() for k in keys}
    for source, targets in itertools.chain(deps.items(), (after or {}).items()):
        n = node(source)
        if n in wanted:
            needs[n] |= {node(t) for t in targets if node(t) in wanted and node(t) != n}
    users: dict[Key, set[Key]] = {}
    for k, ts in needs.items():
        for t in ts:
            users.setdefault(t, set()).add(k)
    prio = {k: (RANK.get(k[0], 99), [str(p) for p in k[1:]]) for k in keys}
    heap = [(prio[k], k) for k in keys if not needs[k]]
    heapq.heapify(heap)
    out: list[Key] = []
    done: set[Key] = set()
    while len(out) < len(keys):
        if not heap:
            k = min((k for k in keys if k not in done), key=lambda x: prio[x])
            needs[k] = set()
            heap.append((prio[k], k))
        _, k = heapq.heappop(heap)
        if k in done:
            continue
        done.add(k)
        out.append(k)
        for u in users.get(k, ()):
            needs[u].discard(k)
            if not needs[u] and u not in done:
                heapq.heappush(heap, (prio[u], u))
    return out


def _statements(w: Work) -> list[str]:
    out: list[str] = [s for a in w.alters.values() for s in a.early]
    out += [_drop_default(w, t, c) for t, cols in w.defaults.items() for c in sorted(cols) if t not in w.drop]
    out += [s for k in w.keys_first for s in w.drop[k].drop]
    drops = [k for k in reversed(_order(list(w.drop), _with_parents(w), w.cur.objects)) if not _implicit(w, w.drop[k])]
    out += [s for k in drops if k not in w.after_alters for s in (*w.before_drop.get(k, ()), *w.drop[k].drop)]
    for k in _order([*w.create, *w.alters], w.des.deps, w.des.objects, w.after):
        made = w.create[k].create if k in w.create else w.alters[k].now
        out += made if k[0] == "function" else [stable(s) for s in made]  # a body is the user's text
    out += [s for k in drops if k in w.after_alters for s in w.drop[k].drop]
    out += [_set_default(w, t, c) for t, cols in w.defaults.items() for c in sorted(cols) if t in w.des.objects]
    out += [s for k, o in w.create.items() for s in o.late]
    out += [s for a in w.alters.values() for s in a.late]
    return [s for s in out if s]


def _with_parents(w: Work) -> dict[Key, set[Key]]:
    """Drop order: a table dropped with its constraints goes before what they reference."""
    deps: dict[Key, set[Key]] = {}
    for source, targets in w.cur.deps.items():
        owner = node(source)
        if owner in w.drop:  # only what is dropped is ordered here
            deps.setdefault(source, set()).update(targets)
        obj = w.cur.objects.get(owner)
        if obj is not None and obj.parent in w.drop and _implicit(w, obj) and owner not in w.keys_first:
            deps.setdefault(obj.parent, set()).update(t for t in targets if node(t) != obj.parent)
    return deps


def _drop_default(w: Work, table: Key, column: str) -> str:
    return f"ALTER TABLE ONLY {qn(*table[1:])} ALTER COLUMN {q(column)} DROP DEFAULT"


def _set_default(w: Work, table: Key, column: str) -> str:
    col = w.des.objects[table].data.get("columns", {}).get(column)
    if not col or col.get("default") is None or table in w.create:
        return ""
    return f"ALTER TABLE ONLY {qn(*table[1:])} ALTER COLUMN {q(column)} SET DEFAULT {col['default']}"


def _changes(w: Work) -> list[Change]:
    out = []
    for k, o in w.drop.items():
        if k in w.create:
            out.append(Change(f"replace_{o.kind}", o.name, old=o, new=w.create[k], table=_table(o)))
            continue
        destructive = o.kind == "table" or (o.kind in _DESTRUCTIVE_DROPS and not _implicit(w, o))
        out.append(Change(f"drop_{o.kind}", o.name, old=o, table=_table(o), destructive=destructive,
                          contract=o.kind in _CONTRACT_DROPS))
    out += [Change(f"create_{o.kind}", o.name, new=o, table=_table(o)) for k, o in w.create.items() if k not in w.drop]
    for k, a in w.alters.items():
        obj = w.des.objects[k]
        out += [Change(kind, target, table=obj.name, destructive=target in a.destructive,
                       contract=kind == "drop_column" or target in a.contract or target in a.destructive)
                for kind, target in a.changes] or [Change(f"alter_{obj.kind}", obj.name, new=obj, table=_table(obj))]
    return out


def _table(o: PgObject) -> str | None:
    return ".".join(o.parent[1:]) if o.parent else None
