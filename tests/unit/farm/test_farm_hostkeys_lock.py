"""Host key fingerprints as OpenSSH prints them; lease records' expiry and description."""

from __future__ import annotations

import subprocess
import time

import paramiko

from deploy.engine.lock import describe, expired, lease_record
from deploy.transport.hostkeys import fingerprint


def test_fingerprint_matches_ssh_keygen(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    ours = fingerprint(paramiko.Ed25519Key.from_private_key_file(str(tmp_path / "k")))
    theirs = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "k.pub")], capture_output=True, text=True).stdout.split()[1]
    assert ours == f"ssh-ed25519 {theirs}"


def test_lease_expiry_and_description():
    record = lease_record({"token": "t", "user": "alice", "pid": 7, "machine": "ci-3", "since": "2026-11-25T10:00:00+00:00",
                           "revision": "ab12cd34ef56aa", "reason": "hotfix"}, ttl=60)
    assert not expired(record)
    assert expired({**record, "acquired_at": time.time() - 61})
    assert not expired({"user": "old-format-without-ttl"})
    text = describe(record)
    assert "alice (pid 7 on ci-3, hotfix of ab12cd34ef56, since 2026-11-25T10:00:00+00:00, expires in" in text
    assert "expired" in describe({**record, "acquired_at": time.time() - 3600})


def test_manifest_patch_carries_only_what_changed():
    from deploy.release.delta import manifest_patch

    base = {"revision": "a", "files": {"app/x.py": {"sha256": "1"}, "app/y.py": {"sha256": "2"}, "app/z.py": {"sha256": "3"}}}
    new = {"revision": "b", "files": {"app/x.py": {"sha256": "1"}, "app/y.py": {"sha256": "9"}, "app/n.py": {"sha256": "4"}}}
    patch = manifest_patch(base, new)
    assert patch == {"top": {"revision": "b"}, "set": {"app/y.py": {"sha256": "9"}, "app/n.py": {"sha256": "4"}},
                     "drop": ["app/z.py"]}
