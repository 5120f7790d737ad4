"""The base of every config model: unknown keys are errors (with the nearest valid key
suggested), values are immutable, and types are strict (`keep_releases = "5"` is an error,
not 5; a whole number is still a float)."""

from __future__ import annotations

import difflib
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _models_in(annotation: Any) -> list[Any]:
    """The types a value of `annotation` may be: Optional/Union/Annotated unwrapped."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType) or str(origin).endswith("Annotated"):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return [annotation]


def _step(candidates: list[Any], part: Any) -> list[Any]:
    out = []
    for c in candidates:
        origin, args = get_origin(c), get_args(c)
        if isinstance(c, type) and issubclass(c, BaseModel):
            if isinstance(part, str) and part in c.model_fields:
                out += _models_in(c.model_fields[part].annotation)
            elif part == c.__name__:  # pydantic's label of a union branch
                out.append(c)
        elif origin is dict and args and isinstance(part, str):
            out += _models_in(args[1])
        elif origin is list and args and isinstance(part, int):
            out += _models_in(args[0])
    return out


def nearest_key(root: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    """For an unknown key at `loc`, the valid key of that table it is closest to (a typo)."""
    candidates: list[Any] = [root]
    for part in loc[:-1]:
        candidates = _step(candidates, part) or candidates
    keys = {name for c in candidates if isinstance(c, type) and issubclass(c, BaseModel) for name in c.model_fields}
    found = difflib.get_close_matches(str(loc[-1]), sorted(keys), n=1, cutoff=0.6)
    return found[0] if found else None
