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


def creation_order(routines: list[Routine]) -> list[Routine]:
    """Views and functions before what uses them, triggers last; ties keep name order."""
    rank = {"function": 0, "view": 1, "procedure": 2, "trigger": 3}
    pending = sorted(routines, key=lambda r: (rank[r.kind], r.name.lower()))
    done: list[Routine] = []
    while pending:
        ready = [r for r in pending if not any(uses(r, o.name) for o in pending if o is not r and o.kind != "trigger")]
        ready = ready or pending[:1]  # a cycle: keep going in name order, the server will say
        done.append(ready[0])
        pending.remove(ready[0])
    return done
