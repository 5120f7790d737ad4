"""PowerShell checks without PowerShell: tree-sitter-powershell for syntax, plus the
structural rules every scripts/ps1 script promises. A syntax gate, not proof of behaviour."""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter_powershell as tsps
from tree_sitter import Language, Node, Parser

PARSER = Parser(Language(tsps.language()))

# Valid PowerShell the grammar rejects; excused per line with the reason, never per file.
KNOWN_FALSE_POSITIVES = [
    (re.compile(r"\s--[\w-]+=\S"), "native `--flag=value` argument (airbus-cert/tree-sitter-powershell #46)"),
]
OUTPUT_COMMANDS = {"write-host", "write-output", "echo", "out-host", "write-information", "out-default", "print"}
BANNED_COMMANDS = {"invoke-expression", "iex", "%", "?", "ls", "rm", "del", "cp", "mv", "cat", "gci", "gi", "sc"}


@dataclass(frozen=True)
class Problem:
    line: int
    text: str


def walk(node: Node):
    yield node
    for child in node.children:
        yield from walk(child)


def syntax_problems(source: str) -> list[Problem]:
    """ERROR/MISSING nodes, minus lines matching a known false positive."""
    tree = PARSER.parse(source.encode("utf-8"))
    if not tree.root_node.has_error:
        return []
    lines = source.splitlines()
    found = []
    for node in walk(tree.root_node):
        if node.is_error or node.is_missing:
            row = node.start_point[0]
            if any(p.search(lines[row] if row < len(lines) else "") for p, _ in KNOWN_FALSE_POSITIVES):
                continue
            found.append(Problem(row + 1, f"MISSING {node.type}" if node.is_missing else "syntax error"))
    return sorted(set(found), key=lambda p: p.line)


def command_names(source: str) -> list[str]:
    tree = PARSER.parse(source.encode("utf-8"))
    return [n.text.decode().lower() for n in walk(tree.root_node) if n.type == "command_name"]


def structure_problems(source: str, step: str) -> list[str]:
    """The contract of a scripts/ps1 script (see docs/windows.md)."""
    root = PARSER.parse(source.encode("utf-8")).root_node
    first = next((c for c in root.children if c.type != "comment"), None)
    problems = []
    if first is None or first.type != "param_block":
        problems.append("the first statement is not a param() block")
    elif "[CmdletBinding()]" not in first.text.decode():
        problems.append("param() block without [CmdletBinding()]")
    top = [_norm(c.text.decode()) for c in _top_statements(root)]
    for required in ("Set-StrictMode -Version Latest", "$ErrorActionPreference = 'Stop'", "$ProgressPreference = 'SilentlyContinue'"):
        if required not in top:
            problems.append(f"missing top-level `{required}`")
    if source.count("[Console]::Out.WriteLine(") != 1 or not any(t.startswith("[Console]::Out.WriteLine(") for t in top):
        problems.append("not exactly one top-level [Console]::Out.WriteLine( (the single JSON output path)")
    if f"$answer = [ordered]@{{ ok = $false; step = '{step}'; data = $null; error = $null }}" not in top:
        problems.append(f"no answer record for step '{step}'")
    if "if ($answer.ok) { exit 0 } else { exit 1 }" not in top:
        problems.append("does not exit non-zero on failure")
    names = set(command_names(source))
    problems += [f"writes to the output stream with {n}" for n in sorted(names & OUTPUT_COMMANDS)]
    problems += [f"uses {n} (alias or Invoke-Expression)" for n in sorted(names & BANNED_COMMANDS)]
    for node in walk(root):
        if node.type == "try_statement" and not any(c.type in ("catch_clauses", "finally_clause") for c in node.children):
            problems.append(f"line {node.start_point[0] + 1}: try without catch or finally")
    return problems


def _top_statements(root: Node) -> list[Node]:
    statements = [c for c in root.children if c.type == "statement_list"]
    return [s for block in statements for s in block.children]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def answer_shapes(source: str) -> list[set[str]]:
    """The keys of every `return [ordered]@{...}` in the script's Invoke-Step: the shapes
    its `data` can take, to compare with the Python schema."""
    root = PARSER.parse(source.encode("utf-8")).root_node
    shapes = []
    for function in (n for n in walk(root) if n.type == "function_statement"):
        name = next((c for c in function.children if c.type == "function_name"), None)
        if name is None or name.text.decode().lower() != "invoke-step":
            continue
        for node in walk(function):
            if node.type == "flow_control_statement" and node.children[0].type == "return":
                literal = next((n for n in walk(node) if n.type == "hash_literal_expression"), None)
                if literal is not None:
                    shapes.append(_hash_keys(literal))
    return shapes


def _hash_keys(literal: Node) -> set[str]:
    body = next(c for c in literal.children if c.type == "hash_literal_body")
    return {next(k for k in entry.children if k.type == "key_expression").text.decode()
            for entry in body.children if entry.type == "hash_entry"}
