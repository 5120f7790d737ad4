"""What each scripts/ps1 script promises, read from the script itself with tree-sitter-powershell,
so the contract model (model.py) cannot drift from the scripts silently:

- its param() block (names, Mandatory, ValidateSet/Pattern/Range, [int]): the model binds
  parameters as PowerShell's binder would, and a call that would not bind answers ok=false
  with the binder's message (the bootstrap's envelope catches it);
- the keys of every answer it can return: the model may only answer with one of those shapes;
- the messages it can throw (its own and the library's; `$var` and `$(...)` become wildcards):
  every failure the model reports must be one the script could report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from deploy.transport.powershell import LIBRARY, SCRIPTS_DIR
from tests.unit.windows.ps1_lint import PARSER, answer_shapes, walk


@dataclass(frozen=True)
class Param:
    name: str
    mandatory: bool
    type: str
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    allow_empty: bool = False
    range: tuple[int, int] | None = None


@dataclass(frozen=True)
class Contract:
    name: str
    source: str
    params: dict[str, Param]
    shapes: tuple[frozenset[str], ...]
    throws: tuple[re.Pattern, ...]

    def allows_answer(self, data: dict) -> bool:
        return frozenset(data) in self.shapes

    def could_throw(self, message: str) -> bool:
        return any(t.fullmatch(message) for t in self.throws)


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
        pattern = re.search(r"ValidatePattern\((['\"])(.*?)\1\)\]", text)
        bounds = re.search(r"ValidateRange\((\d+),\s*(\d+)\)", text)
        params[name.lower()] = Param(
            name, "Mandatory = $true" in text, re.findall(r"\[(string\[\]|string|int|long|bool)\]", text)[-1],
            tuple(re.findall(r"'([^']*)'", choices.group(1))) if choices else (),
            pattern.group(2).replace("`\"", "\"") if pattern else None, "[AllowEmptyString()]" in text,
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
        if p.type == "bool" and not isinstance(value, bool):
            return f"Cannot process argument transformation on parameter '{p.name}'. Cannot convert value to type System.Boolean."
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


_EXPANSION = re.compile(r"\$\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)|\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*")


def throw_templates(source: str) -> list[re.Pattern]:
    """Each `throw "..."`/`throw '...'` as a regex: literal text, expansions as `.+?`."""
    templates = []
    for node in walk(PARSER.parse(source.encode("utf-8")).root_node):
        if node.type != "flow_control_statement" or node.children[0].type != "throw" or len(node.children) < 2:
            continue
        literal = next((n for n in walk(node.children[1]) if n.type in ("expandable_string_literal", "verbatim_string_characters")), None)
        if literal is None:
            continue
        text = literal.text.decode()
        if text[:1] in "\"'":
            text = text[1:-1]
        if literal.type == "verbatim_string_characters":
            templates.append(re.compile(re.escape(text)))
            continue
        pieces, last = [], 0
        for m in _EXPANSION.finditer(text):
            pieces += [re.escape(text[last:m.start()].replace("`", "")), ".*?"]
            last = m.end()
        pieces.append(re.escape(text[last:].replace("`", "")))
        templates.append(re.compile("".join(pieces), re.S))
    return templates


@cache
def contracts() -> dict[str, Contract]:
    library = LIBRARY.read_text(encoding="utf-8-sig")
    found = {}
    for path in sorted(SCRIPTS_DIR.glob("*.ps1")):
        source = path.read_text(encoding="utf-8-sig")
        found[path.stem] = Contract(path.stem, source, script_params(source),
                                    tuple(frozenset(s) for s in answer_shapes(source)),
                                    tuple(throw_templates(source) + throw_templates(library)))
    return found
