"""A strict WS-Management endpoint on loopback for tests: HTTP, authentication and the wire
rules of a default Windows Server; the WinRS shell rules live in wsman_shells.py.

HTTP rules: POST /wsman only; SOAP 1.2 content type; Basic refused unless the server is
configured for it (ServerConfig.allow_basic), plain SOAP over HTTP refused unless
AllowUnencrypted; NTLM per connection (pyspnego's acceptor), then MS-WSMV encrypted bodies
over HTTP, or over HTTPS with channel binding to the listener's certificate; requests over
MaxEnvelopeSizekb refused; RelatesTo echoing every MessageID; connections dropped on demand
(idle keep-alive ones closed, as HTTP.sys does). Loose where clients vary (prefixes, header order,
a:To). A `handler(command_line, stdin) -> (stdout, stderr, rc)` decides what a command does;
everything the endpoint received is recorded for assertions.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler

from tests.integration.windows import ntlm_wire
from tests.integration.windows.loopback import LoopbackHTTP
from tests.integration.windows.wsman_faults import (
    ENVELOPE_TOO_BIG, INTERNAL, NS, TIMED_OUT, Fault, envelope, fault_envelope,
)
from tests.integration.windows.wsman_shells import MAX_CMDLINE, CommandRecord, Handler, ServerConfig, WinRS

__all__ = ["FakeWSMan", "Fault", "ServerConfig", "CommandRecord", "TIMED_OUT", "MAX_CMDLINE", "MAX_ENVELOPE", "lab_config"]
MAX_ENVELOPE = 512000  # MaxEnvelopeSizekb = 500, the Windows Server default
_WINRS = {"handler", "verbs", "commands", "shells", "deleted", "expired", "timeouts_before_output", "send_timeouts",
          "hang", "memory_mb", "output_chunk", "stdin_readers", "reply_limits", "expire_idle_shells"}


def lab_config(**changes: object) -> ServerConfig:
    """A test lab's WinRM: Basic and unencrypted HTTP switched on (`winrm quickconfig` plus
    `winrm set winrm/config/service @{AllowUnencrypted="true"}` and Auth/Basic), as a fake
    with Basic over HTTP needs. Windows' own defaults (ServerConfig()) refuse both."""
    return ServerConfig(allow_basic=True, allow_unencrypted=True, **changes)  # type: ignore[arg-type]


class FakeWSMan(LoopbackHTTP):
    """Start with `with FakeWSMan(handler) as fake:`; `fake.url` is the endpoint."""

    def __init__(self, handler: Handler, username: str = "deployer", password: str = "S3cret-pw!", auth: str = "basic",
                 tls: ssl.SSLContext | None = None, config: ServerConfig | None = None, certificate: str | None = None):
        """`auth="ntlm"`: NTLM handshake per connection; NTLM_USER_FILE must name a file from
        ntlm_wire.credentials_file(). `certificate`: the listener's PEM, which NTLM channel
        bindings must name over HTTPS. `config` defaults to a stock Windows Server's."""
        self.config = config or ServerConfig()
        self.winrs = WinRS(handler, self.config)
        self.username, self.password, self.auth, self.tls = username, password, auth, tls
        self.raw_bodies: list[bytes] = []  # exactly what came over the wire
        self.envelope_sizes: list[int] = []
        self.break_relates_to = False
        self.idle_connection_timeout: float | None = None  # close keep-alive connections idle this long, as HTTP.sys does
        self.connections = 0
        self.certificate_hash = certificate_hash(certificate) if certificate else None

    def __getattr__(self, name: str):  # the shell service's records and knobs
        if name in _WINRS:
            return getattr(self.__dict__["winrs"], name)
        raise AttributeError(name)

    def __setattr__(self, name: str, value: object) -> None:
        if name in _WINRS:
            setattr(self.winrs, name, value)
        else:
            super().__setattr__(name, value)

    # -------------------------------------------------------------- lifecycle
    def __enter__(self) -> "FakeWSMan":
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                self.timeout = fake.idle_connection_timeout  # an idle connection is closed, without a word
                super().setup()  # headers and body go out separately: no Nagle/delayed-ACK stalls
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                fake.connections += 1

            def do_POST(self) -> None:  # noqa: N802
                fake._serve(self)

            def log_message(self, *args: object) -> None:
                pass

        self._start(RequestHandler, self.tls)
        return self

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
        message_id = ""
        try:
            if len(body) > self.config.max_envelope_kb * 1024:
                raise Fault(ENVELOPE_TOO_BIG, "w:EncodingLimit", f"envelope of {len(body)} bytes exceeds MaxEnvelopeSizekb")
            root = ET.fromstring(body)
            header = root.find("s:Header", NS)
            message_id = (header.findtext("a:MessageID", "", NS) if header is not None else "").strip()
            action = (header.findtext("a:Action", "", NS) if header is not None else "").strip()
            payload = self.winrs.dispatch(root, action, self.username)
            relates = "uuid:00000000-0000-0000-0000-000000000000" if self.break_relates_to else message_id
            answer = envelope(action + "Response", relates, payload).encode("utf-8")
            self.winrs.reply_limits.append((self.winrs.reply_budget(root), len(answer)))
            self._answer(http, 200, answer)
        except Fault as f:
            self._answer(http, f.http, fault_envelope(message_id, f).encode("utf-8"))
        except Exception as e:  # a closed socket would hide the problem: answer a fault
            fault = Fault(INTERNAL, "w:InternalError", f"fake: {type(e).__name__}: {e}")
            self._answer(http, 500, fault_envelope(message_id, fault).encode())

    # -------------------------------------------------------------- auth and encryption
    def _authenticated_body(self, http: BaseHTTPRequestHandler, raw: bytes) -> bytes | None:
        """The plaintext SOAP body, or None after answering 401/415 ourselves."""
        header = http.headers.get("Authorization", "")
        if self.auth == "basic" or header.lower().startswith("basic "):
            return self._basic(http, raw, header)
        context = getattr(http, "ntlm", None)
        if header:
            if context is None or context.complete:
                context = http.ntlm = ntlm_wire.new_acceptor(self.certificate_hash if self.tls else None)
            try:
                challenge, complete = ntlm_wire.accept_step(context, header)
            except Exception:
                http.ntlm = None
                return _refuse(http)
            if not complete:
                return _send(http, 401, b"", "text/plain", {"WWW-Authenticate": challenge})
        elif context is None or not context.complete:
            return _refuse(http)
        if not raw:
            return _send(http, 200, b"", "text/plain")  # pywinrm's blank request that sets up the context
        if self.tls is not None:
            return raw  # inside TLS: plain SOAP, as pywinrm sends it over HTTPS
        try:
            return ntlm_wire.decrypt(http.ntlm, raw, http.headers.get("Content-Type", ""))
        except Exception:
            if self.config.allow_unencrypted and raw.lstrip().startswith(b"<"):
                return raw
            return _refuse(http)  # Windows refuses unencrypted traffic over HTTP by default

    def _basic(self, http: BaseHTTPRequestHandler, raw: bytes, header: str) -> bytes | None:
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        plain_http = self.tls is None
        if not self.config.allow_basic or (plain_http and not self.config.allow_unencrypted) or header != expected:
            return _refuse(http, basic=self.config.allow_basic)
        if not http.headers.get("Content-Type", "").startswith("application/soap+xml"):
            return _send(http, 415, b"", "text/plain")
        return raw

    def _answer(self, http: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        context = getattr(http, "ntlm", None)
        if context is None or self.tls is not None or not context.complete or not _encrypted(http):
            return _send(http, status, body)
        _send(http, status, ntlm_wire.encrypt(http.ntlm, body), ntlm_wire.CONTENT_TYPE)


def certificate_hash(pem_path: str) -> bytes:
    """RFC 5929 tls-server-end-point of a SHA-256-signed certificate: SHA-256 of its DER."""
    with open(pem_path, encoding="ascii") as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).digest()


def _encrypted(http: BaseHTTPRequestHandler) -> bool:
    return ntlm_wire.PROTOCOL in http.headers.get("Content-Type", "")


def _refuse(http: BaseHTTPRequestHandler, basic: bool = False) -> None:
    """401 and the schemes the service offers (Basic only when it is switched on)."""
    schemes = ["Negotiate"] + (['Basic realm="WSMAN"'] if basic else [])
    http.send_response(401)
    for scheme in schemes:
        http.send_header("WWW-Authenticate", scheme)
    http.send_header("Content-Length", "0")
    http.end_headers()


def _send(http: BaseHTTPRequestHandler, status: int, body: bytes,
          content_type: str = "application/soap+xml;charset=UTF-8", headers: dict | None = None) -> None:
    http.send_response(status)
    http.send_header("Content-Type", content_type)
    http.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        http.send_header(k, v)
    http.end_headers()
    http.wfile.write(body)
