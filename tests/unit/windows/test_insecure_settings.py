"""Insecure transport settings are found from the config alone and announced on every run
(a warning line per host and setting, an `insecure` event in deploys and rollbacks)."""

from __future__ import annotations

import io

import pytest

from deploy.config import EnvConfig, HealthConfig, HostConfig, PsExecOptions, SmbOptions, SshOptions, WinRMOptions
from deploy.report.events import EventBus
from deploy.report.schema import event_errors
from deploy.transport.insecure import emit_events, insecure_settings, print_warnings


@pytest.mark.parametrize("host,setting", [
    (HostConfig(name="w", transport="winrm", winrm=WinRMOptions(cert_validation="ignore")), 'winrm.cert_validation = "ignore"'),
    (HostConfig(name="w", transport="winrm", winrm=WinRMOptions(scheme="http", auth="basic")), 'winrm.auth = "basic" over http'),
    (HostConfig(name="w", transport="winrm", winrm=WinRMOptions(scheme="http", message_encryption="never")),
     'winrm.message_encryption = "never" over http'),
    (HostConfig(name="l", transport="ssh", ssh=SshOptions(trust_on_first_use=True)), "ssh.trust_on_first_use = true"),
    (HostConfig(name="w", transport="winrm", smb=SmbOptions(encrypt=False)), "smb.encrypt = false"),
    (HostConfig(name="p", transport="psexec", psexec=PsExecOptions(encrypt=False)), "psexec.encrypt = false"),
])
def test_each_insecure_setting_is_found(host, setting):
    assert [i.setting for i in insecure_settings(EnvConfig(hosts=[host]))] == [setting]


@pytest.mark.parametrize("host", [
    HostConfig(name="w", transport="winrm"),  # https, validated, ntlm
    HostConfig(name="w", transport="winrm", winrm=WinRMOptions(scheme="http")),  # ntlm + message encryption
    HostConfig(name="w", transport="winrm", winrm=WinRMOptions(cert_validation="ignore", scheme="http")),  # nothing to validate
    HostConfig(name="l", transport="ssh"), HostConfig(name="x", transport="local"),
    HostConfig(name="w", transport="winrm", smb=SmbOptions()),
])
def test_secure_defaults_are_silent(host):
    assert insecure_settings(EnvConfig(hosts=[host])) == []


def test_env_level_ssh_and_health_settings_count():
    env = EnvConfig(hosts=[HostConfig(name="l", transport="ssh")], ssh=SshOptions(trust_on_first_use=True),
                    health=HealthConfig(cert_validation="ignore"))
    assert [(i.host, i.setting) for i in insecure_settings(env)] == [
        ("l", "ssh.trust_on_first_use = true"), ("*", 'health.cert_validation = "ignore"')]


def test_warnings_are_printed_and_events_validate():
    env = EnvConfig(hosts=[HostConfig(name="win1", transport="winrm", winrm=WinRMOptions(cert_validation="ignore"))])
    out = io.StringIO()
    print_warnings(env, out)
    assert out.getvalue() == ('shipyard: warning: win1: winrm.cert_validation = "ignore": the WinRM listener\'s '
                              "certificate is not checked: anyone on the path can pose as the host\n")
    bus, seen = EventBus(run_id="t"), []
    bus.subscribe(seen.append)
    emit_events(env, bus.emit)
    assert [e["kind"] for e in seen] == ["insecure"] and event_errors(seen[0]) == []
