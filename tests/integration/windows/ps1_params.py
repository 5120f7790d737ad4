"""The param() block of each scripts/ps1 script, read with tree-sitter-powershell, so the
contract model binds parameters the way PowerShell would: an unknown name, a missing
mandatory value, an empty mandatory string, a value outside ValidateSet/ValidatePattern
or a non-integer [int] fails before the script body runs — exit 1, no JSON on stdout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.unit.windows.ps1_lint import PARSER, walk


@dataclass(frozen=True)
class Param:
    name: str
    mandatory: bool
    type: str
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    allow_empty: bool = False
    range: tuple[int, int] | None = None


def script_params(source: str) -> dict[str, Param]:
    root = PARSER.parse(source.encode("utf-8")).root_node
    block = next(c for c in root.children if c.type == "param_block")
    params = {}
    for node in walk(block):
        if node.type != "script_parameter":
            continue
        text = node.text.decode()
        name = next(c for c in node.children if c.type == "variable").text.decode().lstrip("$")
        choices = re.search(r"ValidateSet\(([^)]*)\)", text)
        pattern = re.search(r"ValidatePattern\('([^']*)'\)", text)
        bounds = re.search(r"ValidateRange\((\d+),\s*(\d+)\)", text)
        params[name.lower()] = Param(
            name, "Mandatory = $true" in text, re.findall(r"\[(string\[\]|string|int|long|bool)\]", text)[-1],
            tuple(re.findall(r"'([^']*)'", choices.group(1))) if choices else (),
            pattern.group(1) if pattern else None, "[AllowEmptyString()]" in text,
            (int(bounds.group(1)), int(bounds.group(2))) if bounds else None)
    return params


def binding_error(params: dict[str, Param], given: dict[str, Any]) -> str | None:
    """PowerShell's parameter-binding message for `given`, or None when it binds."""
    for key, value in given.items():
        p = params.get(key.lower())
        if p is None:
            return f"A parameter cannot be found that matches parameter name '{key}'."
        values = value if isinstance(value, list) else [value]
        if p.type in ("int", "long") and not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return f"Cannot process argument transformation on parameter '{p.name}'. Cannot convert value to type System.Int32."
        if p.choices and not all(str(v).lower() in (c.lower() for c in p.choices) for v in values):
            return f"Cannot validate argument on parameter '{p.name}'. The argument does not belong to the set {p.choices}."
        if p.pattern and not all(re.search(p.pattern, str(v), re.I) for v in values):
            return f"Cannot validate argument on parameter '{p.name}'. The argument does not match the \"{p.pattern}\" pattern."
        if p.range and not all(p.range[0] <= v <= p.range[1] for v in values):
            return f"Cannot validate argument on parameter '{p.name}'. The argument is outside the range {p.range}."
        if p.mandatory and p.type == "string" and value in ("", None) and not p.allow_empty:
            return f"Cannot bind argument to parameter '{p.name}' because it is an empty string."
    missing = [p.name for k, p in params.items() if p.mandatory and k not in {g.lower() for g in given}]
    if missing:
        return f"Cannot process command because of one or more missing mandatory parameters: {' '.join(missing)}."
    return None
