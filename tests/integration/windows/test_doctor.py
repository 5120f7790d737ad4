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
    assert windows_host.model.calls[0][1]["ProbeLongPath"] is True  # doctor probes a real long path


def test_windows_problems_each_have_a_fix(windows_host):
    facts, account = windows_host.model.host_facts.facts, windows_host.model.host_facts.doctor
    facts.update(is64_process=False, free_bytes=2**29, long_paths=False, long_path_error="The specified path, file name, "
                 "or both are too long.", long_paths_enabled=False, tar=False, ps_version="4.0")
    account.update(max_envelope_kb=150, max_memory_per_shell_mb=None, junction_error="Access is denied",
                   is_admin=False, account_kind="local", account="WIN1\\deploy", max_timeout_ms=1000)
    report = check_host(windows_host.host, windows_host.env)
    checks = by_name(report)
    failed = {c.name for c in report.failed}
    assert {"64-bit PowerShell", "free disk", "PowerShell version", "MaxEnvelopeSizekb", "MaxTimeoutms",
            "junction in deploy_to", "account"} <= failed
    assert checks["long paths"].label == "warn" and checks["MaxMemoryPerShellMB"].label == "warn"
    assert "280-character path fails (The specified path" in checks["long paths"].detail
    assert checks["tar.exe"].ok and "zip artifact" in checks["tar.exe"].detail  # a fallback, not a failure
    assert "set max_timeout = 1" in checks["MaxTimeoutms"].fix
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


def test_constrained_language_is_reported_with_its_fix(windows_host):
    windows_host.model.host_facts.facts["language_mode"] = "ConstrainedLanguage"
    checks = by_name(check_host(windows_host.host, windows_host.env))
    check = checks["PowerShell language mode"]
    assert not check.ok and "ConstrainedLanguage mode" in check.detail and "AppLocker" in check.fix
    assert windows_host.model.calls == []  # refused by the bootstrap, before any script


class ProbedSmb:
    """An SmbTransfer whose session outcome a test decides (Samba cannot speak SMB 2.1 only here)."""

    def __init__(self, dialect: str, error: str, share=None):
        from deploy.config import SmbOptions

        self.dialect, self.error, self.options = dialect, error, SmbOptions(share=share, share_root="D:\\apps" if share else None)

    def probe(self):
        return self.dialect, self.error

    def close(self):
        pass


def test_smb_dialect_and_token_filter_policy(windows_host):
    from deploy.transport import open_transport

    windows_host.model.host_facts.doctor.update(account_kind="local", account="WIN1\\deploy", token_filter_policy=0)
    transport = open_transport(windows_host.host, windows_host.env)
    transport.smb = ProbedSmb("", "SMB encryption is required (smb.encrypt) but the server's dialect cannot encrypt "
                                  "(SMB 2.x; Server 2008 R2 speaks 2.1)")
    checks = by_name(check_host(windows_host.host, windows_host.env, transport))
    assert checks["LocalAccountTokenFilterPolicy"].label == "FAIL" and "reg add" in checks["LocalAccountTokenFilterPolicy"].fix
    assert checks["SMB session"].label == "warn" and "upload over WinRM" in checks["SMB session"].fix  # WinRM falls back
    transport = open_transport(windows_host.host, windows_host.env)
    transport.smb = ProbedSmb("3.1.1", "", share="apps")
    checks = by_name(check_host(windows_host.host, windows_host.env, transport))
    assert checks["SMB session"].detail == "dialect 3.1.1" and "LocalAccountTokenFilterPolicy" not in checks


def test_iis_checks_for_a_site_served_by_iis(windows_host):
    from deploy.siteconfig.model import SiteConfig

    env = windows_host.env.model_copy(update={"site": SiteConfig(servers=["iis"], static_root="current/static")})
    iis = windows_host.model.host_facts.doctor["iis"]
    iis.update(web_administration=False, appcmd=True, handlers_override="Deny")
    checks = by_name(check_host(windows_host.host, env, project="shipsite"))
    assert checks["IIS management"].ok and checks["IIS management"].detail == "IISAdministration, appcmd.exe"
    assert checks["IIS handlers section"].ok and checks["FastCGI application"].label == "warn"
    python = "C:\\shipyard\\site\\current\\.deps\\Scripts\\python.exe"
    iis["fastcgi"] = [f"{python}|C:\\shipyard\\site\\current\\.deps\\Lib\\site-packages\\wfastcgi.py",
                      "C:\\shipyard\\site\\shared\\venv\\Scripts\\python.exe|x.py"]
    live = windows_host.model.local(windows_host.deploy_to) / "current"
    live.mkdir(parents=True)
    (live / "web.config").write_text("<configuration><system.webServer><handlers/></system.webServer></configuration>")
    checks = by_name(check_host(windows_host.host, env, project="shipsite"))
    assert checks["FastCGI application"].ok
    assert checks["IIS handlers section"].label == "FAIL" and "500.19" in checks["IIS handlers section"].detail
    iis.update(web_administration=False, iis_administration=False, appcmd=False)
    assert by_name(check_host(windows_host.host, env, project="shipsite"))["IIS management"].label == "FAIL"
