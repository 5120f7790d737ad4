"""HTTPS listener: certificates are validated by default; trusting a private CA takes
`ca_trust_path`; `cert_validation = "ignore"` works but doctor warns about it."""

from __future__ import annotations

import pytest

from deploy.config import EnvConfig, HostConfig, WinRMOptions
from deploy.errors import TransportError
from deploy.preflight.windows import _auth_check
from deploy.transport import open_transport
from tests.integration.windows.tls import make_tls
from tests.integration.windows.wsman_fake import FakeWSMan, ServerConfig


@pytest.fixture
def https_fake(tmp_path, monkeypatch):
    context, ca = make_tls(tmp_path)
    monkeypatch.setenv("SHIPYARD_TEST_WINRM_PASSWORD", "S3cret-pw!")
    with FakeWSMan(lambda line, stdin: (b"ok\r\n", b"", 0), tls=context, config=ServerConfig(allow_basic=True)) as fake:
        yield fake, ca


def env_for(fake, **winrm) -> EnvConfig:
    options = WinRMOptions(port=fake.port, auth="basic", password_secret="PW", operation_timeout=2, read_timeout=5, **winrm)
    host = HostConfig(name="win1", address="127.0.0.1", transport="winrm", user="deployer", winrm=options)
    return EnvConfig(hosts=[host], secrets={"PW": "SHIPYARD_TEST_WINRM_PASSWORD"})


def test_unknown_ca_is_refused_by_default(https_fake):
    fake, _ = https_fake
    env = env_for(fake)
    assert env.hosts[0].winrm.scheme == "https" and fake.url.startswith("https://")
    with pytest.raises(TransportError, match="SSLError|CERTIFICATE_VERIFY_FAILED"):
        open_transport(env.hosts[0], env).run("x", timeout=5)
    assert fake.verbs == []


def test_private_ca_is_trusted_through_ca_trust_path(https_fake):
    fake, ca = https_fake
    env = env_for(fake, ca_trust_path=str(ca))
    transport = open_transport(env.hosts[0], env)
    assert transport.run("Write-Output ok", timeout=5).stdout == "ok\r\n"
    transport.close()
    assert fake.verbs == ["Create", "Command", "Send", "Receive", "Signal", "Delete"]


def test_ignoring_certificates_works_and_is_warned_about(https_fake):
    fake, _ = https_fake
    env = env_for(fake, cert_validation="ignore")
    assert open_transport(env.hosts[0], env).run("x", timeout=5).ok
    check = _auth_check(env.hosts[0].winrm)
    assert check.label == "warn" and "without certificate validation" in check.detail
