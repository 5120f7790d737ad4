"""Windows preflight: ports, auth choice, quotas, PowerShell bitness, junctions, disk, long paths."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from deploy.config import WinRMOptions
from deploy.errors import ShipyardError
from deploy.preflight import MIN_FREE_BYTES, Check
from deploy.release.layout import Layout

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig
    from deploy.transport.powershell import PowerShellTransport

MIN_ENVELOPE_KB = 500  # our stdin Sends are sized for this (Windows Server default)
MIN_SHELL_MEMORY_MB = 1024


def _port_open(address: str, port: int, timeout: float = 5.0) -> str:
    try:
        socket.create_connection((address, port), timeout=timeout).close()
        return ""
    except OSError as e:
        return str(e)


def network_checks(host: "HostConfig") -> list[Check]:
    checks = []
    if host.transport == "winrm":
        o = host.winrm or WinRMOptions()
        error = _port_open(host.target, o.effective_port)
        checks.append(Check(f"WinRM {o.scheme.upper()} port {o.effective_port}", not error, error or "reachable",
                            "on the host: `winrm quickconfig -transport:https` and allow the port in Windows Firewall"))
        checks.append(_auth_check(o))
    if host.transport == "psexec" or (host.smb is not None and host.smb.enabled):
        port = host.smb.port if host.smb else (host.psexec.port if host.psexec else 445)
        error = _port_open(host.target, port)
        needed = host.transport == "psexec"
        checks.append(Check(f"SMB port {port}", not error, error or "reachable",
                            "allow 'File and Printer Sharing (SMB-In)' in Windows Firewall",
                            warning=not needed and bool(error)))
    return checks


def _auth_check(o: WinRMOptions) -> Check:
    if o.auth == "basic" and o.scheme == "http":
        return Check("WinRM auth", False, "basic over HTTP sends the password in clear text",
                     "use scheme = \"https\", or auth = \"ntlm\"/\"kerberos\" (message encryption over HTTP)")
    if o.scheme == "http" and o.message_encryption == "never":
        return Check("WinRM auth", False, f"{o.auth} over HTTP with message encryption off: SOAP travels in clear",
                     "remove message_encryption = \"never\" (Windows refuses it unless AllowUnencrypted is set)")
    if o.scheme == "https" and o.cert_validation == "ignore":
        return Check("WinRM auth", False, f"{o.auth} over HTTPS without certificate validation",
                     "set ca_trust_path to the CA bundle that signed the listener certificate", warning=True)
    return Check("WinRM auth", True, f"{o.auth} over {o.scheme.upper()}")


def host_checks(host: "HostConfig", env: "EnvConfig", transport: "PowerShellTransport", project: str = "") -> list[Check]:
    from deploy.preflight.windows_iis import iis_checks
    from deploy.release.windows import WindowsHostOps

    ops = WindowsHostOps(transport, Layout(env.host_deploy_to(host), windows=True), timeout=120)
    try:
        facts, account = ops.facts(), ops.doctor_facts()
    except ShipyardError as e:
        if "FullLanguage" in str(e):  # the bootstrap refuses ConstrainedLanguage before anything else
            return [Check("PowerShell language mode", False, str(e).split(": ", 2)[-1], LANGUAGE_FIX)]
        return [Check("run PowerShell", False, str(e), "check the account's rights and `invoke doctor` again")]
    return [Check("run PowerShell", True, f"{facts.os} ({facts.os_version}), PowerShell {facts.ps_version}"),
            *fact_checks(facts, ops.layout.deploy_to), *account_checks(account, host),
            *smb_checks(host, account, transport), *iis_checks(env, host, project, account.iis)]


LANGUAGE_FIX = ("exempt Shipyard's account from the AppLocker/WDAC policy (ConstrainedLanguage forbids the .NET calls "
                "the scripts make)")


def fact_checks(facts: Any, deploy_to: str) -> list[Check]:
    major_minor = tuple(int(p) for p in facts.ps_version.split(".")[:2])
    return [
        Check("PowerShell version", major_minor >= (5, 1), facts.ps_version, "install Windows Management Framework 5.1"),
        Check("PowerShell language mode", facts.language_mode == "FullLanguage", facts.language_mode, LANGUAGE_FIX),
        Check("64-bit PowerShell", facts.is64_process or not facts.is64_os,
              "64-bit" if facts.is64_process else "32-bit process on a 64-bit OS",
              "point the WinRM/PsExec shell at %SystemRoot%\\System32 (not SysWOW64) PowerShell"),
        Check("free disk", facts.free_bytes >= MIN_FREE_BYTES, f"{facts.free_bytes / 2**30:.1f} GiB free for {deploy_to}",
              f"free at least {MIN_FREE_BYTES / 2**30:.0f} GiB on that drive (old releases: `invoke releases`)"),
        Check("long paths", facts.long_paths,
              "a 280-character path works" if facts.long_paths else
              f"a 280-character path fails ({facts.long_path_error}); LongPathsEnabled is "
              f"{'on' if facts.long_paths_enabled else 'off'}",
              "set HKLM\\SYSTEM\\CurrentControlSet\\Control\\FileSystem LongPathsEnabled = 1 and keep release paths short",
              warning=True),
        Check("tar.exe", True, "present" if facts.tar else "missing: this host gets a zip artifact, unpacked with .NET"),
    ]


def account_checks(account: Any, host: "HostConfig") -> list[Check]:
    o = host.winrm or WinRMOptions()
    auth = o.auth if host.winrm else "ntlm"
    envelope, memory, timeout = account.max_envelope_kb, account.max_memory_per_shell_mb, account.max_timeout_ms
    return [
        Check("account", account.is_admin, f"{account.account} ({account.account_kind}, "
              f"{'administrator' if account.is_admin else 'not an administrator'})",
              "add the account to Administrators; local accounts also need LocalAccountTokenFilterPolicy = 1"),
        Check("Kerberos account", not (auth == "kerberos" and account.account_kind == "local"),
              f"{auth} with a {account.account_kind} account", "Kerberos needs a domain account; use ntlm for local ones"),
        Check("MaxEnvelopeSizekb", envelope is not None and envelope >= MIN_ENVELOPE_KB,
              "unreadable (needs admin)" if envelope is None else f"{envelope} KB",
              f"Set-Item WSMan:\\localhost\\MaxEnvelopeSizekb {MIN_ENVELOPE_KB}", warning=envelope is None),
        Check("MaxTimeoutms", timeout is not None and o.operation_timeout * 1000 <= timeout <= o.max_timeout * 1000,
              "unreadable (needs admin)" if timeout is None else
              f"{timeout} ms; operation_timeout {o.operation_timeout} s, max_timeout {o.max_timeout} s",
              f"keep operation_timeout <= MaxTimeoutms and set max_timeout = {(timeout or 60000) // 1000} in the host's winrm",
              warning=timeout is None or (host.transport != "winrm")),
        Check("MaxMemoryPerShellMB", memory is not None and (memory == 0 or memory >= MIN_SHELL_MEMORY_MB),
              "unreadable (needs admin)" if memory is None else f"{memory} MB",
              f"Set-Item WSMan:\\localhost\\Shell\\MaxMemoryPerShellMB {MIN_SHELL_MEMORY_MB * 2}", warning=memory is None),
        Check("junction in deploy_to", not account.junction_error, account.junction_error or "created and removed",
              "grant the account Modify on deploy_to (junctions need no symlink privilege)"),
    ]


def smb_checks(host: "HostConfig", account: Any, transport: "PowerShellTransport") -> list[Check]:
    """Admin shares for local accounts (remote UAC), and whether the server can encrypt SMB."""
    smb = getattr(transport, "smb", None)
    if smb is None:
        return []
    checks = []
    if account.account_kind == "local" and smb.options.share is None:
        checks.append(Check("LocalAccountTokenFilterPolicy", account.token_filter_policy == 1,
                            f"{account.token_filter_policy} (remote UAC {'off' if account.token_filter_policy == 1 else 'filters'} "
                            "the admin token of local accounts)",
                            "reg add HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System /v "
                            "LocalAccountTokenFilterPolicy /t REG_DWORD /d 1 — or configure an smb share"))
    dialect, error = smb.probe()
    needed = host.transport == "psexec"
    if error:
        checks.append(Check("SMB session", False, error,
                            "Server 2008 R2 speaks SMB 2.1, which cannot encrypt: set smb.encrypt = false on a trusted "
                            "network" + ("" if needed else ", or leave smb out to upload over WinRM"),
                            warning=not needed))
    else:
        checks.append(Check("SMB session", True, f"dialect {dialect}"))
    return checks
