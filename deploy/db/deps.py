"""Which objects a view, function, procedure or trigger uses, read from its text.

Over-approximates on purpose (any word equal to an object's name counts): re-creating
a view that did not need it is harmless, missing one is the classic compare-tool bug."""

from __future__ import annotations

import functools

from deploy.db.model import Routine, split_name
from deploy.db.sqltext import significant, tokenize, unquote


@functools.lru_cache(maxsize=4096)
def words_of(text: str) -> frozenset[str]:
    return frozenset(unquote(t.text).lower() for t in significant(tokenize(text)) if t.kind in ("word", "qident"))


def uses(routine: Routine, name: str) -> bool:
    """Whether `routine` refers to the object called `name` (qualified or not)."""
    if routine.kind == "trigger" and routine.table and routine.table.lower() == name.lower():
        return True
    short = split_name(name)[1].lower()
    return short != split_name(routine.name)[1].lower() and short in words_of(routine.definition)


def uses_any(routine: Routine, names: set[str]) -> bool:
    """`uses` for many names at once (a set intersection, for big schemas)."""
    if routine.kind == "trigger" and routine.table and routine.table.lower() in {n.lower() for n in names}:
        return True
    own = split_name(routine.name)[1].lower()
    shorts = {split_name(n)[1].lower() for n in names} - {own}
    return not shorts.isdisjoint(words_of(routine.definition))


def creation_order(routines: list[Routine]) -> list[Routine]:
    """Views and functions before what uses them, triggers last; ties keep name order."""
    rank = {"function": 0, "view": 1, "procedure": 2, "trigger": 3}
    ordered = sorted(routines, key=lambda r: (rank[r.kind], r.name.lower()))
    by_short: dict[str, list[int]] = {}
    for i, r in enumerate(ordered):
        if r.kind != "trigger":
            by_short.setdefault(split_name(r.name)[1].lower(), []).append(i)
    needs = [{j for w in words_of(r.definition) for j in by_short.get(w, ()) if j != i} for i, r in enumerate(ordered)]
    done: list[Routine] = []
    placed: set[int] = set()
    while len(placed) < len(ordered):
        pending = [i for i in range(len(ordered)) if i not in placed]
        # the first one whose needs are met; in a cycle, the first one (the server will say)
        pick = next((i for i in pending if needs[i] <= placed), pending[0])
        placed.add(pick)
        done.append(ordered[pick])
    return done
