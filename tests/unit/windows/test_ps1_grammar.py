"""L1: every scripts/ps1 script and every script the Python side generates parses with a
real PowerShell grammar (tree-sitter-powershell), and each ps1 keeps the structural contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.transport.powershell import BOOTSTRAP, SCRIPTS_DIR, command_script
from deploy.transport.ps1_answers import SCHEMAS
from tests.unit.windows.ps1_lint import answer_shapes, command_names, structure_problems, syntax_problems

SCRIPTS = sorted(SCRIPTS_DIR.glob("*.ps1"))
GENERATED = {
    "bootstrap": BOOTSTRAP,
    "command string": command_script("Get-Service W3SVC | Select-Object -First 1", None, None),
    "argv + env + cwd": command_script(["C:\\Python311\\python.exe", "manage.py", "migrate", "--noinput",
                                        "--database=default", "it's"], {"DJANGO_SETTINGS_MODULE": "site.settings"},
                                       "C:\\shipyard\\site\\current\\app"),
}


def test_the_library_is_all_there():
    assert {p.stem for p in SCRIPTS} == set(SCHEMAS)  # every script has an answer schema and vice versa
    assert len(SCRIPTS) >= 20


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_parses(path: Path):
    assert syntax_problems(path.read_text(encoding="utf-8-sig")) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_structure(path: Path):
    assert structure_problems(path.read_text(encoding="utf-8-sig"), path.stem) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_answer_shapes_match_the_python_schema(path: Path):
    """Every `return [ordered]@{...}` of Invoke-Step fits SCHEMAS[name]: no unknown key, no
    required key missing — the .ps1 and the Python side cannot drift apart silently."""
    schema = SCHEMAS[path.stem]
    fields = set(schema.model_fields)
    required = {n for n, f in schema.model_fields.items() if f.is_required()}
    shapes = answer_shapes(path.read_text(encoding="utf-8-sig"))
    assert shapes, "no `return [ordered]@{...}` found in Invoke-Step"
    for keys in shapes:
        assert keys <= fields and required <= keys, (keys, fields)


def test_answer_shape_check_can_fail():
    source = SCRIPTS_DIR.joinpath("switch.ps1").read_text(encoding="utf-8-sig").replace("previous = $previous", "prev = $previous")
    assert answer_shapes(source) == [{"current", "prev"}]


@pytest.mark.parametrize("name", GENERATED)
def test_generated_script_parses(name):
    assert syntax_problems(GENERATED[name]) == []


def test_argv_quoting_avoids_the_flag_value_false_positive():
    """`--database=default` is quoted by command_script, so no allowlist entry is needed for it."""
    assert "'--database=default'" in GENERATED["argv + env + cwd"]


# ------------------------------------------------------------ the checker itself can fail

GOOD = SCRIPTS_DIR.joinpath("file_hash.ps1").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("broken", [
    "try {\n  Get-Item x\n} catch {\n  throw\n",  # MISSING }
    "if ($x -eq 1 { 'a' }",
    "$s = 'unterminated",
    "$h = @'\nno end\n",
])
def test_syntax_errors_are_found(broken):
    assert syntax_problems(broken)


def test_known_false_positive_is_excused_by_line_not_by_file():
    source = "git log --since=2026-09-04\nif ($x -eq 1 { 'a' }\n"
    problems = syntax_problems(source)
    assert problems and all(p.line == 2 for p in problems)
    assert syntax_problems("git log --since=2026-09-04\n") == []


@pytest.mark.parametrize("mutation,problem", [
    (lambda s: s.replace("Set-StrictMode -Version Latest\n", ""), "Set-StrictMode"),
    (lambda s: s.replace("$ErrorActionPreference = 'Stop'\n", ""), "ErrorActionPreference"),
    (lambda s: s.replace("    return [ordered]", "    Write-Output 'debug'\n    return [ordered]", 1), "write-output"),
    (lambda s: s + "[Console]::Out.WriteLine('second')\n", "single JSON output path"),
    (lambda s: s.replace("} else { exit 1 }", "}"), "non-zero"),
    (lambda s: s.replace("step = 'file_hash'", "step = 'other'"), "no answer record"),
    (lambda s: s.replace("[CmdletBinding()]\n", ""), "CmdletBinding"),
    (lambda s: "Write-Verbose 'first'\n" + s, "first statement"),
    (lambda s: s.replace("    if (-not (Test-Path", "    try { $null = 1 }\n    if (-not (Test-Path", 1), "try without catch"),
    (lambda s: s.replace("Get-FileHash", "iex 'Get-FileHash'", 1), "iex"),
])
def test_structure_rules_catch_mutations(mutation, problem):
    assert structure_problems(GOOD, "file_hash") == []
    assert any(problem in p for p in structure_problems(mutation(GOOD), "file_hash"))


def test_command_names_lists_cmdlets():
    assert {"set-strictmode", "get-filehash", "test-path"} <= set(command_names(GOOD))
