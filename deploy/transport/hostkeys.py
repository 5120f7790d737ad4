"""Host-key policy for SSH: verify against a known_hosts file, never silently accept.

Fabric (like paramiko's SSHClient defaults it sets) accepts any key; Shipyard
loads the configured known_hosts and rejects unknown keys with the host and the
key's fingerprint, so an operator can compare it with the server's own.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys

import paramiko

from deploy.errors import TransportError


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's `SHA256:...` form, as `ssh-keygen -lf` prints it."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


class UnknownHostKey(TransportError):
    """The server's key is not in known_hosts (and trust on first use is off)."""

    def __init__(self, host: str, key: paramiko.PKey, known_hosts: str):
        self.fingerprint = fingerprint(key)
        super().__init__(
            host, f"host key {self.fingerprint} is not in {known_hosts} (add it, or set ssh.trust_on_first_use = true)"
        )


class ChangedHostKey(TransportError):
    """The server presents a different key than known_hosts records: possible impersonation."""

    def __init__(self, host: str, got: paramiko.PKey, expected: paramiko.PKey, known_hosts: str):
        self.fingerprint = fingerprint(got)
        super().__init__(
            host,
            f"HOST KEY CHANGED: server offers {self.fingerprint}, {known_hosts} has {fingerprint(expected)}",
        )


class RejectUnknown(paramiko.MissingHostKeyPolicy):
    def __init__(self, host: str, known_hosts: str):
        self.host, self.known_hosts = host, known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise UnknownHostKey(self.host, key, self.known_hosts)


class TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    """Record an unknown key in known_hosts and warn; a changed key is still refused by paramiko."""

    def __init__(self, host: str, known_hosts: str):
        self.host, self.known_hosts = host, known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        os.makedirs(os.path.dirname(self.known_hosts) or ".", exist_ok=True)
        with open(self.known_hosts, "a", encoding="ascii") as f:
            f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
        print(
            f"shipyard: WARNING {self.host}: trusting new host key {fingerprint(key)} on first use; "
            f"recorded in {self.known_hosts}",
            file=sys.stderr,
        )


def apply_policy(client: paramiko.SSHClient, host: str, known_hosts: str, trust_on_first_use: bool) -> None:
    """Load `known_hosts` into the client and set the policy for keys it lacks."""
    path = os.path.expanduser(known_hosts)
    if os.path.exists(path):
        client.get_host_keys().load(path)
    elif not trust_on_first_use:
        raise TransportError(host, f"known_hosts file {path} does not exist (host keys are verified by default)")
    policy = TrustOnFirstUse(host, path) if trust_on_first_use else RejectUnknown(host, path)
    client.set_missing_host_key_policy(policy)
