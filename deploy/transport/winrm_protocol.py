"""pywinrm's Protocol with what Shipyard needs on top (imported lazily: pywinrm is heavy).

- Every answer's RelatesTo must name the request's MessageID (pywinrm only `assert`s it for
  Signal and Delete, which `python -O` drops).
- HTTP.sys closes keep-alive connections idle for 2 minutes. The next message then either
  arrives on a new connection, where NTLM (and its message encryption, which belongs to
  the TCP connection) is unknown: a 401 after the session had authenticated; or it races
  the close: the server hangs up without answering. Either way the server never read it:
  authenticate again on a new session and send the same message once more. The shell
  lives on the server, not in the connection, and is reused.
- `server_config()`: a WS-Transfer Get of winrm/config (MaxEnvelopeSizekb, MaxTimeoutms,
  the Winrs quotas) — what an administrator may read over the same connection.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

CONFIG_RESOURCE = "http://schemas.microsoft.com/wbem/wsman/1/config"
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
_MESSAGE_ID = re.compile(r"<a:MessageID>\s*(uuid:[0-9a-fA-F-]+)\s*</a:MessageID>")
_RELATES_TO = re.compile(rb"<(?:\w+:)?RelatesTo>\s*(uuid:[0-9a-fA-F-]+)\s*</(?:\w+:)?RelatesTo>")


def shipyard_protocol() -> type:
    import requests
    from winrm.exceptions import InvalidCredentialsError, WinRMError
    from winrm.protocol import Protocol

    class ShipyardProtocol(Protocol):
        authenticated = False
        reauthentications = 0

        def send_message(self, message: str) -> bytes:
            try:
                response = self._send_checked(message)
            except (InvalidCredentialsError, requests.ConnectionError) as e:
                if not self.authenticated or not _dropped(e):
                    raise
                self.transport.close_session()
                self.transport.encryption = None
                self.reauthentications += 1
                response = self._send_checked(message)
            self.authenticated = True
            return response

        def _send_checked(self, message: str) -> bytes:
            sent = _MESSAGE_ID.search(message)
            response = super().send_message(message)
            got = _RELATES_TO.search(response)
            if sent is None or got is None or got.group(1).decode().lower() != sent.group(1).lower():
                raise WinRMError("WS-Man answer does not relate to the request (RelatesTo != MessageID)")
            return response

        def server_config(self) -> dict[str, str]:
            """winrm/config as {"MaxEnvelopeSizekb": "500", "Winrs/MaxShellsPerUser": "30", ...}."""
            import xmltodict

            request = {"env:Envelope": self.build_wsman_header(action=GET, resource_uri=CONFIG_RESOURCE)}
            request["env:Envelope"].setdefault("env:Body", {})
            return config_values(self.send_message(xmltodict.unparse(request)))

    return ShipyardProtocol


def _dropped(error: Exception) -> bool:
    """A 401 on a new connection, or a connection closed without an answer (not refused, not a timeout)."""
    from http.client import RemoteDisconnected

    if not hasattr(error, "request"):  # InvalidCredentialsError
        return True
    cause = error.args[0] if error.args else None
    reasons = getattr(cause, "args", ())
    return any(isinstance(r, (RemoteDisconnected, ConnectionResetError)) for r in reasons)


def config_values(response: bytes) -> dict[str, str]:
    """The leaves of a winrm/config document, keyed by their path below <Config>."""
    root = ET.fromstring(response)
    config = next((e for e in root.iter() if e.tag == f"{{{CONFIG_RESOURCE}}}Config"), None)
    if config is None:
        return {}
    values: dict[str, str] = {}

    def walk(element: Any, prefix: str) -> None:
        for child in element:
            name = prefix + child.tag.rsplit("}", 1)[-1]
            if len(child):
                walk(child, name + "/")
            else:
                values[name] = (child.text or "").strip()

    walk(config, "")
    return values
