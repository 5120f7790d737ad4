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
# The cmdlets the scripts may call besides their own and the library's functions: each one exists in
# Windows PowerShell 5.1 (Microsoft.PowerShell.*, CimCmdlets, WebAdministration), so a typo or a
# PowerShell-7-only cmdlet fails here instead of on a server.
KNOWN_CMDLETS = {
    "add-member", "add-type", "convertfrom-json", "convertto-json", "foreach-object", "get-childitem",
    "get-ciminstance", "get-date", "get-filehash", "get-item", "get-itemproperty", "get-module", "get-service",
    "import-module", "join-path", "measure-object", "new-item", "new-object", "resolve-path", "select-object",
    "set-itemproperty", "set-strictmode", "sort-object", "split-path", "start-sleep", "stop-process",
    "test-path", "where-object", "write-verbose",
    # WebAdministration (IIS)
    "add-webconfiguration", "add-webconfigurationproperty", "get-webapppoolstate", "get-webconfiguration",
    "new-webapppool", "new-website", "remove-webconfigurationproperty", "restart-webapppool",
    "set-webconfigurationproperty", "start-webapppool",
}
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


def structure_problems(source: str, step: str = "") -> list[str]:
    """The contract of a scripts/ps1 script (see docs/windows.md). The bootstrap owns the answer
    envelope, stdout and the exit code; a script only returns its data."""
    root = PARSER.parse(source.encode("utf-8")).root_node
    first = next((c for c in root.children if c.type != "comment"), None)
    problems = []
    if first is None or first.type != "param_block":
        problems.append("the first statement is not a param() block")
    elif "[CmdletBinding()]" not in first.text.decode():
        problems.append("param() block without [CmdletBinding()]")
    statements = _top_statements(root)
    top = [_norm(c.text.decode()) for c in statements]
    for required in ("Set-StrictMode -Version Latest", "$ErrorActionPreference = 'Stop'"):
        if required not in top:
            problems.append(f"missing top-level `{required}`")
    if not answer_shapes(source):
        problems.append("no `return [ordered]@{...}` outside functions: the script answers nothing")
    if not statements or not re.match(r"(return \[ordered\]@\{|throw )", top[-1]):
        problems.append("the last statement is neither `return [ordered]@{...}` nor `throw`")
    problems += _stream_problems(root, source)
    for node in walk(root):
        if node.type == "try_statement" and not any(c.type in ("catch_clauses", "finally_clause") for c in node.children):
            problems.append(f"line {node.start_point[0] + 1}: try without catch or finally")
    return problems


def _stream_problems(root: Node, source: str) -> list[str]:
    """stdout and the exit code belong to the bootstrap: no output cmdlet, no [Console]::Out, no exit."""
    problems = []
    if "[Console]::Out" in source or "[Console]::Write" in source:
        problems.append("writes to stdout with [Console] (the bootstrap writes the one answer line)")
    names = set(command_names(source))
    problems += [f"writes to the output stream with {n}" for n in sorted(names & OUTPUT_COMMANDS)]
    problems += [f"uses {n} (alias or Invoke-Expression)" for n in sorted(names & BANNED_COMMANDS)]
    for node in walk(root):
        if node.type == "flow_control_statement" and node.children[0].type == "exit":
            problems.append(f"line {node.start_point[0] + 1}: exit (it would end the bootstrap before it answers)")
    return problems


def unknown_commands(source: str, library: str) -> list[str]:
    """Commands that are neither the script's or the library's functions nor a known 5.1 cmdlet."""
    known = KNOWN_CMDLETS | defined_functions(source) | defined_functions(library)
    return sorted(set(command_names(source)) - known)


def library_problems(source: str) -> list[str]:
    """The library the bootstrap dot-sources: function definitions only, nothing runs on load."""
    root = PARSER.parse(source.encode("utf-8")).root_node
    problems = [f"line {s.start_point[0] + 1}: a statement that runs when the library loads"
                for s in _top_statements(root) if s.type not in ("function_statement", "comment")]
    return problems + _stream_problems(root, source)


def defined_functions(source: str) -> set[str]:
    root = PARSER.parse(source.encode("utf-8")).root_node
    return {next(c for c in n.children if c.type == "function_name").text.decode().lower()
            for n in walk(root) if n.type == "function_statement"}


def _top_statements(root: Node) -> list[Node]:
    statements = [c for c in root.children if c.type == "statement_list"]
    return [s for block in statements for s in block.children]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def answer_shapes(source: str) -> list[set[str]]:
    """The keys of every `return [ordered]@{...}` outside a function: the shapes the script's
    answer can take, to compare with the Python schema and to hold the model to."""
    root = PARSER.parse(source.encode("utf-8")).root_node
    shapes = []
    for node in _outside_functions(root):
        if node.type == "flow_control_statement" and node.children[0].type == "return":
            literal = next((n for n in walk(node) if n.type == "hash_literal_expression"), None)
            if literal is not None:
                shapes.append(_hash_keys(literal))
    return shapes


def _outside_functions(node: Node):
    yield node
    for child in node.children:
        if child.type != "function_statement":
            yield from _outside_functions(child)


def _hash_keys(literal: Node) -> set[str]:
    body = next(c for c in literal.children if c.type == "hash_literal_body")
    return {next(k for k in entry.children if k.type == "key_expression").text.decode()
            for entry in body.children if entry.type == "hash_entry"}


def piped_stream_merges(source: str, marker: str) -> list[tuple[set[str], str]]:
    """For each pipeline whose first command contains `marker` and pipes into another command: the
    streams that command merges into the output (`3>&1` -> "3") and the text of what it pipes into."""
    root = PARSER.parse(source.encode("utf-8")).root_node
    found = []
    for chain in walk(root):
        commands = [c for c in chain.children if c.type == "command"] if chain.type == "pipeline_chain" else []
        if len(commands) < 2 or marker not in commands[0].text.decode():
            continue
        merges = {n.text.decode()[0] for n in walk(commands[0]) if n.type == "merging_redirection_operator"}
        found.append((merges, commands[1].text.decode()))
    return found
