"""How a bad value in shipyard.toml (or in an artifact's metadata) is told: `file: key.path: what`.

Keys are shown as the file writes them (`env.prod.hosts[1].transport`); a key with characters
that could break the line is quoted. Values under keys that may hold a secret are never echoed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from deploy.config_base import Strict, nearest_key


def key_path(loc: tuple[Any, ...]) -> str:
    """('env', 'prod', 'hosts', 1, 'transport') -> 'env.prod.hosts[1].transport'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in UNION_LABELS or "[" in str(part) or str(part).startswith("function-"):
            continue  # pydantic union-branch labels (`int`, `literal['a']`, `function-after[...]`), not keys
        else:
            shown = str(part) if re.fullmatch(r"[A-Za-z0-9_./-]+", str(part)) else json.dumps(str(part))
            out += f".{shown}" if out else shown
    return out


UNION_LABELS = ("int", "str", "float", "bool", "none")


def looks_like_a_variable_name(var: str) -> bool:
    """`SITE_SECRET_KEY` is shown in messages; `AKIAIOSFODNN7EXAMPLE` (long, letters and digits, no `_`)
    or `sk_live_4eC39HqLyjWDarjtT1zdp7dc` (lower case: API keys, not the names shells export) might be
    a secret pasted where a name belongs, and is not."""
    conventional = re.fullmatch(r"[A-Z_][A-Z0-9_]*", var) is not None
    return conventional and ("_" in var or len(var) < 16 or var.isalpha())


def sensitive(path: str) -> bool:
    """Keys whose values are never echoed in an error (a secret pasted by mistake lands here)."""
    lowered = path.lower()
    return any(word in lowered for word in ("secret", "password", "token"))


def describe(err: dict[str, Any], hide_input: bool = False, model: type[Strict] | None = None) -> str:
    kind, ctx, got = err["type"], err.get("ctx", {}), err.get("input")
    if hide_input and kind not in ("extra_forbidden", "missing", "value_error"):
        return f"{err['msg'].lower()} (the value is not shown: this key may hold a secret)"
    if kind == "literal_error":
        allowed = ctx.get("expected", "").replace("'", "").replace(" or ", ", ")
        return f"{got!r} is not one of {allowed}"
    if kind == "extra_forbidden":
        near = nearest_key(model, err["loc"]) if model is not None and err["loc"] else None
        return f"unknown key (did you mean {near!r}?)" if near else "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        bound = next(iter(ctx.values()))
        shown = f"{bound:g}" if isinstance(bound, float) else bound
        return f"must be {op} {shown}, got {got!r}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "string_pattern_mismatch":
        return f"{got!r} does not match {ctx.get('pattern')}"
    return f"{err['msg'].lower()}, got {got!r}"


def problems(exc: ValidationError, model: type[Strict] | None = None) -> list[str]:
    """One `key: what` line per bad key; an unknown key names the valid key of `model` it is nearest."""
    seen: dict[str, str] = {}
    for err in exc.errors():
        path = key_path(err["loc"])
        msg = describe(err, hide_input=sensitive(path), model=model)
        # a union field reports each branch; keep the first message per key
        seen.setdefault(path, f"{path}: {msg}" if path else msg)
    return list(seen.values())
