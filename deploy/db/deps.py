"""Which objects a view, function, procedure or trigger uses, read from its text.

Over-approximates on purpose (any word equal to an object's name counts): re-creating
a view that did not need it is harmless, missing one is the classic compare-tool bug."""

from __future__ import annotations

import functools
import re

from deploy.db.model import QName, Routine
from deploy.db.sqltext import SqlSyntaxError, significant, tokenize, unquote


@functools.lru_cache(maxsize=4096)
def words_of(text: str) -> frozenset[str]:
    try:
        return frozenset(unquote(t.text).lower() for t in significant(tokenize(text)) if t.kind in ("word", "qident"))
    except SqlSyntaxError:  # another dialect's lexis (MySQL's backslash escapes): every word-like run
        return frozenset(w.lower() for w in re.findall(r"[A-Za-z_][\w$]*", text))


def uses_any(routine: Routine, names: set[QName]) -> bool:
    """Whether `routine` refers to any of `names` (a set intersection, for big schemas)."""
    if routine.kind == "trigger" and routine.table and routine.table.key in {n.key for n in names}:
        return True
    own = routine.name.name.lower()
    shorts = {n.name.lower() for n in names} - {own}
    return not shorts.isdisjoint(words_of(routine.definition))


def creation_order(routines: list[Routine]) -> list[Routine]:
    """Views and functions before what uses them, triggers last; ties keep name order."""
    rank = {"function": 0, "view": 1, "procedure": 2, "trigger": 3, "event": 4}
    ordered = sorted(routines, key=lambda r: (rank[r.kind], r.name.key))
    by_short: dict[str, list[int]] = {}
    for i, r in enumerate(ordered):
        if r.kind != "trigger":
            by_short.setdefault(r.name.name.lower(), []).append(i)
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
