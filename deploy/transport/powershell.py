"""The PowerShell dialect shared by the WinRM and PsExec transports.

Every PowerShell call is the same fixed, short bootstrap on the command line
(`powershell.exe ... -EncodedCommand <UTF-16LE base64>`, always far below
cmd.exe's 8191 characters), and everything else on stdin: line 1 the script
(UTF-8, base64), line 2 its parameters (JSON, base64), then the caller's own
stdin. So script size never meets the command-line limit and parameters
(including secrets) never appear in a process listing.

Scripts answer with ONE JSON line `{"ok", "step", "data", "error"}`; the answer
decides success together with the exit code, never stderr alone (PowerShell
writes progress records and warnings there as CLIXML).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import time
import xml.etree.ElementTree as ET
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, ValidationError

from deploy.errors import ArtifactError, ShipyardError, StepFailed
from deploy.transport.base import Command, Result, Transport
from deploy.transport.ps1_answers import SCHEMAS

if TYPE_CHECKING:  # pragma: no cover
    from deploy.transport.smb import SmbTransfer

MAX_CMDLINE = 8191  # cmd.exe (KB 830473); WinRS runs commands through it
POWERSHELL = "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand "
SCRIPTS_DIR = Path(__file__).resolve().parents[1] / "scripts" / "ps1"  # repo path scripts/ps1 links here

LIBRARY = SCRIPTS_DIR / "lib" / "Shipyard.ps1"

# Refuses ConstrainedLanguage (before touching any .NET type it forbids) and 32-bit PowerShell on a 64-bit
# OS (it sees another registry and Program Files), reads the call from stdin, and owns the one answer
# envelope: a script only returns its data; a throw anywhere, parameter binding included, is ok=false.
# Warning, verbose, debug and information records (a cmdlet's or a module's) are merged into the output and
# written to stderr: powershell.exe's console host would print them on stdout (PowerShell #7989), beside
# the one JSON line. A call without a step (an ad-hoc command) runs as it is and exits with its own code.
BOOTSTRAP = r"""if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {
    Write-Output ('{"ok":false,"step":"bootstrap","data":null,"error":"PowerShell runs in ' + $ExecutionContext.SessionState.LanguageMode + ' mode (an AppLocker or WDAC policy); Shipyard needs FullLanguage"}')
    exit 4
}
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$utf8 = New-Object System.Text.UTF8Encoding $false
[Console]::OutputEncoding = $utf8
if ([Environment]::Is64BitOperatingSystem -and -not [Environment]::Is64BitProcess) {
    [Console]::Out.WriteLine('{"ok":false,"step":"bootstrap","data":null,"error":"32-bit PowerShell on a 64-bit OS; use %SystemRoot%\\sysnative\\WindowsPowerShell\\v1.0\\powershell.exe"}')
    exit 3
}
$shipyardCall = ConvertFrom-Json -InputObject $utf8.GetString([Convert]::FromBase64String([Console]::In.ReadLine()))
$shipyardLib = $utf8.GetString([Convert]::FromBase64String([Console]::In.ReadLine()))
$shipyardText = $utf8.GetString([Convert]::FromBase64String([Console]::In.ReadLine()))
$shipyardParams = @{}
$shipyardCall.params.PSObject.Properties | ForEach-Object { $shipyardParams[$_.Name] = $_.Value }
$global:LASTEXITCODE = 0
if (-not $shipyardCall.step) {
    & ([ScriptBlock]::Create($shipyardText)) @shipyardParams
    exit $LASTEXITCODE
}
$shipyardAnswer = [ordered]@{ ok = $false; step = $shipyardCall.step; data = $null; error = $null }
try {
    . ([ScriptBlock]::Create($shipyardLib))
    & ([ScriptBlock]::Create($shipyardText)) @shipyardParams 3>&1 4>&1 5>&1 6>&1 | ForEach-Object {
        if ($_ -is [System.Management.Automation.InformationalRecord] -or $_ -is [System.Management.Automation.InformationRecord]) {
            [Console]::Error.WriteLine(($_.GetType().Name -replace 'Record$', '').ToUpperInvariant() + ": $_")
        }
        else { $shipyardAnswer.data = $_ }
    }
    $shipyardAnswer.ok = $true
}
catch {
    $shipyardAnswer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($shipyardAnswer | ConvertTo-Json -Compress -Depth 10))
if ($shipyardAnswer.ok) { exit 0 }
exit 1
"""


def encode_command(script: str) -> str:
    """What `-EncodedCommand` takes: base64 of the UTF-16LE script."""
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def encoded_command_line(script: str) -> str:
    """`powershell.exe ... -EncodedCommand ...`; raises if cmd.exe would refuse it."""
    line = POWERSHELL + encode_command(script)
    if len(line) > MAX_CMDLINE:
        raise ValueError(f"command line of {len(line)} characters exceeds cmd.exe's {MAX_CMDLINE}")
    return line


BOOTSTRAP_COMMAND_LINE = encoded_command_line(BOOTSTRAP)


def stdin_frame(script: str, params: Mapping[str, Any], step: str | None = None, library: str = "") -> bytes:
    """The three lines the bootstrap reads before handing stdin to the script: the call
    (step and parameters, JSON), the library to dot-source, the script; each UTF-8 base64."""
    b64 = lambda text: base64.b64encode(text.encode("utf-8"))  # noqa: E731
    call = json.dumps({"step": step, "params": dict(params)}, ensure_ascii=False)
    return b"\r\n".join([b64(call), b64(library), b64(script), b""])


def rechunk(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Re-cut a byte stream into pieces of at most `size` bytes (one WS-Man Send each)."""
    buf = bytearray()
    for piece in pieces:
        buf += piece
        while len(buf) >= size:
            yield bytes(buf[:size])
            del buf[:size]
    if buf:
        yield bytes(buf)


def quote(text: str) -> str:
    """A PowerShell single-quoted literal (only ' needs doubling; also the typographic quotes)."""
    return "'" + re.sub(r"(['\u2018\u2019\u201a\u201b])", r"\1\1", text) + "'"


def command_script(command: Command, env: Mapping[str, str] | None, cwd: str | None) -> str:
    """An ad-hoc command as a script: argv is called with `&`, a string runs as PowerShell."""
    lines = []
    for name, value in (env or {}).items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"not an environment variable name: {name!r}")
        lines.append(f"$env:{name} = {quote(value)}")
    if cwd:
        lines.append(f"Set-Location -LiteralPath {quote(cwd)}")
    if isinstance(command, str):
        lines.append(command)
    else:
        lines.append("& " + " ".join(quote(a) for a in command))
    lines.append("exit $LASTEXITCODE")
    return "\n".join(lines) + "\n"


MAX_PROCESS_CMDLINE = 32767  # CreateProcess: run_hook.ps1 starts the hook's process directly, not via cmd.exe
HOOK_PRELUDE = """Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
$global:LASTEXITCODE = 0
"""


def hook_invocation(command: str) -> tuple[str, str]:
    """(shell, text) for run_hook.ps1. A `.cmd`/`.bat` hook runs under cmd.exe as written; any other
    hook is PowerShell, wrapped so that unset variables and cmdlet errors fail it (Set-StrictMode
    -Version Latest, $ErrorActionPreference = 'Stop') and its last exit code is the process's."""
    if re.match(r"""\s*("[^"]+\.(cmd|bat)"|\S+\.(cmd|bat))(\s|$)""", command, re.I):
        return "cmd", command
    script = f"{HOOK_PRELUDE}{command}\nexit $LASTEXITCODE\n"
    line = POWERSHELL + encode_command(script)
    if len(line) > MAX_PROCESS_CMDLINE:
        raise ValueError(f"hook of {len(command)} characters is too long for one process command line "
                         f"({len(line)} > {MAX_PROCESS_CMDLINE} once encoded): put it in a .ps1 file in the app")
    return "powershell", script


# ---------------------------------------------------------------- stderr (CLIXML)

_CLIXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def clean_stderr(raw: str) -> str:
    """Readable text from PowerShell's stderr: CLIXML error strings decoded, progress
    records dropped, plain text kept, also when it follows an `<Objs>` document (the
    bootstrap writes warning records as plain lines after powershell.exe's own CLIXML).
    Unlike pywinrm, pure-progress CLIXML cleans to ''."""
    out: list[str] = []
    first, *after_headers = re.split(r"#< CLIXML\r?\n", raw)
    out.append(first.strip())
    for block in after_headers:
        for part in re.split(r"(<Objs\b.*?</Objs>)", block, flags=re.S):
            out.extend(_clixml_strings(part) if part.startswith("<Objs") else [part.strip()])
    return "\n".join(part for part in out if part).strip()


def _clixml_strings(block: str) -> list[str]:
    try:
        root = ET.fromstring(block.strip())
    except ET.ParseError:
        return [block.strip()]
    texts = []
    for node in root.iter():
        if node.tag.rsplit("}", 1)[-1] == "S" and node.get("S") in ("Error", "Warning", "Verbose", "Debug"):
            texts.append(_CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), node.text or ""))
    return ["".join(texts).replace("\r\n", "\n").strip()] if texts else []


# ---------------------------------------------------------------- the one-JSON-line answer


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ok: bool
    step: str
    data: Any = None
    error: str | None = None


class ProtocolError(ShipyardError):
    """A script's answer broke the one-JSON-line contract (or its schema)."""

    def __init__(self, host: str, step: str, problem: str, result: Result):
        self.host, self.step, self.problem, self.result = host, step, problem, result
        tail = (result.stdout.strip().splitlines() or [""])[-1][:200]
        super().__init__(f"{host}: {step}: {problem} (rc {result.rc}; last stdout line: {tail!r})")


class ScriptFailed(StepFailed):
    """A script ran and answered ok=false: its own error message, with the result."""

    def __init__(self, host: str, step: str, error: str, result: Result):
        self.result = result
        super().__init__(host, step, error)


@dataclass(frozen=True)
class Answer:
    step: str
    data: Any
    result: Result


def parse_answer(result: Result, step: str, schema: type[BaseModel] | None = None) -> Answer:
    """Validate the answer: one JSON line, the expected step, ok agreeing with rc, data
    matching `schema`. Raise ScriptFailed on ok=false, ProtocolError on anything else."""
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if len(lines) != 1:
        raise ProtocolError(result.host, step, f"expected one JSON line on stdout, got {len(lines)}", result)
    try:
        envelope = Envelope.model_validate(json.loads(lines[0]))
    except (ValueError, ValidationError) as e:
        raise ProtocolError(result.host, step, f"answer is not the JSON envelope: {e}".splitlines()[0], result) from None
    if not envelope.ok:
        raise ScriptFailed(result.host, envelope.step, envelope.error or f"failed (rc {result.rc})", result)
    if envelope.step != step:
        raise ProtocolError(result.host, step, f"answer is from step {envelope.step!r}", result)
    if result.rc != 0:
        raise ProtocolError(result.host, step, "ok=true but a non-zero exit code", result)
    data = envelope.data
    if schema is not None:
        try:
            data = schema.model_validate(data)
        except ValidationError as e:
            raise ProtocolError(result.host, step, f"data does not match {schema.__name__}: {e}", result) from None
    return Answer(step, data, result)


def load_script(name: str) -> str:
    """The text of scripts/ps1/<name>.ps1, sent verbatim (BOM stripped)."""
    return (SCRIPTS_DIR / f"{name}.ps1").read_text(encoding="utf-8-sig")


def load_library() -> str:
    """scripts/ps1/lib/Shipyard.ps1: the functions the bootstrap dot-sources for every script."""
    return LIBRARY.read_text(encoding="utf-8-sig")


# ---------------------------------------------------------------- the transport half


class PowerShellTransport(Transport):
    """A transport whose host speaks PowerShell. Subclasses run the bootstrap command
    line with a stream of stdin bytes; everything else is shared."""

    @abstractmethod
    def _execute(self, command_line: str, stdin: Iterable[bytes], *, timeout: float, label: str) -> tuple[bytes, bytes, int]:
        """Run `command_line` on the host feeding `stdin`; (stdout, stderr, rc). Raise
        CommandTimeout naming `label` after `timeout` seconds."""

    def run_powershell(
        self, script: str, params: Mapping[str, Any] | None = None, *, timeout: float,
        stdin: Iterable[bytes] = (), label: str = "powershell", command: Command | None = None,
        step: str | None = None,
    ) -> Result:
        """Run `script` through the bootstrap; with `step`, inside the answer envelope (and with
        the library), else as an ad-hoc command whose output and exit code are its own."""
        started = time.monotonic()
        frame = stdin_frame(script, params or {}, step, load_library() if step else "")
        feed = itertools.chain([frame], stdin)
        out, err, rc = self._execute(BOOTSTRAP_COMMAND_LINE, feed, timeout=timeout, label=label)
        return Result(
            self.name, command if command is not None else label, rc,
            out.decode("utf-8", "replace"), clean_stderr(err.decode("utf-8", "replace")),
            time.monotonic() - started,
        )

    def call(self, name: str, params: Mapping[str, Any], *, timeout: float, stdin: Iterable[bytes] = ()) -> Any:
        """Run scripts/ps1/<name>.ps1 with `params`; its data, validated against SCHEMAS[name]."""
        result = self.run_powershell(load_script(name), params, timeout=timeout, stdin=stdin, label=f"{name}.ps1",
                                     step=name)
        return parse_answer(result, name, SCHEMAS[name]).data

    def put_over_smb(self, smb: "SmbTransfer", local: Path, remote: str, expected: str, roots: Sequence[str] = ()) -> None:
        """Copy to `remote`.part over SMB, then let the host hash it and move it into place
        (only inside `roots`, links followed, when given)."""
        sent = smb.copy(local, remote + ".part")
        if sent != expected:
            raise ArtifactError(f"{self.name}: {local} changed while it was copied (sha256 {sent} != {expected})")
        self.call("verify_file", {"Path": remote + ".part", "Destination": remote, "Sha256": expected,
                                  "Roots": list(roots)}, timeout=600)
        self.transferred_bytes += local.stat().st_size

    def get(self, remote: str, local: Path) -> None:
        """Small files only (journal, logs): the content comes back inside the JSON answer."""
        data = self.call("get_file", {"Path": remote}, timeout=300)
        content = base64.b64decode(data.content)
        if hashlib.sha256(content).hexdigest() != data.sha256:
            raise ArtifactError(f"{self.name}: {remote}: sha256 mismatch after download")
        local.write_bytes(content)

    def run(self, command: Command, *, timeout: float, env=None, stdin=None, cwd=None, check=True) -> Result:
        script = command_script(command, env, cwd)
        label = Result(self.name, command, 0, "", "", 0).display_command
        result = self.run_powershell(script, {}, timeout=timeout, stdin=[stdin] if stdin else (),
                                     label=label, command=command)
        return self._checked(result, check)
