"""Serve a recorded real-Windows WS-Man exchange (tests/fixtures/pypsrp) back to a client.

Request i is answered with recorded response i (its RelatesTo rewritten to the client's
MessageID; `transport_error` answers go out with that HTTP status, as Windows sent them), and
request i is compared with recorded request i *in structure*: action, resource, header
elements, selectors, options, and the body's element tree with its meaningful attributes and
texts. Identifiers a client cannot know in advance (MessageID, SessionId values, a:To) are
not compared; ShellId and CommandId are, because the client learnt them from the recorded
answers. Every difference is recorded, for the test to hold against a documented list.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import yaml

from tests.integration.windows.loopback import LoopbackHTTP

RECORDINGS = Path(__file__).resolve().parents[2] / "fixtures" / "pypsrp" / "responses"
S = "{http://www.w3.org/2003/05/soap-envelope}"
UNCOMPARED_HEADERS = {"MessageID", "To"}  # values unknown to a client before it sends
MEANINGFUL_ATTRIBUTES = {"Name", "CommandId", "End"}


def load(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((RECORDINGS / f"{name}.yml").read_text(encoding="utf-8"))["messages"]


def recordings() -> list[str]:
    return sorted(p.stem for p in RECORDINGS.glob("test_*.yml"))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def structure(xml: str) -> dict[str, Any]:
    """What must agree between two requests for Windows to treat them alike."""
    root = ET.fromstring(xml)
    header, body = root.find(f"{S}Header"), root.find(f"{S}Body")
    fields = {_local(h.tag): h for h in header}
    shape: dict[str, Any] = {
        "headers": sorted(fields),
        "action": (fields["Action"].text or "").strip().rsplit("/", 1)[-1],
        "resource": (fields["ResourceURI"].text or "").strip(),
        "timeout": (fields.get("OperationTimeout").text or "").strip() if "OperationTimeout" in fields else None,
        "envelope": (fields.get("MaxEnvelopeSize").text or "").strip() if "MaxEnvelopeSize" in fields else None,
        "selectors": {s.get("Name"): (s.text or "").strip() for s in header.iter() if _local(s.tag) == "Selector"},
        "options": {o.get("Name"): (o.text or "").strip().lower() for o in header.iter() if _local(o.tag) == "Option"},
        "body": [_element(e) for e in body],
    }
    return shape


def _element(element: ET.Element) -> Any:
    name = _local(element.tag)
    if name == "CommandLine":  # WinRS joins Command and its Arguments with spaces
        words = [(c.text or "").strip() for c in element if _local(c.tag) == "Command"]
        words += [(c.text or "") for c in element if _local(c.tag) == "Arguments"]
        return ("CommandLine", " ".join(w for w in words if w))
    attributes = {k: v.lower() if k == "End" else v for k, v in element.attrib.items() if k in MEANINGFUL_ATTRIBUTES}
    text = re.sub(r"\s+", " ", element.text or "").strip()
    return (name, tuple(sorted(attributes.items())), text, tuple(_element(c) for c in element))


def differences(ours: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    found = []
    mine, theirs = _signal_code(ours["body"]), _signal_code(recorded["body"])
    if mine != theirs and _without_code(ours["body"]) == _without_code(recorded["body"]):
        found.append(f"signal code {mine} != recorded {theirs}")
        ours = {**ours, "body": recorded["body"]}
    for key in ("action", "resource", "timeout", "envelope", "selectors", "body"):
        if ours[key] != recorded[key]:
            found.append(f"{key}: {ours[key]!r} != recorded {recorded[key]!r}")
    for name in sorted((set(ours["headers"]) ^ set(recorded["headers"])) - {"OptionSet", "SelectorSet"}):
        found.append(f"header {name}: {'only ours' if name in ours['headers'] else 'only recorded'}")
    for name in sorted(set(ours["options"]) | set(recorded["options"])):
        mine, theirs = ours["options"].get(name), recorded["options"].get(name)
        if mine != theirs:
            found.append(f"option {name}: {mine!r} != recorded {theirs!r}")
    return found


def _signal_code(body: list) -> str | None:
    if body and body[0][0] == "Signal":
        return next((c[2].rsplit("/", 1)[-1] for c in body[0][3] if c[0] == "Code"), None)
    return None


def _without_code(body: list) -> list:
    if _signal_code(body) is None:
        return body
    name, attributes, text, children = body[0]
    return [(name, attributes, text, tuple(c for c in children if c[0] != "Code"))]


@dataclass
class Replay(LoopbackHTTP):
    name: str
    messages: list[dict[str, Any]] = field(init=False)
    served: int = 0
    diffs: list[tuple[int, str, list[str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.messages = load(self.name)

    def __enter__(self) -> "Replay":
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = replay.answer(body.decode("utf-8"))
                self.send_response(status)
                self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self._start(Handler)
        return self

    def answer(self, request: str) -> tuple[int, bytes]:
        if self.served >= len(self.messages):
            self.diffs.append((self.served, "?", ["a request after the recording ended"]))
            return 500, b""
        message = self.messages[self.served]
        ours, recorded = structure(request), structure(message["request"])
        self.diffs.append((self.served, recorded["action"], differences(ours, recorded)))
        self.served += 1
        message_id = re.search(r"<(?:\w+:)?MessageID>(uuid:[^<]+)<", request).group(1)
        response = re.sub(r"(<(?:\w+:)?RelatesTo>)uuid:[^<]+(<)", rf"\g<1>{message_id}\g<2>", message["response"], count=1)
        status = (message.get("transport_error") or {}).get("code", 200)
        return status, response.encode("utf-8")


def recorded_output(name: str) -> tuple[bytes, bytes, int | None]:
    """stdout, stderr and exit code of the recorded Receive answers, decoded here (not by pywinrm)."""
    import base64

    out, err, rc = bytearray(), bytearray(), None
    for message in load(name):
        root = ET.fromstring(message["response"])
        for stream in root.iter():
            if _local(stream.tag) == "Stream" and stream.text:
                (out if stream.get("Name") == "stdout" else err).extend(base64.b64decode(stream.text))
            if _local(stream.tag) == "ExitCode":
                rc = int(stream.text)
    return bytes(out), bytes(err), rc
