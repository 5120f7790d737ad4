"""diff_catalogs(current, desired) -> PgPlan: which objects to drop, create, re-create or
alter, closed over pg_depend (whatever uses something that is dropped or re-created, or a
column whose type changes, is dropped first and re-created after), then ordered: drops in
reverse dependency order of the current database, creates and alters in dependency order
of the desired one, and last what needs everything in place (comments, OWNED BY, CLUSTER)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from deploy.db.changes import widening
from deploy.db.errors import RenderError
from deploy.db.plan import Change, Plan
from deploy.db.postgres.alters import alter, recreate_enum
from deploy.db.postgres.comments import comment_statements
from deploy.db.postgres.model import Catalog, Key, PgObject, literal, q, qn
from deploy.db.postgres.privileges import privilege_statements
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


@dataclass
class _Work:
    cur: Catalog
    des: Catalog
    drop: dict[Key, PgObject] = field(default_factory=dict)
    create: dict[Key, PgObject] = field(default_factory=dict)
    alters: dict[Key, Alter] = field(default_factory=dict)
    defaults: dict[Key, set[str]] = field(default_factory=dict)  # table -> columns whose default is re-set
    after_alters: set[Key] = field(default_factory=set)  # drops that must wait for the columns that use them to change
    before_drop: dict[Key, list[str]] = field(default_factory=dict)  # run just before an object's drop
    keys_first: list[Key] = field(default_factory=list)  # foreign keys in a cycle of dropped tables


def diff_catalogs(current: Catalog, desired: Catalog, with_privileges: bool = False) -> PgPlan:
    w = _Work(current, desired)
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
    _recreate_enums_used_at_once(w)
    _keep_columns_children_declare(w)
    _convert_columns(w)
    _cascade(w)
    _postpone_what_they_use(w)
    _keep_owned_sequences(w)
    w.keys_first = _foreign_key_cycles(w)
    plan = PgPlan(current, desired, _changes(w), unsupported=sorted(set(current.unsupported) | set(desired.unsupported)))
    plan.statements = _statements(w)
    extra = comment_statements(w.cur, w.des, w.create, w.drop)
    extra += privilege_statements(w.cur, w.des, w.create) if with_privileges else []
    plan.statements += extra
    plan.changes += [Change(s.split(" ", 1)[0].lower(), s.split(" IS ", 1)[0]) for s in extra]
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


def _recreate_enums_used_at_once(w: _Work) -> None:
    """A value ALTER TYPE ... ADD VALUE adds cannot be used in the same transaction (55P04,
    "unsafe use of new value"): an enum whose new value the script itself writes (a default,
    a check, a view) is made anew under its own name instead, its columns converted."""
    added = {k: [v for v in w.des.objects[k].data["labels"] if v not in w.cur.objects[k].data["labels"]]
             for k, a in w.alters.items() if k[0] == "type" and not a.retype and any(" ADD VALUE " in s for s in a.now)}
    if not added:
        return
    script = [s for o in w.create.values() for s in o.create]
    script += [s for k, a in w.alters.items() if k not in added for s in (*a.now, *a.late)]
    for key, values in added.items():
        uses = [f"{literal(v)}::" for v in values]
        if any(u in s and key[2] in s for s in script for u in uses):
            w.alters[key] = recreate_enum(w.cur.objects[key], w.des.objects[key])


def _keep_columns_children_declare(w: _Work) -> None:
    """A column dropped from a parent goes from its inheriting children too, unless the child
    declares it itself: there ALTER TABLE ONLY drops it from the parent alone and leaves the
    child's column (and its values) in place, now its own."""
    for key, change in w.alters.items():
        dropped = [label.rsplit(".", 1)[1] for kind, label in change.changes if kind == "drop_column"]
        if key[0] != "table" or not dropped:
            continue
        children = [t.data for t in w.des.objects.values() if t.kind == "table" and t.data.get("bound") is None
                    and list(key[1:]) in [list(p) for p in t.data.get("parents", ())]]
        target = qn(*key[1:])
        for column in dropped:
            if any(c["columns"].get(column, {}).get("local") for c in children):
                statement = f"ALTER TABLE {target} DROP COLUMN {q(column)}"
                change.now = [f"ALTER TABLE ONLY {target} DROP COLUMN {q(column)}" if s == statement else s
                              for s in change.now]


def _convert_columns(w: _Work) -> None:
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


def _cascade(w: _Work) -> None:
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
                if _through_base_type(w, node(k), source):
                    pending.append(source)
                    continue
                if _detach_partition(w, node(k), dependent):
                    continue
                raise RenderError(f"postgres: {w.cur.objects[node(k)].label if node(k) in w.cur.objects else k} must be "
                                  f"re-created, but {source[0]} {'.'.join(str(p) for p in source[1:] if isinstance(p, str))} "
                                  f"of {obj.label} uses it; change it in steps")
            w.drop[dependent] = obj
            w.alters.pop(dependent, None)
            if dependent in w.des.objects:
                w.create[dependent] = w.des.objects[dependent]
            pending.append(dependent)


def _detach_partition(w: _Work, parent: Key, child: Key) -> bool:
    """A partitioned table re-created (its key changed): its partitions, where the rows are,
    are detached before and attached to the new table after, instead of going with it."""
    old, new = w.cur.objects[child].data, w.des.objects.get(child)
    if old.get("bound") is None or old["parents"][:1] != [list(parent[1:])] or parent not in w.create:
        return False
    if new is None or new.data.get("bound") is None or new.data["parents"][:1] != [list(parent[1:])]:
        return False
    change = w.alters.setdefault(child, Alter())
    change.early.append(f"ALTER TABLE {qn(*parent[1:])} DETACH PARTITION {qn(*child[1:])}")
    change.late.append(f"ALTER TABLE {qn(*parent[1:])} ATTACH PARTITION {qn(*child[1:])} {new.data['bound']}")
    return True


def _through_base_type(w: _Work, domain: Key, column: Key) -> bool:
    """A domain that must be re-created (its base type changed) while a column uses it: the
    column is turned into the old base type just before the drop (the values stay) and into
    the new domain once it exists; its default is put back after, its dependents re-created."""
    old, table = w.cur.objects.get(domain), column[1]
    if old is None or old.data.get("typtype") != "d" or domain not in w.create or table not in w.des.objects:
        return False
    before = w.cur.objects[table].data["columns"].get(column[2])
    after = w.des.objects[table].data["columns"].get(column[2])
    if before is None or after is None:
        return False
    target = f"ALTER TABLE {qn(*table[1:])} ALTER COLUMN {q(column[2])}"
    base = old.data["base"] + ("[]" if before["type"].endswith("[]") else "")
    w.before_drop.setdefault(domain, []).append(f"{target} TYPE {base}")
    change = w.alters.setdefault(table, Alter())
    change.now.append(f"{target} TYPE {after['type']} USING {q(column[2])}::{after['type']}")
    label = f"{'.'.join(table[1:])}.{column[2]}"
    change.changes.append(("alter_column", label))
    if not widening(old.data["base"], w.des.objects[domain].data.get("base", "")):
        change.destructive.add(label)  # the new base may not hold every value
    if before["default"] is not None:
        w.defaults.setdefault(table, set()).add(column[2])
    return True


def _postpone_what_they_use(w: _Work) -> None:
    """A drop that waits for the columns using it to change (a domain) keeps what it uses
    itself (a function its CHECK calls) until it is gone: those drops wait too."""
    if not w.after_alters:
        return
    uses: dict[Key, set[Key]] = {}
    for source, targets in w.cur.deps.items():
        uses.setdefault(node(source), set()).update(node(t) for t in targets)
    pending = list(w.after_alters)
    while pending:
        for used in uses.get(pending.pop(), ()):
            if used in w.drop and used not in w.create and used not in w.after_alters:
                w.after_alters.add(used)
                pending.append(used)


def _keep_owned_sequences(w: _Work) -> None:
    """A table re-created drops the sequences it owns (a serial's): one that stays is let go
    just before (OWNED BY NONE, its value kept) and owned again once the new table exists."""
    for key, seq in w.cur.objects.items():
        if seq.kind != "sequence" or seq.parent not in w.drop or seq.parent not in w.create or key in w.drop:
            continue
        wanted = w.des.objects.get(key)
        if wanted is None:
            continue
        w.before_drop.setdefault(seq.parent, []).append(f"ALTER SEQUENCE {qn(*key[1:])} OWNED BY NONE")
        w.alters.setdefault(key, Alter()).late.extend(wanted.late)


def _foreign_key_cycles(w: _Work) -> list[Key]:
    """Tables that reference each other (a cycle of foreign keys, partitions included) can
    only be dropped once one of those keys is gone: every key of such a cycle is dropped on
    its own first, and the tables are then ordered as if it did not exist."""
    refs: dict[Key, tuple[Key, set[Key]]] = {}
    for k, o in w.drop.items():
        if o.kind == "constraint" and o.parent in w.drop and o.data.get("type") == "f":
            refs[k] = (o.parent, {node(t) for t in w.cur.deps.get(k, ()) if node(t) in w.drop
                                  and node(t)[0] == "table" and node(t) != o.parent})
    edges: dict[Key, set[Key]] = {}
    for table, targets in refs.values():
        edges.setdefault(table, set()).update(targets)

    def reaches(start: Key, goal: Key) -> bool:
        seen, todo = set(), [start]
        while todo:
            t = todo.pop()
            if t == goal:
                return True
            if t not in seen:
                seen.add(t)
                todo += edges.get(t, ())
        return False

    return sorted(k for k, (table, targets) in refs.items() if any(reaches(t, table) for t in targets))


def _implicit(w: _Work, obj: PgObject) -> bool:
    """Dropped by the server with its parent (a table's indexes, a serial's sequence)."""
    if obj.parent is None:
        return False
    parent = w.drop.get(obj.parent)
    if parent is not None and parent.kind in _DROPPED_WITH_PARENT:
        return True
    owned = obj.data.get("owned_by") if obj.kind == "sequence" else None
    change = w.alters.get(obj.parent)
    return bool(owned and change and owned[1] in change.breaking and owned[1] not in w.des.objects.get(obj.parent, obj).data.get("columns", {}))


def _order(keys: list[Key], deps: dict[Key, set[Key]], objects: dict[Key, PgObject]) -> list[Key]:
    """Topological order (Kahn), ties broken by kind then name; a cycle yields its first."""
    wanted = set(keys)
    needs: dict[Key, set[Key]] = {k: set() for k in keys}
    for source, targets in deps.items():
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


def _statements(w: _Work) -> list[str]:
    out: list[str] = [s for a in w.alters.values() for s in a.early]
    out += [_drop_default(w, t, c) for t, cols in w.defaults.items() for c in sorted(cols) if t not in w.drop]
    out += [s for k in w.keys_first for s in w.drop[k].drop]
    drops = [k for k in reversed(_order(list(w.drop), _with_parents(w), w.cur.objects)) if not _implicit(w, w.drop[k])]
    out += [s for k in drops if k not in w.after_alters for s in (*w.before_drop.get(k, ()), *w.drop[k].drop)]
    for k in _order([*w.create, *w.alters], w.des.deps, w.des.objects):
        made = w.create[k].create if k in w.create else w.alters[k].now
        out += made if k[0] == "function" else [stable(s) for s in made]  # a body is the user's text
    out += [s for k in drops if k in w.after_alters for s in w.drop[k].drop]
    out += [_set_default(w, t, c) for t, cols in w.defaults.items() for c in sorted(cols) if t in w.des.objects]
    out += [s for k, o in w.create.items() for s in o.late]
    out += [s for a in w.alters.values() for s in a.late]
    return [s for s in out if s]


def _with_parents(w: _Work) -> dict[Key, set[Key]]:
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


def _drop_default(w: _Work, table: Key, column: str) -> str:
    return f"ALTER TABLE ONLY {qn(*table[1:])} ALTER COLUMN {q(column)} DROP DEFAULT"


def _set_default(w: _Work, table: Key, column: str) -> str:
    col = w.des.objects[table].data.get("columns", {}).get(column)
    if not col or col.get("default") is None or table in w.create:
        return ""
    return f"ALTER TABLE ONLY {qn(*table[1:])} ALTER COLUMN {q(column)} SET DEFAULT {col['default']}"


def _changes(w: _Work) -> list[Change]:
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
