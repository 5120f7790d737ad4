"""L1: every scripts/ps1 script, the library and every script the Python side generates parses
with a real PowerShell grammar (tree-sitter-powershell), and each keeps the structural contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from deploy.transport.powershell import BOOTSTRAP, LIBRARY, SCRIPTS_DIR, command_script, hook_invocation, quote
from deploy.transport.ps1_answers import SCHEMAS
from tests.unit.windows.ps1_lint import (
    PARSER, answer_shapes, command_names, library_problems, piped_stream_merges, structure_problems,
    syntax_problems, unknown_commands, walk,
)

SCRIPTS = sorted(SCRIPTS_DIR.glob("*.ps1"))
LIB = LIBRARY.read_text(encoding="utf-8-sig")
GENERATED = {
    "bootstrap": BOOTSTRAP,
    "command string": command_script("Get-Service W3SVC | Select-Object -First 1", None, None),
    "argv + env + cwd": command_script(["C:\\Python311\\python.exe", "manage.py", "migrate", "--noinput",
                                        "--database=default", "it's"], {"DJANGO_SETTINGS_MODULE": "site.settings"},
                                       "C:\\shipyard\\site\\current\\app"),
    "hook wrapper": hook_invocation("& $env:SHIPYARD_PYTHON manage.py migrate --noinput\nif ($LASTEXITCODE) { exit $LASTEXITCODE }")[1],
}


def test_the_library_is_all_there():
    assert {p.stem for p in SCRIPTS} == set(SCHEMAS)  # every script has an answer schema and vice versa
    assert len(SCRIPTS) >= 22


@pytest.mark.parametrize("path", SCRIPTS + [LIBRARY], ids=lambda p: p.name)
def test_script_parses(path: Path):
    assert syntax_problems(path.read_text(encoding="utf-8-sig")) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_structure(path: Path):
    assert structure_problems(path.read_text(encoding="utf-8-sig")) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_calls_only_known_commands(path: Path):
    assert unknown_commands(path.read_text(encoding="utf-8-sig"), LIB) == []


def test_library_only_defines_functions():
    assert library_problems(LIB) == []
    assert unknown_commands(LIB, LIB) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_answer_shapes_match_the_python_schema(path: Path):
    """Every `return [ordered]@{...}` of the script fits SCHEMAS[name]: no unknown key, no
    required key missing — the .ps1 and the Python side cannot drift apart silently."""
    schema = SCHEMAS[path.stem]
    fields = set(schema.model_fields)
    required = {n for n, f in schema.model_fields.items() if f.is_required()}
    shapes = answer_shapes(path.read_text(encoding="utf-8-sig"))
    assert shapes, "no `return [ordered]@{...}` found"
    for keys in shapes:
        assert keys <= fields and required <= keys, (keys, fields)


def test_answer_shape_check_can_fail():
    source = SCRIPTS_DIR.joinpath("switch.ps1").read_text(encoding="utf-8-sig").replace("previous = $previous", "prev = $previous")
    assert answer_shapes(source) == [{"current", "prev"}]


@pytest.mark.parametrize("name", GENERATED)
def test_generated_script_parses(name):
    assert syntax_problems(GENERATED[name]) == []


def test_the_bootstrap_keeps_warnings_and_information_off_stdout():
    """powershell.exe's console host prints warning, verbose, debug and information records on a
    redirected stdout (PowerShell #7989): one cmdlet's WARNING line beside the answer would break the
    one-JSON-line protocol. The script runs with streams 3-6 merged into its output, and every such
    record goes to stderr; only the last real object becomes the answer's data."""
    [(merged, sink)] = piped_stream_merges(BOOTSTRAP, "$shipyardText")
    assert merged == {"3", "4", "5", "6"}
    assert sink.startswith("ForEach-Object") and "[Console]::Error.WriteLine" in sink
    assert "InformationalRecord" in sink and "InformationRecord]" in sink  # warning/verbose/debug; information
    assert "[Console]::Out" not in sink and "$shipyardAnswer.data = $_" in sink


def test_the_stream_check_can_fail():
    [(merged, _)] = piped_stream_merges(BOOTSTRAP.replace(" 3>&1", ""), "$shipyardText")
    assert merged == {"4", "5", "6"}
    unpiped = BOOTSTRAP.replace(" 3>&1 4>&1 5>&1 6>&1 | ForEach-Object {", " 3>&1 4>&1 5>&1 6>&1\n$null = {")
    assert piped_stream_merges(unpiped, "$shipyardText") == []


def invoked_arguments(script: str) -> list[str]:
    """The arguments of the one `& ...` command in `script`, as the grammar splits them."""
    [command] = [n for n in walk(PARSER.parse(script.encode("utf-8")).root_node)
                 if n.type == "command" and n.text.decode().startswith("& ")]
    elements = next(c for c in command.children if c.type == "command_elements")
    return [c.text.decode() for c in elements.children if c.type != "command_argument_sep"]


ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_any_argument_env_value_and_cwd_stay_one_literal_each(text):
    """Adversarial: whatever the text (quotes, typographic quotes, `$`, backticks, `;`, newlines), an ad-hoc
    command's argv, environment value and working dir parse, by the PowerShell grammar, as exactly the
    literals quote() made: no argument split, nothing injected."""
    script = command_script(["C:\\p.exe", text, "--x=1"], {"V": text}, text)
    assert syntax_problems(script) == []
    assert invoked_arguments(script) == [quote(text), quote("--x=1")]
    assert command_names(script) == (["set-location"] if text else [])  # nothing smuggled in by the value or dir


def test_the_argument_check_can_fail():
    unquoted = command_script(["C:\\p.exe", "a", "b"], None, None).replace("'a' 'b'", "'a b'")
    assert invoked_arguments(unquoted) == ["'a b'"] != [quote("a"), quote("b")]
    assert syntax_problems("& 'C:\\p.exe' '" + "it's" + "'\n")  # an undoubled quote does not parse
    smuggled = command_script(["C:\\p.exe"], {"V": "x"}, None).replace("'x'", "'x'; Remove-Item C:\\; 'y'")
    assert command_names(smuggled) == ["remove-item"]


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
    (lambda s: s.replace("$hash = ", "Write-Output 'debug'\n$hash = ", 1), "write-output"),
    (lambda s: s + "[Console]::Out.WriteLine('second')\n", "[Console]"),
    (lambda s: s.replace("if (-not (Test-Path", "if ($Path -eq 'x') { exit 3 }\nif (-not (Test-Path", 1), "exit"),
    (lambda s: s + "Get-Date\n", "last statement"),
    (lambda s: s.replace("return [ordered]", "$null = [ordered]"), "answers nothing"),
    (lambda s: s.replace("[CmdletBinding()]\n", ""), "CmdletBinding"),
    (lambda s: "Write-Verbose 'first'\n" + s, "first statement"),
    (lambda s: s.replace("if (-not (Test-Path", "try { $null = 1 }\nif (-not (Test-Path", 1), "try without catch"),
    (lambda s: s.replace("Get-FileHash", "iex 'Get-FileHash'", 1), "iex"),
])
def test_structure_rules_catch_mutations(mutation, problem):
    assert structure_problems(GOOD) == []
    assert any(problem in p for p in structure_problems(mutation(GOOD)))


def test_unknown_commands_catch_a_typo_and_a_pwsh_7_cmdlet():
    assert unknown_commands(GOOD.replace("Get-FileHash", "Get-FileHsah"), LIB) == ["get-filehsah"]
    assert unknown_commands(GOOD + "'a', 'b' | Join-String\n", LIB) == ["join-string"]  # PowerShell 7 only
    assert unknown_commands(GOOD + "Remove-Tree 'C:\\x'\n", LIB) == []  # a library function


def test_library_rules_catch_a_statement_that_runs_on_load():
    assert library_problems(LIB + "\n$x = 1\n")
    assert library_problems(LIB + "\nfunction Bad { [Console]::Out.WriteLine('x') }\n")


def test_command_names_lists_cmdlets():
    assert {"set-strictmode", "get-filehash", "test-path"} <= set(command_names(GOOD))
