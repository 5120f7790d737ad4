"""L6: the same checks against a REAL Windows host. Opt-in: deselected (and reported as
not run) unless SHIPYARD_WINRM_HOST / SHIPYARD_PSEXEC_HOST are set.

    SHIPYARD_WINRM_HOST=win1.corp SHIPYARD_WINDOWS_USER='CORP\\deployer' SHIPYARD_WINDOWS_PASSWORD=... \\
    [SHIPYARD_WINRM_AUTH=ntlm SHIPYARD_WINRM_SCHEME=https SHIPYARD_WINRM_CA=/path/ca.pem] \\
    [SHIPYARD_PSEXEC_HOST=win2.corp] pytest tests/integration/windows/test_real_windows.py

Each run deploys under C:\\shipyard-test\\<random> and removes it afterwards."""

from __future__ import annotations

import os
import uuid
from pathlib import PureWindowsPath

import pytest

from deploy.config import EnvConfig, HostConfig, PsExecOptions, SmbOptions, WinRMOptions
from deploy.errors import CommandTimeout
from deploy.release.layout import Layout
from deploy.release.windows import WindowsHostOps
from deploy.transport import open_transport
from deploy.transport.powershell import ScriptFailed, parse_answer
from tests.integration.windows.test_hostops_e2e import RID1, RID2, make_artifact

SECRETS = {"WINDOWS_PASSWORD": "SHIPYARD_WINDOWS_PASSWORD"}


def real_host(transport: str) -> HostConfig:
    address = os.environ[f"SHIPYARD_{transport.upper()}_HOST"]
    common = {"name": f"real-{transport}", "address": address, "transport": transport,
              "user": os.environ.get("SHIPYARD_WINDOWS_USER")}
    if transport == "winrm":
        winrm = WinRMOptions(auth=os.environ.get("SHIPYARD_WINRM_AUTH", "ntlm"),
                             scheme=os.environ.get("SHIPYARD_WINRM_SCHEME", "https"),
                             ca_trust_path=os.environ.get("SHIPYARD_WINRM_CA"), password_secret="WINDOWS_PASSWORD")
        return HostConfig(**common, winrm=winrm, smb=SmbOptions(password_secret="WINDOWS_PASSWORD")
                          if os.environ.get("SHIPYARD_WINDOWS_SMB") else None)
    return HostConfig(**common, psexec=PsExecOptions(password_secret="WINDOWS_PASSWORD"))


@pytest.fixture(params=[pytest.param("winrm", marks=pytest.mark.windows_real("SHIPYARD_WINRM_HOST")),
                        pytest.param("psexec", marks=pytest.mark.windows_real("SHIPYARD_PSEXEC_HOST"))])
def real_ops(request):
    host = real_host(request.param)
    deploy_to = f"C:\\shipyard-test\\{uuid.uuid4().hex[:8]}"
    env = EnvConfig(deploy_to=deploy_to, hosts=[host], secrets=SECRETS)
    transport = open_transport(host, env)
    ops = WindowsHostOps(transport, Layout(deploy_to, windows=True), timeout=300)
    yield ops
    transport.run(f"Remove-Item -LiteralPath '{deploy_to}' -Recurse -Force -ErrorAction SilentlyContinue", timeout=120, check=False)
    transport.close()


def test_real_facts(real_ops):
    facts = real_ops.facts()
    assert facts.is64_process and facts.tar


def test_real_warnings_and_host_output_stay_off_the_answer_line(real_ops):
    """A warning or Write-Host inside a step: the answer is still the one JSON line on stdout and the
    records reach stderr (powershell.exe prints them on a redirected stdout otherwise, PowerShell #7989)."""
    script = ("[CmdletBinding()]\nparam()\nWrite-Warning 'w1'\nWrite-Host 'h1'\n"
              "Write-Information 'i1' -InformationAction Continue\nreturn [ordered]@{ done = 1 }\n")
    result = real_ops.transport.run_powershell(script, {}, timeout=120, step="probe", label="probe")
    assert parse_answer(result, "probe").data == {"done": 1}
    assert "WARNING: w1" in result.stderr and "INFORMATION: h1" in result.stderr and "INFORMATION: i1" in result.stderr


def test_real_deploy_switch_retention(real_ops, tmp_path):
    ops = real_ops
    ops.prepare(["media"], [])
    ops.acquire_lock({"token": "real", "user": "pytest"})
    uploaded = {}
    for rid, marker in ((RID1, "one"), (RID2, "two")):
        sha = make_artifact(tmp_path / f"{marker}.tar.gz", marker)
        uploaded[rid] = ops.upload(tmp_path / f"{marker}.tar.gz", sha)
        ops.unpack(uploaded[rid], rid, {"revision": marker})
        ops.link_shared(rid, ["media"], [])
        ops.switch(rid)
    assert ops.current() == RID2
    ops.switch(RID1)  # rollback
    assert [(r.id, r.current) for r in ops.releases()] == [(RID1, True), (RID2, False)]
    assert ops.remove_releases([RID1, RID2]) == [RID1]  # current is kept
    pruned = {PureWindowsPath(p).name for p in ops.prune_unused()}  # RID2's upload goes, the current one's stays
    assert PureWindowsPath(uploaded[RID2]).name in pruned and PureWindowsPath(uploaded[RID1]).name not in pruned
    ops.append_journal({"event": "real"})
    assert ops.read_journal() == [{"event": "real"}]
    ops.release_lock("real")


def test_real_escaping_archive_is_refused(real_ops, tmp_path):
    real_ops.prepare([], [])
    sha = make_artifact(tmp_path / "evil.tar.gz", "x", {"app/../../evil.txt": b"x"})
    with pytest.raises(ScriptFailed, match="escapes"):
        real_ops.unpack(real_ops.upload(tmp_path / "evil.tar.gz", sha), RID1, {})


def test_real_deadline_and_errors(real_ops):
    with pytest.raises(CommandTimeout):
        real_ops.transport.run("Start-Sleep -Seconds 120", timeout=5)
    failed = real_ops.transport.run("Write-Error 'boom'", timeout=60, check=False)
    assert failed.rc != 0 and "boom" in failed.stderr
    big = real_ops.transport.run("$x = '" + "a" * 20000 + "'; Write-Output $x.Length", timeout=60)
    assert big.stdout.strip() == "20000"


def test_real_hook_runs_apart_with_streams_and_exit_code(real_ops):
    """A native program's stderr must not end the hook, and `exit 3` must not end the answer."""
    from deploy.errors import CommandFailed

    real_ops.prepare([], [])
    with pytest.raises(CommandFailed) as err:
        real_ops.run_hook(None, "cmd.exe /c 'echo warning 1>&2'; Write-Output 'out'; exit 3", {}, {})
    assert err.value.result.rc == 3 and "out" in err.value.result.stdout and "warning" in err.value.result.stderr
    with pytest.raises(CommandFailed):  # Set-StrictMode: an unset variable is an error
        real_ops.run_hook(None, "Write-Output $NotSetAnywhere", {}, {})


def test_real_long_path_probe_and_language_mode(real_ops):
    facts = real_ops.facts()
    assert facts.language_mode == "FullLanguage" and isinstance(facts.long_paths, bool)


def test_real_unpack_refuses_a_tree_that_is_not_its_manifest(real_ops, tmp_path):
    real_ops.prepare([], [])
    sha = make_artifact(tmp_path / "extra.tar.gz", "x", unlisted={"app/evil.dll": b"MZ"})
    with pytest.raises(ScriptFailed, match="unpack: app/evil.dll is not in the manifest"):
        real_ops.unpack(real_ops.upload(tmp_path / "extra.tar.gz", sha), RID1, {})
    assert real_ops.releases() == []


def test_real_bundle_becomes_a_venv_the_host_python_imports(real_ops, tmp_path):
    """SHIPYARD_WINDOWS_PYTHON (default C:\\Python311\\python.exe): its platform tag as facts.ps1 reads it,
    then the win_amd64 bundle of the vendored wheels unpacked into a bare venv that imports MarkupSafe's .pyd."""
    from tests.integration.windows.test_contracts_deps import PYTHON, build_real_bundle

    python = os.environ.get("SHIPYARD_WINDOWS_PYTHON", PYTHON)
    info, path = build_real_bundle(tmp_path)
    real_ops.prepare([], [])
    assert real_ops.dependency_facts(python, [info["key"]]) == {"platform": "win-amd64-cpython-311", "envs": [],
                                                               "python_error": ""}
    sha = make_artifact(tmp_path / "a.tar.gz", "one")
    real_ops.unpack(real_ops.upload(tmp_path / "a.tar.gz", sha), RID1, {})
    assert real_ops.install_bundle(RID1, python, info, path).verified > 20
    probe = f"& '{real_ops.layout.dependency_env(info['key'])}\\Scripts\\python.exe' -c 'import markupsafe._speedups, click, colorama'"
    assert real_ops.transport.run(probe, timeout=120, check=False).rc == 0
