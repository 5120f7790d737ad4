"""A throwaway directory that stands in for a host while the real tools check its configs.

Rendered files name host paths (deploy_to, the venv, certificates) that exist only
on the host. The sandbox maps every such root into itself in one pass, swaps the
certificate files for a throwaway self-signed pair, and writes the release's files
where the host would have them, so includes between files resolve as they will there."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import tempfile
from pathlib import Path, PurePath

THROWAWAY_NAME = "shipyard-validate.invalid"


class Sandbox:
    def __init__(self, manifest: dict):
        # a short name: unix socket paths must stay under ~100 bytes after relocation
        self.dir = Path(tempfile.mkdtemp(prefix="sy-"))
        os.chmod(self.dir, 0o755)  # varnishd and apache drop privileges before reading files
        self._roots = {root: self.dir / f"r{i}" for i, root in enumerate(outermost(manifest.get("roots", [])))}
        for local in self._roots.values():
            local.mkdir()
        self._certs = self._throwaway_certs(manifest["certs"]) if manifest.get("certs") else {}
        self._programs = {path: self._stub(i, path) for i, path in enumerate(manifest.get("programs", []))}
        known = sorted([*self._certs, *self._programs, *self._roots], key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(p) + r"(?=[/\\\"'\s;|,]|$)" for p in known)) if known else None
        for root in manifest.get("roots", []):  # the host has these directories
            Path(self.relocate(root)).mkdir(parents=True, exist_ok=True)
        self.release = Path(self.relocate(manifest["current"])) if manifest.get("current") else self.dir / "release"
        self.release.mkdir(parents=True, exist_ok=True)

    def _replace(self, match: re.Match) -> str:
        found = match.group(0)
        return self._certs.get(found) or self._programs.get(found) or str(self._roots[found])

    def relocate(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub(self._replace, text)

    def write(self, relative: str, text: str) -> Path:
        target = self.release / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(local_accounts(self.relocate(text)), encoding="utf-8")
        return target

    def scratch(self, name: str) -> Path:
        path = self.dir / "scratch" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _stub(self, index: int, path: str) -> str:
        """A host-only program (venv/bin/gunicorn) becomes an executable stub here."""
        stub = self.scratch("bin") / f"{index}-{PurePath(path).name}"
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
        return str(stub)

    def unmap(self, message: str) -> str:
        """Tool messages name sandbox paths; show the host's instead."""
        message = message.replace(str(self.release) + "/", "")
        for root, local in self._roots.items():
            message = re.sub(re.escape(str(local)) + r"(?![0-9])", root, message)
        return message.replace(str(self.dir), "(validator)")

    def _throwaway_certs(self, certs: dict[str, str]) -> dict[str, str]:
        """{host path: "cert" | "key" | "pem"} -> {host path: throwaway file of that role}."""
        cert_pem, key_pem = self_signed(THROWAWAY_NAME)
        tls = self.scratch("tls")
        (tls / "cert.pem").write_bytes(cert_pem)
        (tls / "key.pem").write_bytes(key_pem)
        (tls / "both.pem").write_bytes(cert_pem + key_pem)
        for f in tls.iterdir():
            f.chmod(0o644)
        files = {"cert": "cert.pem", "key": "key.pem", "pem": "both.pem"}
        return {path: str(tls / files[role]) for path, role in certs.items()}

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


ACCOUNT_LINE = re.compile(r"^(\s*)(User|Group|user|group)([ \t]+|=)(\S+)[ \t]*$", re.M)


def local_accounts(text: str) -> str:
    """Accounts that exist only on the host (User/Group, user=, haproxy's user/group)
    become nobody/nogroup here, so the tools do not reject a name this machine lacks."""
    import grp
    import pwd

    def known(kind: str, name: str) -> bool:
        try:
            (pwd.getpwnam if kind == "user" else grp.getgrnam)(name)
        except KeyError:
            return False
        return True

    def swap(m: re.Match) -> str:
        kind = m.group(2).lower()
        if known(kind, m.group(4)):
            return m.group(0)
        return f"{m.group(1)}{m.group(2)}{m.group(3)}{'nobody' if kind == 'user' else 'nogroup'}"

    return ACCOUNT_LINE.sub(swap, text)


def outermost(roots: list[str]) -> list[str]:
    """Drop roots inside another root: one mapping per tree keeps paths consistent."""
    def inside(path: str, root: str) -> bool:
        return path != root and path.startswith(root.rstrip("/") + "/")
    return sorted({r for r in roots if not any(inside(r, other) for other in roots)})


def self_signed(common_name: str) -> tuple[bytes, bytes]:
    """A one-day self-signed certificate and its key, PEM encoded."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
