"""L0: encoding, command-line maths, stdin framing, CLIXML cleaning, the JSON answer protocol."""

from __future__ import annotations

import base64
import json
import math

import pytest
from hypothesis import given, strategies as st

from deploy.transport.base import Result
from deploy.transport.powershell import (
    BOOTSTRAP, BOOTSTRAP_COMMAND_LINE, MAX_CMDLINE, POWERSHELL, ProtocolError, ScriptFailed,
    clean_stderr, command_script, encode_command, encoded_command_line, hook_invocation, parse_answer, quote, rechunk,
    stdin_frame,
)
from deploy.transport.ps1_answers import Switched
from deploy.transport.winrm import STDIN_CHUNK, UPLOAD_LINE

MAX_ENVELOPE = 512000  # Windows' default MaxEnvelopeSizekb = 500
SEND_OVERHEAD = 2048  # SOAP header + Send body around the base64 text (measured ~1.3 KB)


@given(st.text())
def test_encode_command_is_utf16le_base64(script):
    assert base64.b64decode(encode_command(script)).decode("utf-16-le") == script


def test_encode_command_known_value():
    assert encode_command("dir") == "ZABpAHIA"  # what powershell.exe -EncodedCommand expects
    assert base64.b64decode(encode_command("\U0001F680")) == "\U0001F680".encode("utf-16-le")  # surrogate pair


def test_bootstrap_command_line_fits_cmd_exe():
    assert len(BOOTSTRAP_COMMAND_LINE) <= MAX_CMDLINE
    assert BOOTSTRAP_COMMAND_LINE == POWERSHELL + encode_command(BOOTSTRAP)


def test_encoded_command_line_limit_is_exact():
    """Largest script (UTF-16 code units) that still fits: len(prefix) + 4*ceil(2n/3) <= 8191."""
    n = max(k for k in range(4000) if len(POWERSHELL) + 4 * math.ceil(2 * k / 3) <= MAX_CMDLINE)
    assert len(encoded_command_line("#" * n)) <= MAX_CMDLINE
    with pytest.raises(ValueError, match="exceeds cmd.exe's 8191"):
        encoded_command_line("#" * (n + 1))
    assert 2900 < n < 3061  # our prefix is longer than pywinrm's bare `powershell -encodedcommand `


def test_every_send_stays_under_the_envelope_limit():
    assert 4 * math.ceil(STDIN_CHUNK / 3) + SEND_OVERHEAD < MAX_ENVELOPE
    # an upload line is base64 of UPLOAD_LINE bytes: it spans at most two Sends, each bounded above
    assert 4 * math.ceil(UPLOAD_LINE / 3) + 2 <= STDIN_CHUNK * 2


@given(st.lists(st.binary(max_size=300), max_size=30), st.integers(min_value=1, max_value=200))
def test_rechunk_keeps_bytes_and_bounds_pieces(pieces, size):
    out = list(rechunk(pieces, size))
    assert b"".join(out) == b"".join(pieces)
    assert all(0 < len(p) <= size for p in out)
    assert all(len(p) == size for p in out[:-1])


def test_stdin_frame_carries_call_library_and_script_as_three_base64_lines():
    frame = stdin_frame("Write-Output 'h\u00e9'", {"Path": "C:\\x", "Ids": ["a"], "Secret": None}, "file_hash", "function F {}")
    call, library, script, rest = frame.split(b"\r\n")
    assert json.loads(base64.b64decode(call)) == {"step": "file_hash", "params": {"Path": "C:\\x", "Ids": ["a"], "Secret": None}}
    assert base64.b64decode(library) == b"function F {}"
    assert base64.b64decode(script).decode() == "Write-Output 'h\u00e9'"
    assert rest == b"" and frame.isascii()


def test_an_ad_hoc_frame_has_no_step_and_no_library():
    call, library, script, rest = stdin_frame("1", {}).split(b"\r\n")
    assert json.loads(base64.b64decode(call)) == {"step": None, "params": {}} and library == b""


@pytest.mark.parametrize("command,shell", [
    ("scripts\\migrate.cmd --fake", "cmd"), ('"C:\\My App\\seed.BAT"', "cmd"), ("python manage.py migrate", "powershell"),
    ("& $env:SHIPYARD_PYTHON manage.py check", "powershell"), ("Write-Output x.cmd", "powershell"),
])
def test_hook_shell_is_cmd_only_for_batch_files(command, shell):
    got, text = hook_invocation(command)
    assert got == shell
    if shell == "powershell":
        assert text.startswith("Set-StrictMode -Version Latest\n$ErrorActionPreference = 'Stop'") and command in text
        assert text.endswith("\nexit $LASTEXITCODE\n")
    else:
        assert text == command


def test_hook_longer_than_a_process_command_line_is_refused_before_any_io():
    with pytest.raises(ValueError, match="too long for one process command line"):
        hook_invocation("Write-Output '" + "x" * 13000 + "'")
    assert hook_invocation("Write-Output '" + "x" * 11000 + "'")[0] == "powershell"


@pytest.mark.parametrize("text,literal", [
    ("plain", "'plain'"), ("it's", "'it''s'"), ("$env:X `n", "'$env:X `n'"), ("\u2019q\u2018", "'\u2019\u2019q\u2018\u2018'"),
])
def test_quote(text, literal):
    assert quote(text) == literal


def test_command_script_for_argv_env_and_cwd():
    script = command_script(["C:\\app\\x.exe", "a b", "it's"], {"STAGE": "up'dating"}, "C:\\site")
    assert script.splitlines() == ["$env:STAGE = 'up''dating'", "Set-Location -LiteralPath 'C:\\site'",
                                   "& 'C:\\app\\x.exe' 'a b' 'it''s'", "exit $LASTEXITCODE"]
    with pytest.raises(ValueError, match="not an environment variable name"):
        command_script("x", {"A;rm": "1"}, None)


# ------------------------------------------------------------ CLIXML

PROGRESS_ONLY = ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
                 '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN>'
                 '<MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV></PR></MS></Obj></Objs>')
ERRORS = ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
          '<S S="Error">Remove-Item : Access to the path _x0027_C:\\a_x0027_ is denied._x000D__x000A_</S>'
          '<S S="Error">At line:1 char:1_x000D__x000A_</S></Objs>')


def test_progress_only_cleans_to_empty():
    assert clean_stderr(PROGRESS_ONLY) == ""  # pywinrm would hand back the raw XML here


def test_error_strings_are_decoded():
    assert clean_stderr(ERRORS) == "Remove-Item : Access to the path 'C:\\a' is denied.\nAt line:1 char:1"


def test_mixed_blocks_and_plain_text():
    text = PROGRESS_ONLY + ERRORS.replace("#< CLIXML\r\n", "#< CLIXML\r\n", 1) + "\r\n"
    assert clean_stderr("warning: plain\r\n" + text).startswith("warning: plain\nRemove-Item")


def test_plain_lines_after_a_clixml_document_are_kept():
    """The bootstrap writes warning records as plain lines; powershell.exe's progress CLIXML came first."""
    raw = PROGRESS_ONLY + "WARNING: the module is deprecated\r\n" + ERRORS + "INFORMATION: done\r\n"
    assert clean_stderr(raw) == ("WARNING: the module is deprecated\nRemove-Item : Access to the path 'C:\\a' is "
                                 "denied.\nAt line:1 char:1\nINFORMATION: done")
    assert clean_stderr(PROGRESS_ONLY + "\r\n") == ""


def test_broken_clixml_is_kept_verbatim():
    assert clean_stderr("#< CLIXML\r\n<Objs><S S=\"Error\">unterminated") == '<Objs><S S="Error">unterminated'


# ------------------------------------------------------------ the one-JSON-line answer


def result(stdout: str, rc: int = 0) -> Result:
    return Result("win1", "switch.ps1", rc, stdout, "", 0.1)


GOOD = '{"ok":true,"step":"switch","data":{"current":"r2","previous":"r1"},"error":null}'


def test_good_answer_is_validated_against_the_schema():
    answer = parse_answer(result(GOOD + "\r\n"), "switch", Switched)
    assert answer.data == Switched(current="r2", previous="r1")


@pytest.mark.parametrize("stdout,rc,problem", [
    ("", 0, "expected one JSON line on stdout, got 0"),
    ("noise\r\n" + GOOD, 0, "expected one JSON line on stdout, got 2"),
    ("{not json", 0, "not the JSON envelope"),
    ('{"ok":true,"step":"switch"}', 0, "data does not match Switched"),
    ('{"ok":true,"step":"switch","data":[{"x":1},{"current":null,"previous":null}]}', 0, "data does not match"),
    ('{"ok":true,"step":"switch","data":{"current":null,"previous":null,"extra":1}}', 0, "data does not match"),
    ('{"ok":true,"step":"unpack","data":null}', 0, "answer is from step 'unpack'"),
    (GOOD, 1, "ok=true but a non-zero exit code"),
    ('{"ok":true,"step":"switch","data":{},"error":null,"more":1}', 0, "not the JSON envelope"),
])
def test_protocol_violations(stdout, rc, problem):
    with pytest.raises(ProtocolError, match=problem) as err:
        parse_answer(result(stdout, rc), "switch", Switched)
    assert err.value.host == "win1" and err.value.step == "switch"


def test_ok_false_is_script_failed_with_its_message():
    with pytest.raises(ScriptFailed, match="win1: step 'switch' failed: no such release") as err:
        parse_answer(result('{"ok":false,"step":"switch","data":null,"error":"no such release"}', 1), "switch")
    assert err.value.result.rc == 1


def test_ok_false_with_exit_zero_is_still_a_failure():
    """PowerShell exiting 0 after an error must not pass."""
    with pytest.raises(ScriptFailed):
        parse_answer(result('{"ok":false,"step":"switch","data":null,"error":"x"}', 0), "switch")


def test_bootstrap_refusal_answer_is_a_script_failure():
    line = BOOTSTRAP.split("WriteLine('")[1].split("')")[0]
    with pytest.raises(ScriptFailed, match="32-bit PowerShell"):
        parse_answer(result(line, 3), "switch")  # single-quoted in PowerShell: printed verbatim
