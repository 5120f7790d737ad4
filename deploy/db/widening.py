"""Whether a column type change keeps every value: a module of its own, with no imports, so
the PostgreSQL compare (which needs only this of the generic model's change rules) does not
load the SQL tokenizer and the generic model with it."""

from __future__ import annotations

import re

_WIDER = {("smallint", "integer"), ("smallint", "bigint"), ("integer", "bigint"), ("int", "bigint"),
          ("tinyint", "smallint"), ("tinyint", "int"), ("smallint", "int"), ("real", "double precision"),
          ("varchar", "text"), ("char", "varchar"), ("char", "text"), ("nchar", "nvarchar"), ("varchar", "nvarchar")}


def widening(old: str, new: str) -> bool:
    """Whether every value of `old` fits `new` (so the change cannot lose data)."""
    ob, oa = _split_type(old)
    nb, na = _split_type(new)
    if (ob, nb) in _WIDER or (nb == "text" and ob in ("varchar", "char")):
        return not (oa and na and _size(na) < _size(oa))
    if ob != nb:
        return False
    if not na or na == ["max"]:
        return True
    if not oa or oa == ["max"]:
        return False
    if len(oa) == 2 and len(na) == 2:  # numeric(p,s): more integer digits and same or more scale
        return int(na[1]) >= int(oa[1]) and int(na[0]) - int(na[1]) >= int(oa[0]) - int(oa[1])
    return _size(na) >= _size(oa)


def _split_type(t: str) -> tuple[str, list[str]]:
    m = re.fullmatch(r"([^(]*)(?:\(([^)]*)\))?(.*)", t.strip().lower())
    base = (m.group(1) + m.group(3)).strip() if m else t
    return base, [a.strip() for a in (m.group(2) or "").split(",") if a.strip()] if m else []


def _size(args: list[str]) -> float:
    return float("inf") if args and args[0] == "max" else float(args[0]) if args and args[0].isdigit() else 0.0
