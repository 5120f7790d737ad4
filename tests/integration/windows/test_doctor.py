"""`invoke doctor`: Windows hosts through the WS-Man endpoint + model (facts the model reports),
POSIX checks through a real LocalTransport, and the invoke task end to end."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from invoke import Context, Exit

from deploy.config import EnvConfig, HostConfig, WinRMOptions
from deploy.errors import TransportError
from deploy.preflight import check_host, render
from deploy.preflight.windows import _auth_check
from deploy.tasks.doctor import doctor
from deploy.transport.local import LocalTransport


def by_name(report):
    return {c.name: c for c in report.checks}


def test_healthy_windows_host_passes_but_basic_over_http_is_flagged(windows_host):
    report = check_host(windows_host.host, windows_host.env)
    checks = by_name(report)
    assert [c.name for c in report.failed] == ["WinRM auth"]  # the fake speaks Basic over HTTP, as a lab would
    assert "clear text" in checks["WinRM auth"].detail and "https" in checks["WinRM auth"].fix
    assert checks[f"WinRM HTTP port {windows_host.fake.port}"].ok
    assert checks["run PowerShell"].detail.startswith("Microsoft Windows Server 2022")
    assert checks["account"].detail == "CORP\\deployer (domain, administrator)"
    names = [n for n, _ in windows_host.model.calls]
    assert names == ["facts", "doctor"] and windows_host.fake.verbs[-1] == "Delete"


def test_windows_problems_each_have_a_fix(windows_host):
    facts, account = windows_host.model.host_facts.facts, windows_host.model.host_facts.doctor
    facts.update(is64_process=False, free_bytes=2**29, long_paths=False, tar=False, ps_version="4.0")
    account.update(max_envelope_kb=150, max_memory_per_shell_mb=None, junction_error="Access is denied",
                   is_admin=False, account_kind="local", account="WIN1\\deploy")
    report = check_host(windows_host.host, windows_host.env)
    checks = by_name(report)
    failed = {c.name for c in report.failed}
    assert {"64-bit PowerShell", "free disk", "tar.exe", "PowerShell version", "MaxEnvelopeSizekb",
            "junction in deploy_to", "account"} <= failed
    assert checks["long paths"].label == "warn" and checks["MaxMemoryPerShellMB"].label == "warn"
    assert checks["MaxEnvelopeSizekb"].fix == "Set-Item WSMan:\\localhost\\MaxEnvelopeSizekb 500"
    assert all(c.fix and "\n" not in c.fix for c in report.checks if not c.ok)
    text = render([report])
    assert "FAIL 64-bit PowerShell: 32-bit process on a 64-bit OS" in text and "fix: point the WinRM" in text


def test_unreachable_windows_host(windows_host, monkeypatch):
    monkeypatch.setenv("SHIPYARD_TEST_WINRM_PASSWORD", "wrong")
    report = check_host(windows_host.host, windows_host.env)
    assert by_name(report)["run PowerShell"].ok is False
    assert "rejected the credentials" in by_name(report)["run PowerShell"].detail


def test_posix_checks_through_a_real_local_transport(tmp_path):
    host = HostConfig(name="box", transport="local")
    env = EnvConfig(deploy_to=str(tmp_path / "not" / "yet"), hosts=[host])
    report = check_host(host, env, LocalTransport(host))
    checks = by_name(report)
    assert checks["connect"].ok and checks["deploy_to writable"].ok
    free = shutil.disk_usage(tmp_path).free
    assert checks["free disk"].ok == (free >= 2 * 2**30)
    sudo_works = shutil.which("sudo") is not None and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0
    assert checks["sudo"].ok == sudo_works


class UnknownHostKey(LocalTransport):
    def run(self, command, **kwargs):
        raise TransportError(self.name, "Server '10.0.0.11' not found in known_hosts (host key unknown)")


def test_unknown_host_key_gets_the_keyscan_hint(tmp_path):
    host = HostConfig(name="web1", address="10.0.0.11", transport="ssh")
    report = check_host(host, EnvConfig(hosts=[host]), UnknownHostKey(host))
    assert [c.name for c in report.failed] == ["connect"]
    assert "ssh-keyscan" in report.checks[0].fix


def test_doctor_task_exits_1_and_prints_every_host(windows_host, tmp_path, capsys):
    config = tmp_path / "shipyard.toml"
    config.write_text(f"""
[env.mixed]
deploy_to = 'C:\\shipyard\\site'
secrets = {{ WINRM_PASSWORD = "SHIPYARD_TEST_WINRM_PASSWORD" }}
[[env.mixed.hosts]]
name = "win1"
address = "127.0.0.1"
transport = "winrm"
user = "deployer"
winrm = {{ scheme = "http", port = {windows_host.fake.port}, auth = "basic", password_secret = "WINRM_PASSWORD", operation_timeout = 2, read_timeout = 5 }}
[[env.mixed.hosts]]
name = "here"
transport = "local"
deploy_to = "{tmp_path / 'site'}"
""")
    with pytest.raises(Exit) as err:
        doctor(Context(), env="mixed", config=str(config))
    assert err.value.code == 1 and "preflight check(s) failed: win1: WinRM auth" in str(err.value.message)
    out = capsys.readouterr().out
    assert "win1         FAIL WinRM auth" in out and "here         ok   connect" in out


def test_encryption_off_over_http_is_flagged():
    check = _auth_check(WinRMOptions(scheme="http", message_encryption="never"))
    assert not check.ok and "in clear" in check.detail
    assert _auth_check(WinRMOptions(scheme="http")).ok  # ntlm + encryption: fine over HTTP
