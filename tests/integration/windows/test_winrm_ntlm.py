"""NTLM over HTTP with message encryption — Shipyard's default for an http WinRM host —
against the fake endpoint running pyspnego's NTLM acceptor and MS-WSMV encryption.

Proves: the default config authenticates with NTLM, every SOAP body on the wire is
encrypted (no script, parameter or password in clear), wrong passwords and disabled
encryption are refused as Windows refuses them. Kerberos and CredSSP remain untested."""

from __future__ import annotations

import base64

import pytest

from deploy.config import EnvConfig, HostConfig, WinRMOptions
from deploy.errors import TransportError
from deploy.release.layout import Layout
from deploy.release.windows import WindowsHostOps
from deploy.transport import open_transport
from tests.integration.windows import ntlm_wire
from tests.integration.windows.model import WindowsHostModel
from tests.integration.windows.test_hostops_e2e import RID1, deploy, make_artifact
from tests.integration.windows.wsman_fake import FakeWSMan

PASSWORD = "Ntlm-S3cret!"


@pytest.fixture
def ntlm_fake(tmp_path, monkeypatch):
    monkeypatch.setenv("NTLM_USER_FILE", str(ntlm_wire.credentials_file(tmp_path, "CORP", "deployer", PASSWORD)))
    monkeypatch.setenv("SHIPYARD_TEST_NTLM_PASSWORD", PASSWORD)
    model = WindowsHostModel(tmp_path / "fs")
    with FakeWSMan(model, username="deployer", password=PASSWORD, auth="ntlm") as fake:
        yield fake, model


def ntlm_env(fake, **winrm) -> EnvConfig:
    options = WinRMOptions(scheme="http", port=fake.port, password_secret="PW", operation_timeout=2, read_timeout=5, **winrm)
    host = HostConfig(name="win1", address="127.0.0.1", transport="winrm", user="CORP\\deployer", winrm=options)
    return EnvConfig(deploy_to="C:\\shipyard\\site", hosts=[host], secrets={"PW": "SHIPYARD_TEST_NTLM_PASSWORD"})


def test_default_auth_over_http_is_ntlm_with_every_body_encrypted(ntlm_fake, tmp_path):
    fake, model = ntlm_fake
    env = ntlm_env(fake)
    assert (env.hosts[0].winrm.auth, env.hosts[0].winrm.message_encryption) == ("ntlm", "auto")  # defaults
    transport = open_transport(env.hosts[0], env)
    ops = WindowsHostOps(transport, Layout(env.deploy_to, windows=True))
    ops.prepare(["media"], ["local_settings.py"])
    ops.acquire_lock({"token": "t", "user": "ci"})
    deploy(ops, tmp_path / "a.tar.gz", make_artifact(tmp_path / "a.tar.gz", "one"), RID1)
    transport.close()
    assert (model.local(env.deploy_to) / "current" / "app" / "site" / "version.txt").read_text() == "one"
    assert fake.verbs[0] == "Create" and fake.verbs[-1] == "Delete"
    wire = b"".join(fake.raw_bodies)
    script_b64 = base64.b64encode(model.scripts_by_name["unpack"].encode())[:40]
    for secret in (b"Envelope", b"rsp:Shell", b"deployer", PASSWORD.encode(), script_b64, RID1.encode()):
        assert secret not in wire
    assert sum(1 for body in fake.raw_bodies if body.startswith(ntlm_wire.BOUNDARY)) == len(fake.verbs)


def test_wrong_ntlm_password_is_rejected(ntlm_fake, monkeypatch):
    fake, _ = ntlm_fake
    monkeypatch.setenv("SHIPYARD_TEST_NTLM_PASSWORD", "not-the-password")
    env = ntlm_env(fake)
    with pytest.raises(TransportError, match=r"rejected the credentials of 'CORP\\\\deployer' \(auth=ntlm\)"):
        open_transport(env.hosts[0], env).run("Write-Output x", timeout=5)
    assert fake.verbs == []


def test_unencrypted_soap_over_http_is_refused(ntlm_fake):
    """message_encryption = "never" over HTTP: Windows (AllowUnencrypted=false) answers 401."""
    fake, _ = ntlm_fake
    env = ntlm_env(fake, message_encryption="never")
    with pytest.raises(TransportError, match="rejected the credentials"):
        open_transport(env.hosts[0], env).run("Write-Output x", timeout=5)
    assert fake.verbs == [] and any(b"rsp:Shell" in body for body in fake.raw_bodies)
