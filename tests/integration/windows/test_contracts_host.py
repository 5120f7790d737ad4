"""Contract tests of the host scripts (hooks, services, IIS, health) and of the bootstrap's
envelope, through the strict endpoint: success and each failure mode."""

from __future__ import annotations

import json

import pytest

from deploy.config import EnvConfig
from deploy.errors import CommandFailed, CommandTimeout, TransportError
from deploy.release.layout import Layout
from deploy.release.windows import WindowsHostOps
from deploy.release.windows_iis import fastcgi_arguments, iis_plan
from deploy.secrets import Secret
from deploy.siteconfig.model import IisConfig, SiteConfig
from deploy.transport import open_transport
from deploy.transport.powershell import HOOK_PRELUDE, ScriptFailed
from tests.integration.windows.model import ModelError
from tests.integration.windows.test_contracts_files import release
from tests.integration.windows.test_hostops_e2e import RID1


@pytest.fixture
def ops(windows_host):
    transport = open_transport(windows_host.host, windows_host.env)
    ops = WindowsHostOps(transport, Layout(windows_host.deploy_to, windows=True), timeout=30)
    ops.prepare([], [])
    yield ops
    transport.close()


# ------------------------------------------------------------ the bootstrap's envelope

def test_a_binding_error_is_an_answer_not_silence(ops):
    with pytest.raises(ScriptFailed, match="missing mandatory parameters: DeployTo") as err:
        ops.transport.call("releases", {}, timeout=10)
    assert err.value.step == "releases" and err.value.result.rc == 1


def test_the_model_cannot_answer_what_the_script_cannot(ops, windows_host, monkeypatch):
    """The model's failures are checked against the script's own throw messages."""
    def invented(**kwargs):
        raise ModelError("a message releases.ps1 never throws")

    monkeypatch.setattr(windows_host.model, "do_releases", invented)
    with pytest.raises(TransportError, match="releases.ps1 cannot throw"):
        ops.releases()


# ------------------------------------------------------------ hooks

def test_hooks_run_in_their_own_process_with_streams_apart(ops, windows_host, tmp_path):
    model = windows_host.model
    model.hook_runner = lambda command, env, workdir: (0, f"in {workdir.name}\n", "pip: a warning on stderr\n")
    release(ops, tmp_path)
    result = ops.run_hook(RID1, "& $env:SHIPYARD_PYTHON -m pip check", {"SHIPYARD_PYTHON": "py"}, {"K": Secret("K", "v")})
    assert (result.rc, result.stdout, result.stderr) == (0, "in app\n", "pip: a warning on stderr")
    shell, command = windows_host.model.calls[-1][1]["Shell"], windows_host.model.calls[-1][1]["Command"]
    assert shell == "powershell" and command.startswith(HOOK_PRELUDE)  # Set-StrictMode -Version Latest, 'Stop'
    ops.run_hook(RID1, "scripts\\seed.cmd --fast", {}, {})
    assert model.hooks[-1] == ("cmd", "scripts\\seed.cmd --fast")


def test_a_hook_that_exits_non_zero_or_hangs_fails_by_name(ops, windows_host, tmp_path):
    release(ops, tmp_path)
    windows_host.model.hook_runner = lambda command, env, workdir: (7, "", "boom\n")
    with pytest.raises(CommandFailed, match="exited 7") as err:
        ops.run_hook(RID1, "exit 7", {}, {})
    assert err.value.result.stderr == "boom"
    windows_host.model.hook_runner = lambda command, env, workdir: (0, "partial", "", True)
    with pytest.raises(CommandTimeout) as timeout:
        ops.run_hook(RID1, "Start-Sleep 9999", {}, {})
    assert timeout.value.host == "win1" and timeout.value.timeout == 30
    with pytest.raises(ScriptFailed, match="hook working directory .* does not exist"):
        ops.run_hook("20261125-000000-0000000", "x", {}, {})


# ------------------------------------------------------------ services

def services(model, **extra):
    model.services = {
        "W3SVC": {"status": "Running", "dependents": ["SiteWorker"], "pid": 880},
        "WAS": {"status": "Running", "pid": 880},  # both in one svchost -k iissvcs
        "SiteWorker": {"status": "Running", "pid": 4100},
        "SiteBeat": {"status": "Paused", "dependents": [], "pid": 4200},
    }
    for name, changes in extra.items():
        model.services[name].update(changes)


def test_a_hung_service_in_its_own_process_is_killed(ops, windows_host):
    services(windows_host.model, SiteWorker={"hangs": True})
    state = ops.service("SiteWorker", "restart", timeout=20)
    assert (state.status, state.killed) == ("Running", True)
    assert windows_host.model.calls[-1][1] == {"Name": "SiteWorker", "Action": "restart", "TimeoutSec": 20}


def test_a_shared_svchost_is_never_killed_and_what_ran_is_started_again(ops, windows_host):
    services(windows_host.model, W3SVC={"hangs": True})
    with pytest.raises(ScriptFailed, match=r"W3SVC did not stop within 20 s; its process 880 also hosts WAS, so it was "
                                           r"not killed; every service that ran before runs again"):
        ops.service("W3SVC", "restart", timeout=20)
    assert {n: s["status"] for n, s in windows_host.model.services.items() if n != "SiteBeat"} == \
        {"W3SVC": "Running", "WAS": "Running", "SiteWorker": "Running"}


def test_every_dependent_is_stopped_whatever_its_state(ops, windows_host):
    services(windows_host.model, SiteWorker={"dependents": ["SiteBeat"]})
    state = ops.service("SiteWorker", "stop", timeout=20)
    assert state.dependents == ["SiteBeat"] and windows_host.model.services["SiteBeat"]["status"] == "Stopped"


def test_a_dependent_that_does_not_start_is_reported(ops, windows_host):
    services(windows_host.model, SiteWorker={"starts": False})
    with pytest.raises(ScriptFailed, match="SiteWorker did not reach Running within 20 s; could not start again: SiteWorker"):
        ops.service("W3SVC", "restart", timeout=20)
    with pytest.raises(ScriptFailed, match="Cannot find any service with service name 'Nope'"):
        ops.service("Nope", "start")


# ------------------------------------------------------------ IIS

def iis_env(windows_host, deploy_to="C:\\shipyard\\site", **iis) -> EnvConfig:
    site = SiteConfig(servers=["iis"], static_root="current/static", server_names=["shop.example"], iis=IisConfig(**iis))
    return windows_host.env.model_copy(update={"site": site, "deploy_to": deploy_to})


def installed(ops, tmp_path, wfastcgi=True):
    """A release with its environment built from a wheelhouse that has (or lacks) wfastcgi."""
    extra = {"wheelhouse/wfastcgi-3.0.0-py3-none-any.whl": _wheel({"wfastcgi.py": b"# wfastcgi\n"})} if wfastcgi else {}
    release(ops, tmp_path, extra=extra)
    ops.install(RID1, "C:\\Python311\\python.exe", "k")


def _wheel(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr("wfastcgi-3.0.0.dist-info/METADATA", "Name: wfastcgi\n")
    return buf.getvalue()


def test_configure_iis_creates_site_pool_fastcgi_and_handlers(ops, windows_host, tmp_path):
    model = windows_host.model
    model.sites = {"Default Web Site": {"id": 1, "bindings": ["http/*:80:"], "app_pool": "DefaultAppPool", "physical_path": "x"}}
    installed(ops, tmp_path)
    env = iis_env(windows_host, certificate_thumbprint="ab" * 20)
    answer = ops.configure_iis(env, "shipsite", RID1)
    site = model.sites["shipsite"]
    assert site["id"] == 2 and site["physical_path"] == "C:\\shipyard\\site\\current"
    assert site["bindings"] == ["http/*:80:shop.example", "https/*:443:shop.example"] and site["certificates"] == {443: "AB" * 20}
    plan = iis_plan(env, windows_host.host, "shipsite")
    assert answer.fastcgi == plan.processor and model.handlers["shipsite"] == {"Shipyard-Django": plan.processor}
    assert model.handlers["shipsite/static"] == {} and answer.static_location == "shipsite/static"
    assert model.fastcgi[plan.processor] == {"WSGI_HANDLER": "shipsite.wsgi.application", "PYTHONPATH": "C:\\shipyard\\site\\current\\app"}
    again = ops.configure_iis(env, "shipsite", RID1)
    assert not again.created and model.sites["shipsite"]["id"] == 2  # idempotent


def test_configure_iis_refuses_a_release_without_wfastcgi_and_a_taken_site_id(ops, windows_host, tmp_path):
    model = windows_host.model
    model.sites = {"Default Web Site": {"id": 1, "bindings": ["http/*:80:"], "app_pool": "DefaultAppPool", "physical_path": "x"}}
    installed(ops, tmp_path, wfastcgi=False)
    with pytest.raises(ScriptFailed, match=r"site-packages\\wfastcgi.py is missing: the release's environment needs wfastcgi"):
        ops.configure_iis(iis_env(windows_host), "shipsite", RID1)
    with pytest.raises(ScriptFailed, match="site id 1 is taken by site 'Default Web Site'"):
        ops.configure_iis(iis_env(windows_host, site_id=1, site="other"), "shipsite", RID1)


def test_iis_writes_are_retried_while_application_host_config_is_busy(ops, windows_host, tmp_path):
    installed(ops, tmp_path)
    windows_host.model.iis_busy = 4
    assert ops.configure_iis(iis_env(windows_host), "shipsite", RID1).backend == "WebAdministration"
    windows_host.model.iis_busy = 7
    with pytest.raises(ScriptFailed, match=r"failed after 7 attempt\(s\): Cannot commit configuration changes"):
        ops.recycle_app_pool("shipsite")
    windows_host.model.iis_backend = "appcmd"  # WebAdministration does not load (Server Core without it)
    assert ops.recycle_app_pool("shipsite").backend == "appcmd"


def test_paths_with_spaces_are_quoted_where_fastcgi_needs_it(windows_host):
    env = iis_env(windows_host, deploy_to="D:\\Web Sites\\shop")
    plan = iis_plan(env, windows_host.host, "shop")
    assert plan.fastcgi["Python"] == "D:\\Web Sites\\shop\\current\\.deps\\Scripts\\python.exe"
    assert plan.fastcgi["Arguments"] == '"D:\\Web Sites\\shop\\current\\.deps\\Lib\\site-packages\\wfastcgi.py"'
    assert plan.processor == f"{plan.fastcgi['Python']}|{plan.fastcgi['Arguments']}"
    assert fastcgi_arguments("C:\\x\\wfastcgi.py") == "C:\\x\\wfastcgi.py"
    assert json.loads(plan.site["Bindings"]) == [{"protocol": "http", "ip": "*", "port": 80, "host": "shop.example",
                                                  "thumbprint": "", "store": "My", "sni": False}]


def test_health_follows_the_iis_chain_and_honours_the_certificate_policy(ops, windows_host, tmp_path):
    model = windows_host.model
    installed(ops, tmp_path)
    ops.configure_iis(iis_env(windows_host), "shipsite", RID1)
    with pytest.raises(ScriptFailed, match="failed after 3 attempts: HTTP 500"):  # current does not exist yet
        ops.check_health("http://localhost/health/")
    ops.switch(RID1)
    assert ops.check_health("https://localhost:80/health/", cert_validation="ignore").status == 200
    assert model.calls[-1][1]["CertValidation"] == "ignore"
    model.app_pools["shipsite"] = "Stopped"
    with pytest.raises(ScriptFailed, match="HTTP 503"):
        ops.check_health("http://localhost/health/")
