"""What keeps the user's objects and rows in place where a plain drop and create would not
work in one transaction or would lose them: passes over the diff's work (diff.py) that turn
a refusal or an ordering failure into the statements a DBA would write — a column taken
through a domain's base type, partitions detached and attached again, a serial let go and
owned again, a parent's column dropped ONLY, an enum made anew when its new value is used at
once, the drops a postponed drop needs kept, the keys of a cycle of dropped tables first."""

from __future__ import annotations

from dataclasses import dataclass, field

from deploy.db.widening import widening
from deploy.db.postgres.alters import recreate_enum
from deploy.db.postgres.model import Catalog, Key, PgObject, literal, q, qn
from deploy.db.postgres.reader import node
from deploy.db.postgres.tables import Alter


@dataclass
class Work:
    """The diff under way: what is dropped, created, altered, and the statements around them."""

    cur: Catalog
    des: Catalog
    drop: dict[Key, PgObject] = field(default_factory=dict)
    create: dict[Key, PgObject] = field(default_factory=dict)
    alters: dict[Key, Alter] = field(default_factory=dict)
    defaults: dict[Key, set[str]] = field(default_factory=dict)  # table -> columns whose default is re-set
    after_alters: set[Key] = field(default_factory=set)  # drops that must wait for the columns that use them to change
    before_drop: dict[Key, list[str]] = field(default_factory=dict)  # run just before an object's drop
    keys_first: list[Key] = field(default_factory=list)  # foreign keys in a cycle of dropped tables
    after: dict[Key, set[Key]] = field(default_factory=dict)  # creates/alters that must wait for others


def recreate_enums_used_at_once(w: Work) -> None:
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


def keep_columns_children_declare(w: Work) -> None:
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


def inherit_before_leaving(w: Work) -> None:
    """A child that moves from one parent to another keeps the columns both give it inherited
    (NO INHERIT alone would leave them the child's own, as `attislocal`): it inherits from the
    new parent first, in its place among the alters, then leaves the old one — before the old
    parent's own alters, so a column the old parent drops is no longer the child's to lose. A
    parent that is dropped is still left first (DROP TABLE needs it without children). A
    column only the parents it leaves gave it, and that it is not to have, is dropped after."""
    for key, change in w.alters.items():
        if key[0] != "table" or key not in w.cur.objects:
            continue
        target = qn(*key[1:])
        leave = [s for s in change.early if s.startswith(f"ALTER TABLE {target} NO INHERIT ")]
        join = [s for s in change.late if s.startswith(f"ALTER TABLE {target} INHERIT ")]
        staying = [p for p in w.cur.objects[key].data.get("parents", ()) if ("table", *p) not in w.drop]
        moved = [s for s in leave if any(s.endswith(f" NO INHERIT {qn(*p)}") for p in staying)]
        if moved and join:
            change.early = [s for s in change.early if s not in moved]
            change.late = [s for s in change.late if s not in join]
            change.now += join + moved
            for p in staying:
                w.after.setdefault(("table", *p), set()).add(key)
        if leave:  # after the NO INHERIT and after the drops of what uses the columns
            change.now.extend(_left_with_parents(w, key, change))


def _left_with_parents(w: Work, key: Key, change: Alter) -> list[str]:
    """DROP COLUMN for each inherited column of `key` that none of the parents it keeps gives
    it and that it is not to have (NO INHERIT would leave it behind as its own)."""
    old, new = w.cur.objects[key].data, w.des.objects[key].data
    if not new["parents"]:
        return []  # a table with no parent left drops what it is not to have itself (alter_table)
    kept = [p for p in old["parents"] if p in new["parents"]]
    out = []
    for name, column in old["columns"].items():
        if column["local"] or name in new["columns"]:
            continue
        if any(name in w.cur.objects[("table", *p)].data["columns"] for p in kept if ("table", *p) in w.cur.objects):
            continue  # a parent it keeps drops it, and the child's with it
        label = f"{'.'.join(key[1:])}.{name}"
        out.append(f"ALTER TABLE {qn(*key[1:])} DROP COLUMN {q(name)}")
        change.breaking.add(name)
        change.changes.append(("drop_column", label))
        change.destructive.add(label)
    return out


def detach_partition(w: Work, parent: Key, child: Key) -> bool:
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


def through_base_type(w: Work, domain: Key, column: Key) -> bool:
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


def postpone_what_they_use(w: Work) -> None:
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


def keep_owned_sequences(w: Work) -> None:
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


def foreign_key_cycles(w: Work) -> list[Key]:
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

