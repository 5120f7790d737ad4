"""The WinRS cmd shell service behind the fake endpoint, as strict as a default Windows Server.

Each rule below is one thing Windows refuses or enforces (and each has a test in
test_wsman_rules.py): OperationTimeout above MaxTimeoutms, a client MaxEnvelopeSize
below the minimum, requests over MaxEnvelopeSizekb, replies sized to the client's
MaxEnvelopeSize, an unknown WINRS_CODEPAGE, MaxShellsPerUser, idle shells expiring,
unknown ShellId/CommandId, Receive blocking until a stdin-reading command got stdin End,
Send after End or after the command finished, unknown Signal codes, MaxMemoryPerShellMB,
cmd.exe's 8191-character command line, and w:TimedOut faults on demand.
"""

from __future__ import annotations

import base64
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable

from tests.integration.windows.wsman_faults import (
    ACTION_NOT_SUPPORTED, ENVELOPE_TOO_BIG, INVALID_CODEPAGE, INVALID_HEADER, INVALID_PARAMETER, INVALID_SELECTORS, NS,
    PIPE_CLOSED, QUOTA_TEXT, SHELL_NOT_FOUND, SHELL_QUOTA, TIMED_OUT, TIMED_OUT_TEXT, TIMEOUT_NOT_SUPPORTED, Fault,
)

SHELL = NS["rsp"]
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
ACTIONS = {f"{TRANSFER}/Create": "Create", f"{SHELL}/Command": "Command", f"{SHELL}/Send": "Send",
           f"{SHELL}/Receive": "Receive", f"{SHELL}/Signal": "Signal", f"{TRANSFER}/Delete": "Delete",
           f"{TRANSFER}/Get": "Get"}
CMD_RESOURCE = f"{SHELL}/cmd"
CONFIG_RESOURCE = "http://schemas.microsoft.com/wbem/wsman/1/config"
SIGNALS = {f"{SHELL}/signal/{name}" for name in ("terminate", "ctrl_c", "ctrl_break")}
MAX_CMDLINE = 8191
MIN_CLIENT_ENVELOPE = 8192  # DSP0226: MaxEnvelopeSize below 8192 octets is an EncodingLimit fault
CODEPAGES = {437, 850, 852, 855, 857, 860, 861, 862, 863, 865, 866, 869, 874, 932, 936, 949, 950, 1200, 1250,
             1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258, 20127, 28591, 65000, 65001}
REPLY_OVERHEAD = 2048  # SOAP header and stream elements around the base64 output of one Receive

Handler = Callable[[str, bytes], tuple[bytes, bytes, int]]


@dataclass
class ServerConfig:
    """A default Windows Server's WinRM settings (`winrm get winrm/config`); tests change fields."""

    max_timeout_ms: int = 60000
    max_envelope_kb: int = 500
    max_shells_per_user: int = 30
    max_memory_per_shell_mb: int = 2048
    idle_timeout: float = 7200.0
    allow_basic: bool = False  # Service/Auth/Basic
    allow_unencrypted: bool = False  # Service/AllowUnencrypted (plain SOAP over HTTP)
    cbt_hardening: str = "Relaxed"  # Service/Auth/CbtHardeningLevel: Strict refuses NTLM over HTTPS without CBT
    config_readable: bool = True  # an administrator may read winrm/config over WS-Man


@dataclass
class CommandRecord:
    shell_id: str
    command_id: str
    command_line: str
    options: dict[str, str] = field(default_factory=dict)
    stdin: bytearray = field(default_factory=bytearray)
    sends: list[int] = field(default_factory=list)  # base64 text length of each Send
    stdin_closed: bool = False
    signals: list[str] = field(default_factory=list)
    output: tuple[bytes, bytes, int] | None = None
    delivered: int = 0
    done: bool = False
    timeouts_left: int = 0
    running: Future | None = None  # the handler's answer while it runs (a thread of its own)

    @property
    def script(self) -> str | None:
        """The PowerShell of a `powershell ... -EncodedCommand <b64>` line, decoded."""
        m = re.search(r"-EncodedCommand\s+(\S+)", self.command_line, re.I)
        return base64.b64decode(m.group(1)).decode("utf-16-le") if m else None


def reads_stdin(command_line: str) -> bool:
    """Commands that wait for stdin before they can finish: `powershell -` runs what it reads, and an
    encoded script that reads [Console]::In or $input (Shipyard's bootstrap) waits for it."""
    if re.search(r"\s-$", command_line):
        return True
    script = CommandRecord("", "", command_line).script or ""
    return "[Console]::In" in script or "$input" in script.lower()


class WinRS:
    def __init__(self, handler: Handler, config: ServerConfig):
        self.handler, self.config = handler, config
        self.verbs: list[str] = []
        self.commands: list[CommandRecord] = []
        self.shells: dict[str, dict] = {}
        self.deleted: list[str] = []
        self.expired: list[str] = []
        self.reply_limits: list[tuple[int, int]] = []  # (client MaxEnvelopeSize, reply size) per answer
        self.timeouts_before_output = 0
        self.send_timeouts = 0  # Sends answered w:TimedOut (data not taken) before one succeeds
        self.hang: Callable[[CommandRecord], bool] = lambda record: False
        self.memory_mb: Callable[[CommandRecord], int] = lambda record: 64
        self.stdin_readers: Callable[[str], bool] = reads_stdin
        self.output_chunk = 64 * 1024  # most output bytes per Receive (the client's envelope may allow fewer)

    # -------------------------------------------------------------- entry
    def dispatch(self, root: ET.Element, action: str, user: str) -> str:
        verb = ACTIONS.get(action)
        if verb is None:
            raise Fault(ACTION_NOT_SUPPORTED, "w:ActionNotSupported", f"unknown action {action}")
        self._check_headers(root)
        self.verbs.append(verb)
        resource = _text(root, "s:Header/w:ResourceURI")
        if verb == "Get":
            return self._get(resource)
        if resource != CMD_RESOURCE:
            raise Fault(INVALID_HEADER, "w:InvalidResourceURI", "resource URI must be the cmd shell")
        if verb == "Create":
            return self._create(root, user)
        shell_id = self._shell_id(root)
        return getattr(self, f"_{verb.lower()}")(shell_id, root.find("s:Body", NS), root)

    def reply_budget(self, root: ET.Element) -> int:
        return int(_text(root, "s:Header/w:MaxEnvelopeSize"))

    def _check_headers(self, root: ET.Element) -> None:
        if not _text(root, "s:Header/a:MessageID").startswith("uuid:"):
            raise Fault(INVALID_HEADER, "w:InvalidHeader", "MessageID must be uuid:...")
        timeout = _DURATION.fullmatch(_text(root, "s:Header/w:OperationTimeout"))
        if timeout is None:
            raise Fault(INVALID_HEADER, "w:InvalidHeader", "OperationTimeout is not an xs:duration")
        if float(timeout.group(1)) * 1000 > self.config.max_timeout_ms:
            raise Fault(TIMEOUT_NOT_SUPPORTED, "w:UnsupportedFeature",
                        f"The WS-Management service cannot process the request because the OperationTimeout of "
                        f"{timeout.group(1)} s exceeds the MaxTimeoutms of {self.config.max_timeout_ms} ms.",
                        detail="OperationTimeout")
        if self.reply_budget(root) < MIN_CLIENT_ENVELOPE:
            raise Fault(ENVELOPE_TOO_BIG, "w:EncodingLimit", f"MaxEnvelopeSize must be at least {MIN_CLIENT_ENVELOPE}",
                        detail="MaxEnvelopeSize")

    def _shell_id(self, root: ET.Element) -> str:
        selector = root.find("s:Header/w:SelectorSet/w:Selector[@Name='ShellId']", NS)
        shell_id = selector.text if selector is not None else ""
        shell = self.shells.get(shell_id)
        if shell is not None and time.monotonic() - shell["used"] > self.config.idle_timeout:
            del self.shells[shell_id]  # IdleTimeout: Windows deletes the shell by itself
            self.expired.append(shell_id)
            shell = None
        if shell is None:
            raise Fault(INVALID_SELECTORS, "w:InvalidSelectors", SHELL_NOT_FOUND.format(id=shell_id))
        shell["used"] = time.monotonic()
        return shell_id

    def expire_idle_shells(self) -> None:
        """As if every shell had been idle for longer than IdleTimeout."""
        for shell in self.shells.values():
            shell["used"] = -1e12

    # -------------------------------------------------------------- verbs
    def _get(self, resource: str) -> str:
        if resource != CONFIG_RESOURCE or not self.config.config_readable:
            raise Fault(5, "w:AccessDenied", "Access is denied.")
        return config_document(self.config)

    def _create(self, root: ET.Element, user: str) -> str:
        shell = root.find("s:Body/rsp:Shell", NS)
        if shell is None or shell.findtext("rsp:InputStreams", "", NS) != "stdin":
            raise Fault(INVALID_HEADER, "w:InvalidBody", "rsp:Shell with InputStreams stdin expected")
        options = _options(root)
        codepage = options.get("WINRS_CODEPAGE", "437")
        if not codepage.isdigit() or int(codepage) not in CODEPAGES:
            raise Fault(INVALID_CODEPAGE, "w:InvalidOptions", f"The WS-Management service cannot process the request "
                        f"because the code page {codepage} specified in WINRS_CODEPAGE is not valid.")
        if sum(1 for s in self.shells.values() if s["user"] == user) >= self.config.max_shells_per_user:
            raise Fault(SHELL_QUOTA, "w:QuotaLimit", QUOTA_TEXT.format(n=self.config.max_shells_per_user))
        shell_id = str(uuid.uuid4()).upper()
        self.shells[shell_id] = {"options": options, "commands": {}, "user": user, "used": time.monotonic()}
        return (f'<x:ResourceCreated xmlns:x="{TRANSFER}"><a:Address>http://fake/wsman</a:Address>'
                f'<a:ReferenceParameters><w:ResourceURI>{CMD_RESOURCE}</w:ResourceURI><w:SelectorSet>'
                f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
                f'</x:ResourceCreated><rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId>'
                f'<rsp:IdleTimeOut>PT{self.config.idle_timeout:.3f}S</rsp:IdleTimeOut></rsp:Shell>')

    def _command(self, shell_id: str, body: ET.Element, root: ET.Element) -> str:
        line = body.find("rsp:CommandLine", NS)
        if line is None:
            raise Fault(INVALID_HEADER, "w:InvalidBody", "rsp:CommandLine expected")
        words = [(line.findtext("rsp:Command", "", NS) or "").strip('"')] + [a.text or "" for a in line.findall("rsp:Arguments", NS)]
        record = CommandRecord(shell_id, str(uuid.uuid4()).upper(), " ".join(w for w in words if w), _options(root))
        record.timeouts_left = self.timeouts_before_output
        if len(record.command_line) > MAX_CMDLINE:  # cmd.exe refuses; WinRS reports it as output
            record.output = (b"", b"The command line is too long.\r\n", 1)
        self.shells[shell_id]["commands"][record.command_id] = record
        self.commands.append(record)
        return f"<rsp:CommandResponse><rsp:CommandId>{record.command_id}</rsp:CommandId></rsp:CommandResponse>"

    def _record(self, shell_id: str, command_id: str | None) -> CommandRecord:
        record = self.shells[shell_id]["commands"].get(command_id)
        if record is None:
            raise Fault(INVALID_SELECTORS, "w:InvalidSelectors", f"The Windows Remote Shell received a request to "
                        f"perform an operation on a command identifier that does not exist: {command_id}")
        return record

    def _send(self, shell_id: str, body: ET.Element, root: ET.Element) -> str:
        stream = body.find("rsp:Send/rsp:Stream", NS)
        if stream is None or stream.get("Name") != "stdin":
            raise Fault(INVALID_HEADER, "w:InvalidBody", "rsp:Stream Name=stdin expected")
        record = self._record(shell_id, stream.get("CommandId"))
        if record.done:
            raise Fault(PIPE_CLOSED, "w:InternalError", "The pipe is being closed.")
        if record.stdin_closed:
            raise Fault(INVALID_PARAMETER, "w:InvalidParameter", "stdin already closed (End=true was sent)")
        if self.send_timeouts > 0:
            self.send_timeouts -= 1
            raise Fault(TIMED_OUT, "w:TimedOut", TIMED_OUT_TEXT)
        record.sends.append(len(stream.text or ""))
        record.stdin += base64.b64decode(stream.text or "")
        record.stdin_closed = (stream.get("End") or "").lower() == "true"
        return "<rsp:SendResponse/>"

    def _receive(self, shell_id: str, body: ET.Element, root: ET.Element) -> str:
        desired = body.find("rsp:Receive/rsp:DesiredStream", NS)
        if desired is None:
            raise Fault(INVALID_HEADER, "w:InvalidBody", "rsp:DesiredStream expected")
        record = self._record(shell_id, desired.get("CommandId"))
        waiting = record.output is None and self.stdin_readers(record.command_line) and not record.stdin_closed
        if waiting or self.hang(record) or record.timeouts_left > 0:
            record.timeouts_left -= 0 if waiting else 1
            raise Fault(TIMED_OUT, "w:TimedOut", TIMED_OUT_TEXT)
        if record.output is None:
            record.output = self._run_within(record, _seconds(root))
        return self._output_chunk(record, self.reply_budget(root))

    def _run_within(self, record: CommandRecord, seconds: float) -> tuple[bytes, bytes, int]:
        """As WinRS: the command runs on while each Receive answers w:TimedOut after OperationTimeout,
        so a slow handler never holds a reply past the client's read timeout."""
        if record.running is None:
            record.running = Future()
            threading.Thread(target=self._run_into, args=(record, record.running), daemon=True).start()
        try:
            return record.running.result(timeout=seconds)
        except TimeoutError:
            raise Fault(TIMED_OUT, "w:TimedOut", TIMED_OUT_TEXT) from None

    def _run_into(self, record: CommandRecord, answer: Future) -> None:
        try:
            answer.set_result(self._run(record))
        except BaseException as e:  # raised again by the Receive that collects it
            answer.set_exception(e)

    def _run(self, record: CommandRecord) -> tuple[bytes, bytes, int]:
        if self.memory_mb(record) > self.config.max_memory_per_shell_mb:  # WinRM ends the process at the quota
            return b"", b"Exception of type 'System.OutOfMemoryException' was thrown.\r\n", -532462766
        return self.handler(record.command_line, bytes(record.stdin))

    def _output_chunk(self, record: CommandRecord, budget: int) -> str:
        out, err, rc = record.output  # type: ignore[misc]
        room = max(1, min(self.output_chunk, (budget - REPLY_OVERHEAD) * 3 // 4))
        pos, end = record.delivered, min(record.delivered + room, len(out) + len(err))
        pieces = [("stdout", out[pos:end]), ("stderr", err[max(pos - len(out), 0):max(end - len(out), 0)])]
        streams = [f'<rsp:Stream Name="{n}" CommandId="{record.command_id}">{base64.b64encode(p).decode()}</rsp:Stream>'
                   for n, p in pieces if p]
        record.delivered = end
        record.done = end >= len(out) + len(err)
        if record.done:
            streams += [f'<rsp:Stream Name="{n}" CommandId="{record.command_id}" End="true"></rsp:Stream>' for n in ("stdout", "stderr")]
            state = (f'<rsp:CommandState CommandId="{record.command_id}" State="{SHELL}/CommandState/Done">'
                     f'<rsp:ExitCode>{rc}</rsp:ExitCode></rsp:CommandState>')
        else:
            state = f'<rsp:CommandState CommandId="{record.command_id}" State="{SHELL}/CommandState/Running"/>'
        return f"<rsp:ReceiveResponse>{''.join(streams)}{state}</rsp:ReceiveResponse>"

    def _signal(self, shell_id: str, body: ET.Element, root: ET.Element) -> str:
        signal = body.find("rsp:Signal", NS)
        if signal is None:
            raise Fault(INVALID_HEADER, "w:InvalidBody", "rsp:Signal expected")
        code = (signal.findtext("rsp:Code", "", NS) or "").strip()
        if code not in SIGNALS:
            raise Fault(INVALID_PARAMETER, "w:InvalidParameter", "The parameter is incorrect.")
        record = self._record(shell_id, signal.get("CommandId"))
        record.signals.append(code.rsplit("/", 1)[-1])
        del self.shells[shell_id]["commands"][record.command_id]
        return "<rsp:SignalResponse/>"

    def _delete(self, shell_id: str, body: ET.Element, root: ET.Element) -> str:
        del self.shells[shell_id]
        self.deleted.append(shell_id)
        return ""


def _text(root: ET.Element, path: str) -> str:
    node = root.find(path, NS)
    if node is None or not (node.text or "").strip():
        raise Fault(INVALID_HEADER, "w:InvalidHeader", f"{path} missing")
    return node.text.strip()


def _options(root: ET.Element) -> dict[str, str]:
    return {o.get("Name"): (o.text or "") for o in root.findall("s:Header/w:OptionSet/w:Option", NS)}


def config_document(config: ServerConfig) -> str:
    """What a Get of winrm/config answers (the shape recorded from real servers, trimmed)."""
    return (f'<cfg:Config xmlns:cfg="{CONFIG_RESOURCE}"><cfg:MaxEnvelopeSizekb>{config.max_envelope_kb}</cfg:MaxEnvelopeSizekb>'
            f'<cfg:MaxTimeoutms>{config.max_timeout_ms}</cfg:MaxTimeoutms><cfg:MaxBatchItems>32000</cfg:MaxBatchItems>'
            f'<cfg:Service><cfg:AllowUnencrypted>{str(config.allow_unencrypted).lower()}</cfg:AllowUnencrypted><cfg:Auth>'
            f'<cfg:Basic>{str(config.allow_basic).lower()}</cfg:Basic><cfg:Negotiate>true</cfg:Negotiate>'
            f'<cfg:CbtHardeningLevel>{config.cbt_hardening}</cfg:CbtHardeningLevel></cfg:Auth></cfg:Service>'
            f'<cfg:Winrs><cfg:IdleTimeout>{int(config.idle_timeout * 1000)}</cfg:IdleTimeout>'
            f'<cfg:MaxMemoryPerShellMB>{config.max_memory_per_shell_mb}</cfg:MaxMemoryPerShellMB>'
            f'<cfg:MaxShellsPerUser>{config.max_shells_per_user}</cfg:MaxShellsPerUser></cfg:Winrs></cfg:Config>')


_DURATION = re.compile(r"PT(\d+(?:\.\d+)?)S")


def _seconds(root: ET.Element) -> float:
    """The request's OperationTimeout (checked well-formed by _check_headers)."""
    return float(_DURATION.fullmatch(_text(root, "s:Header/w:OperationTimeout")).group(1))
