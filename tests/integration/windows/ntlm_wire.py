"""Server side of NTLM over HTTP with MS-WSMV message encryption, for the fake endpoint.

NTLM is accepted by pyspnego's own acceptor (an independent implementation of the
server side, fed by an NTLM_USER_FILE), and the multipart/encrypted framing of
MS-WSMV 2.2.9.1.1 is parsed and built here — not with pywinrm's Encryption class.
"""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path

import spnego
from spnego.channel_bindings import GssChannelBindings

PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
BOUNDARY = b"--Encrypted Boundary"
CONTENT_TYPE = f'multipart/encrypted;protocol="{PROTOCOL}";boundary="Encrypted Boundary"'


def credentials_file(directory: Path, domain: str, user: str, password: str) -> Path:
    """pyspnego's NTLM acceptor reads DOMAIN:USER:PASSWORD lines from the file named by
    $NTLM_USER_FILE (the caller sets it)."""
    path = directory / "ntlm_users"
    path.write_text(f"{domain}:{user}:{password}\n")
    return path


def new_acceptor(certificate_hash: bytes | None = None) -> spnego.ContextProxy:
    """Over HTTPS the acceptor expects the client's channel bindings for this certificate
    (RFC 5929 tls-server-end-point): a client bound to another certificate is refused."""
    bindings = None
    if certificate_hash is not None:
        bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + certificate_hash)
    return spnego.server(protocol="ntlm", service="http", channel_bindings=bindings)


def accept_step(context: spnego.ContextProxy, authorization: str) -> tuple[str | None, bool]:
    """One leg of the handshake: (WWW-Authenticate value to send back or None, complete)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() not in ("negotiate", "ntlm"):
        raise ValueError(f"unsupported auth scheme {scheme}")
    out = context.step(base64.b64decode(token))
    return (f"{scheme} {base64.b64encode(out).decode()}" if out else None), context.complete


def decrypt(context: spnego.ContextProxy, body: bytes, content_type: str) -> bytes:
    """The SOAP envelope inside a multipart/encrypted body; length and signature checked."""
    if f'protocol="{PROTOCOL}"' not in content_type:
        raise ValueError(f"expected an encrypted body, got Content-Type {content_type!r}")
    parts = [p for p in body.split(BOUNDARY + b"\r\n") if p]
    header, payload = parts[0], parts[1]
    length = int(re.search(rb"Length=(\d+)", header).group(1))
    payload = payload.removesuffix(BOUNDARY + b"--\r\n").removeprefix(b"\tContent-Type: application/octet-stream\r\n")
    signature_length = struct.unpack("<i", payload[:4])[0]
    signature, sealed = payload[4:4 + signature_length], payload[4 + signature_length:]
    message = context.unwrap(signature + sealed).data
    if len(message) != length:
        raise ValueError(f"decrypted {len(message)} bytes, header says {length}")
    return message


def encrypt(context: spnego.ContextProxy, message: bytes) -> bytes:
    wrapped = context.wrap(message, encrypt=True).data
    signature, sealed = wrapped[:16], wrapped[16:]
    return (BOUNDARY + b"\r\n\tContent-Type: " + PROTOCOL.encode() + b"\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + str(len(message)).encode() + b"\r\n"
            + BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n"
            + struct.pack("<i", len(signature)) + signature + sealed + BOUNDARY + b"--\r\n")
