"""A strict WS-Management (WinRS cmd shell) endpoint on loopback for tests.

Strict where Windows is strict (WINDOWS.md §1/§2): Basic auth or 401, SOAP 1.2
content type, RelatesTo echoing every MessageID, the ShellId selector, known
CommandIds, cmd.exe's 8191-character command line, the 500 KB envelope limit,
operation time-out faults (HTTP 500, WSManFault 2150858793). Loose where clients
vary (prefixes, header order, a:To). Answers are built here from string
templates, not with any client's serializer.

A `handler(command_line, stdin) -> (stdout, stderr, rc)` decides what a command
does; everything the endpoint received is recorded for assertions.
"""

from __future__ import annotations

import base64
import re
import socket
import ssl
import threading
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from tests.integration.windows import ntlm_wire

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
}
SHELL = NS["rsp"]
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "Create",
    f"{SHELL}/Command": "Command",
    f"{SHELL}/Send": "Send",
    f"{SHELL}/Receive": "Receive",
    f"{SHELL}/Signal": "Signal",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "Delete",
}
CMD_RESOURCE = f"{SHELL}/cmd"
MAX_CMDLINE = 8191
MAX_ENVELOPE = 512000  # MaxEnvelopeSizekb = 500, the Windows Server default
TIMED_OUT = 2150858793  # 0x80338029
ENVELOPE_TOO_BIG = 2150859025  # 0x80338111
UNEXPECTED_SELECTORS = 2150858843  # 0x8033805B

Handler = Callable[[str, bytes], tuple[bytes, bytes, int]]


class Fault(Exception):
    def __init__(self, code: int, subcode: str, reason: str, http: int = 500):
        self.code, self.subcode, self.reason, self.http = code, subcode, reason, http
        super().__init__(reason)


@dataclass
class CommandRecord:
    shell_id: str
    command_id: str
    command_line: str
    stdin: bytearray = field(default_factory=bytearray)
    sends: list[int] = field(default_factory=list)  # base64 text length of each Send
    stdin_closed: bool = False
    signals: list[str] = field(default_factory=list)
    output: tuple[bytes, bytes, int] | None = None
    delivered: int = 0
    timeouts_left: int = 0

    @property
    def script(self) -> str | None:
        """The PowerShell of a `powershell ... -EncodedCommand <b64>` line, decoded."""
        m = re.search(r"-EncodedCommand\s+(\S+)", self.command_line, re.I)
        return base64.b64decode(m.group(1)).decode("utf-16-le") if m else None


class FakeWSMan:
    """Start with `with FakeWSMan(handler) as fake:`; `fake.url` is the endpoint."""

    def __init__(self, handler: Handler, username: str = "deployer", password: str = "S3cret-pw!", auth: str = "basic",
                 tls: ssl.SSLContext | None = None):
        """`auth="ntlm"`: NTLM handshake per connection, then every body must be MS-WSMV
        encrypted (what Windows enforces with AllowUnencrypted=false); NTLM_USER_FILE must
        name a file from ntlm_wire.credentials_file()."""
        self.handler, self.username, self.password, self.auth, self.tls = handler, username, password, auth, tls
        self.raw_bodies: list[bytes] = []  # exactly what came over the wire
        self.verbs: list[str] = []
        self.commands: list[CommandRecord] = []
        self.shells: dict[str, dict] = {}
        self.deleted: list[str] = []
        self.envelope_sizes: list[int] = []
        self.timeouts_before_output = 0
        self.hang: Callable[[CommandRecord], bool] = lambda record: False
        self.output_chunk = 64 * 1024  # bytes of output per Receive answer
        self.break_relates_to = False
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -------------------------------------------------------------- lifecycle
    def __enter__(self) -> "FakeWSMan":
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # headers and body go out separately: no Nagle/delayed-ACK stalls
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:  # noqa: N802
                fake._serve(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/wsman"

    # -------------------------------------------------------------- HTTP
    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        raw = http.rfile.read(int(http.headers.get("Content-Length", 0)))
        self.raw_bodies.append(raw)
        if http.path != "/wsman":
            return _send(http, 404, b"", "text/plain")
        body = self._authenticated_body(http, raw)
        if body is None:
            return
        self.envelope_sizes.append(len(body))
        message_id, action = "", ""
        try:
            if len(body) > MAX_ENVELOPE:
                raise Fault(ENVELOPE_TOO_BIG, "w:EncodingLimit", f"envelope of {len(body)} bytes exceeds MaxEnvelopeSizekb")
            root = ET.fromstring(body)
            message_id = _text(root, "s:Header/a:MessageID")
            action = _text(root, "s:Header/a:Action")
            payload = self._dispatch(root, action)
            relates = "uuid:00000000-0000-0000-0000-000000000000" if self.break_relates_to else message_id
            self._answer(http, 200, _envelope(action + "Response", relates, payload).encode("utf-8"))
        except Fault as f:
            self._answer(http, f.http, _fault(message_id, f).encode("utf-8"))
        except Exception as e:  # a closed socket would hide the problem: answer a fault
            fault = Fault(2150858752, "w:InternalError", f"fake: {type(e).__name__}: {e}")
            self._answer(http, 500, _fault(message_id, fault).encode())

    # -------------------------------------------------------------- auth and encryption
    def _authenticated_body(self, http: BaseHTTPRequestHandler, raw: bytes) -> bytes | None:
        """The plaintext SOAP body, or None after answering 401/415 ourselves."""
        header = http.headers.get("Authorization", "")
        content_type = http.headers.get("Content-Type", "")
        if self.auth == "basic":
            expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if header != expected:
                return _send(http, 401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="WSMAN"'})
            if not content_type.startswith("application/soap+xml"):
                return _send(http, 415, b"", "text/plain")
            return raw
        context = getattr(http, "ntlm", None)
        if header:
            if context is None or context.complete:
                context = http.ntlm = ntlm_wire.new_acceptor()
            try:
                challenge, complete = ntlm_wire.accept_step(context, header)
            except Exception:
                http.ntlm = None
                return _send(http, 401, b"", "text/plain", {"WWW-Authenticate": "Negotiate"})
            if not complete:
                return _send(http, 401, b"", "text/plain", {"WWW-Authenticate": challenge})
        elif context is None or not context.complete:
            return _send(http, 401, b"", "text/plain", {"WWW-Authenticate": "Negotiate"})
        if not raw:
            return _send(http, 200, b"", "text/plain")  # pywinrm's blank request that sets up the context
        try:
            return ntlm_wire.decrypt(http.ntlm, raw, content_type)
        except Exception:  # Windows refuses unencrypted traffic over HTTP by default
            return _send(http, 401, b"", "text/plain", {"WWW-Authenticate": "Negotiate"})

    def _answer(self, http: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        if self.auth == "basic":
            return _send(http, status, body)
        _send(http, status, ntlm_wire.encrypt(http.ntlm, body), ntlm_wire.CONTENT_TYPE)

    # -------------------------------------------------------------- WinRS verbs
    def _dispatch(self, root: ET.Element, action: str) -> str:
        verb = ACTIONS.get(action)
        if verb is None:
            raise Fault(2150858770, "w:ActionNotSupported", f"unknown action {action}")
        if _text(root, "s:Header/w:ResourceURI") != CMD_RESOURCE:
            raise Fault(2150858778, "w:InvalidResourceURI", "resource URI must be the cmd shell")
        if not re.fullmatch(r"PT\d+(\.\d+)?S", _text(root, "s:Header/w:OperationTimeout")):
            raise Fault(2150858778, "w:InvalidHeader", "OperationTimeout missing")
        if not _text(root, "s:Header/a:MessageID").startswith("uuid:"):
            raise Fault(2150858778, "w:InvalidHeader", "MessageID must be uuid:...")
        with self._lock:
            self.verbs.append(verb)
            if verb == "Create":
                return self._create(root)
            shell_id = self._shell_id(root)
            body = root.find("s:Body", NS)
            return getattr(self, f"_{verb.lower()}")(shell_id, body)

    def _shell_id(self, root: ET.Element) -> str:
        selector = root.find("s:Header/w:SelectorSet/w:Selector[@Name='ShellId']", NS)
        if selector is None or selector.text not in self.shells:
            raise Fault(UNEXPECTED_SELECTORS, "w:InvalidSelectors", "no such ShellId")
        return selector.text

    def _create(self, root: ET.Element) -> str:
        shell = root.find("s:Body/rsp:Shell", NS)
        if shell is None or (shell.findtext("rsp:InputStreams", "", NS) != "stdin"):
            raise Fault(2150858778, "w:InvalidBody", "rsp:Shell with InputStreams stdin expected")
        options = {o.get("Name"): o.text for o in root.findall("s:Header/w:OptionSet/w:Option", NS)}
        shell_id = str(uuid.uuid4()).upper()
        self.shells[shell_id] = {"options": options, "commands": {}}
        return (f'<x:ResourceCreated xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer">'
                f'<a:Address>http://127.0.0.1:{self.port}/wsman</a:Address><a:ReferenceParameters>'
                f'<w:ResourceURI>{CMD_RESOURCE}</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">'
                f'{shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>'
                f'<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId></rsp:Shell>')

    def _command(self, shell_id: str, body: ET.Element) -> str:
        line = body.find("rsp:CommandLine", NS)
        if line is None:
            raise Fault(2150858778, "w:InvalidBody", "rsp:CommandLine expected")
        text = (line.findtext("rsp:Command", "", NS) or "").strip('"')
        args = line.findtext("rsp:Arguments", "", NS)
        record = CommandRecord(shell_id, str(uuid.uuid4()).upper(), f"{text} {args}".strip())
        record.timeouts_left = self.timeouts_before_output
        if len(record.command_line) > MAX_CMDLINE:  # cmd.exe refuses; WinRS reports it as output
            record.output = (b"", b"The command line is too long.\r\n", 1)
        self.shells[shell_id]["commands"][record.command_id] = record
        self.commands.append(record)
        return f"<rsp:CommandResponse><rsp:CommandId>{record.command_id}</rsp:CommandId></rsp:CommandResponse>"

    def _record(self, shell_id: str, command_id: str | None) -> CommandRecord:
        record = self.shells[shell_id]["commands"].get(command_id)
        if record is None:
            raise Fault(2150858843, "w:InvalidSelectors", f"no such CommandId {command_id}")
        return record

    def _send(self, shell_id: str, body: ET.Element) -> str:
        stream = body.find("rsp:Send/rsp:Stream", NS)
        if stream is None or stream.get("Name") != "stdin":
            raise Fault(2150858778, "w:InvalidBody", "rsp:Stream Name=stdin expected")
        record = self._record(shell_id, stream.get("CommandId"))
        if record.stdin_closed:
            raise Fault(2150858778, "w:InvalidBody", "stdin already closed (End=true was sent)")
        record.sends.append(len(stream.text or ""))
        record.stdin += base64.b64decode(stream.text or "")
        record.stdin_closed = stream.get("End") == "true"
        return "<rsp:SendResponse/>"

    def _receive(self, shell_id: str, body: ET.Element) -> str:
        desired = body.find("rsp:Receive/rsp:DesiredStream", NS)
        if desired is None:
            raise Fault(2150858778, "w:InvalidBody", "rsp:DesiredStream expected")
        record = self._record(shell_id, desired.get("CommandId"))
        if self.hang(record) or record.timeouts_left > 0:
            record.timeouts_left -= 1
            raise Fault(TIMED_OUT, "w:TimedOut", "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.")
        if record.output is None:
            record.output = self.handler(record.command_line, bytes(record.stdin))
        return self._output_chunk(record)

    def _output_chunk(self, record: CommandRecord) -> str:
        out, err, rc = record.output  # type: ignore[misc]
        both = [("stdout", out), ("stderr", err)]
        pos = record.delivered
        end = min(pos + self.output_chunk, len(out) + len(err))
        pieces = [("stdout", out[pos:end]), ("stderr", err[max(pos - len(out), 0):max(end - len(out), 0)])]
        streams = [f'<rsp:Stream Name="{n}" CommandId="{record.command_id}">{base64.b64encode(p).decode()}</rsp:Stream>'
                   for n, p in pieces if p]
        record.delivered = end
        done = record.delivered >= len(out) + len(err)
        if done:
            streams += [f'<rsp:Stream Name="{n}" CommandId="{record.command_id}" End="true"></rsp:Stream>' for n, _ in both]
            state = (f'<rsp:CommandState CommandId="{record.command_id}" State="{SHELL}/CommandState/Done">'
                     f'<rsp:ExitCode>{rc}</rsp:ExitCode></rsp:CommandState>')
        else:
            state = f'<rsp:CommandState CommandId="{record.command_id}" State="{SHELL}/CommandState/Running"/>'
        return f"<rsp:ReceiveResponse>{''.join(streams)}{state}</rsp:ReceiveResponse>"

    def _signal(self, shell_id: str, body: ET.Element) -> str:
        signal = body.find("rsp:Signal", NS)
        if signal is None:
            raise Fault(2150858778, "w:InvalidBody", "rsp:Signal expected")
        record = self._record(shell_id, signal.get("CommandId"))
        record.signals.append((signal.findtext("rsp:Code", "", NS) or "").rsplit("/", 1)[-1])
        del self.shells[shell_id]["commands"][record.command_id]
        return "<rsp:SignalResponse/>"

    def _delete(self, shell_id: str, body: ET.Element) -> str:
        del self.shells[shell_id]
        self.deleted.append(shell_id)
        return ""


def _text(root: ET.Element, path: str) -> str:
    node = root.find(path, NS)
    if node is None or not (node.text or "").strip():
        raise Fault(2150858778, "w:InvalidHeader", f"{path} missing")
    return node.text.strip()


def _envelope(action: str, relates_to: str, body: str) -> str:
    return (f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:w="{NS["w"]}" xmlns:rsp="{NS["rsp"]}">'
            f'<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{uuid.uuid4()}</a:MessageID>'
            f'<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>'
            f'<a:RelatesTo>{relates_to}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>')


def _fault(relates_to: str, fault: Fault) -> str:
    body = (f'<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value>'
            f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{_escape(fault.reason)}</s:Text></s:Reason>'
            f'<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
            f'Code="{fault.code}" Machine="fake"><f:Message>{_escape(fault.reason)}</f:Message></f:WSManFault>'
            f'</s:Detail></s:Fault>')
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to or "uuid:unknown", body)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _send(http: BaseHTTPRequestHandler, status: int, body: bytes,
          content_type: str = "application/soap+xml;charset=UTF-8", headers: dict | None = None) -> None:
    http.send_response(status)
    http.send_header("Content-Type", content_type)
    http.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        http.send_header(k, v)
    http.end_headers()
    http.wfile.write(body)
