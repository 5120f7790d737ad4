"""Config additions for Windows hosts: defaults are the safe ones, mistakes fail before any I/O."""

from __future__ import annotations

import pytest

from deploy.config import HostConfig, WinRMOptions, parse
from deploy.errors import ConfigError

TOML = """
[env.production]
deploy_to = 'D:\\apps\\site'
secrets = { WINRM_PASSWORD = "SHIPYARD_WINRM_PASSWORD" }
[[env.production.hosts]]
name = "win1"
address = "win1.corp.example"
transport = "winrm"
user = "CORP\\\\deployer"
winrm = { auth = "kerberos", password_secret = "WINRM_PASSWORD" }
smb = { share = "apps", share_root = 'D:\\apps' }
[[env.production.hosts]]
name = "win2"
transport = "psexec"
psexec = { password_secret = "WINRM_PASSWORD" }
"""


def test_windows_hosts_parse_with_safe_defaults():
    env = parse(TOML, "shipyard.toml").env["production"]
    win1, win2 = env.hosts
    assert win1.winrm.scheme == "https" and win1.winrm.effective_port == 5986
    assert win1.winrm.cert_validation == "validate" and win1.winrm.message_encryption == "auto"
    assert win1.winrm.proxy is None and win1.smb.encrypt and win1.smb.share == "apps"
    assert win2.psexec.encrypt and win2.is_windows and win2.winrm is None


def test_defaults():
    o = WinRMOptions()
    assert (o.auth, o.operation_timeout, o.read_timeout, o.codepage) == ("ntlm", 20, 30, 65001)
    assert WinRMOptions(scheme="http").effective_port == 5985


@pytest.mark.parametrize("snippet,message", [
    ('winrm = { operation_timeout = 30, read_timeout = 30 }', "hosts[0].winrm: read_timeout (30) must exceed operation_timeout (30)"),
    ('winrm = { auth = "digest" }', "hosts[0].winrm.auth: 'digest' is not one of ntlm, kerberos, credssp, basic"),
    ('winrm = { auth = "basic", message_encryption = "always" }', "needs ntlm, kerberos or credssp"),
    ('winrm = { password = "hunter2" }', "hosts[0].winrm.password: unknown key"),
    ('winrm = { cert_validation = "off" }', "'off' is not one of validate, ignore"),
    ('smb = { share = "apps" }', "share and share_root go together"),
    ('psexec = { port = 0 }', "hosts[0].psexec.port: must be >= 1"),
])
def test_mistakes_are_config_errors_with_key_paths(snippet, message):
    text = f'[env.x]\n[[env.x.hosts]]\nname = "w"\ntransport = "winrm"\n{snippet}\n'
    with pytest.raises(ConfigError) as err:
        parse(text, "shipyard.toml")
    assert any(message in p for p in err.value.problems), err.value.problems
    assert err.value.exit_code == 2


def test_host_config_still_forbids_unknown_keys():
    with pytest.raises(Exception, match="extra"):
        HostConfig(name="w", winrm_options={})
