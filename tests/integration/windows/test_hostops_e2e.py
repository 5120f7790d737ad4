"""WindowsHostOps end to end: real pywinrm -> strict WS-Man endpoint -> the scripts' contract model.

Proves: each verb sends the real scripts/ps1 text and parameters over the wire and
acts on validated answers; a deploy-like sequence works. Does not prove the
PowerShell itself (never ran on Windows here)."""

from __future__ import annotations

import base64
import hashlib
import inspect
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from deploy.config import ServiceConfig
from deploy.errors import CommandFailed, LockHeld
from deploy.release.layout import Layout
from deploy.release.windows import WindowsHostOps
from deploy.secrets import Secret
from deploy.transport import open_transport
from deploy.transport.powershell import BOOTSTRAP_COMMAND_LINE, ScriptFailed, load_script

RID1, RID2 = "20261125-141200-ab12cd3", "20261125-151200-ef45678"


def make_artifact(path: Path, marker: str, extra: dict[str, bytes] | None = None,
                  unlisted: dict[str, bytes] | None = None, listed: dict[str, bytes] | None = None,
                  omit: tuple[str, ...] = ()) -> str:
    """An artifact whose manifest.json names each payload file's size and sha256 (hashlib, not
    Shipyard's writer), `extra` files included. Planted mismatches: `unlisted` files go into the
    tarball only; `listed` ones into the manifest only (a name it lacks, or other contents).
    `omit`: top-level folders the manifest names but the tarball leaves out (a payload)."""
    files = {"app/manage.py": b"print('hi')\n", "app/site/version.txt": marker.encode(),
             "wheelhouse/requirements.txt": b"django\n", "static/site.css": b"body{}\n", **(extra or {})}
    named = {**files, **(listed or {})}
    manifest = {"revision": marker, "files": {name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                                     "mode": "0644"} for name, data in named.items()}}
    files = {name: data for name, data in files.items() if name.split("/")[0] not in omit}
    return write_tar(path, {**files, "manifest.json": json.dumps(manifest).encode(), **(unlisted or {})})


def write_tar(path: Path, files: dict[str, bytes]) -> str:
    """A .tar.gz of regular files, in this order; its sha256."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def ops(windows_host):
    transport = open_transport(windows_host.host, windows_host.env)
    yield WindowsHostOps(transport, Layout(windows_host.deploy_to, windows=True), timeout=30)
    transport.close()


def deploy(ops: WindowsHostOps, artifact: Path, sha: str, rid: str) -> None:
    remote = ops.upload(artifact, sha)
    ops.unpack(remote, rid, {"revision": rid[-7:], "deployed_by": "ci"})
    ops.link_shared(rid, ["media"], ["local_settings.py"])
    ops.install(rid, "C:\\Python311\\python.exe", "abc123")
    ops.switch(rid)
    ops.set_status(rid, "good")


def test_deploy_sequence_over_the_wire(ops, windows_host, tmp_path):
    model, fake = windows_host.model, windows_host.fake
    ops.prepare(["media"], ["local_settings.py"])
    ops.acquire_lock({"token": "t1", "user": "ci", "host": "runner"})
    sha1 = make_artifact(tmp_path / "a1.tar.gz", "one")
    deploy(ops, tmp_path / "a1.tar.gz", sha1, RID1)
    sha2 = make_artifact(tmp_path / "a2.tar.gz", "two")
    deploy(ops, tmp_path / "a2.tar.gz", sha2, RID2)
    ops.append_journal({"event": "deployed", "release": RID2})
    ops.release_lock("t1")

    releases = ops.releases()
    assert [(r.id, r.status, r.current) for r in releases] == [(RID1, "good", False), (RID2, "good", True)]
    assert releases[1].artifact_sha256 == sha2 and releases[1].revision == "ef45678"
    assert ops.current() == RID2
    assert ops.read_lock() is None
    assert ops.read_journal() == [{"event": "deployed", "release": RID2}]
    fs = model.local(windows_host.deploy_to)
    assert (fs / "current" / "app" / "site" / "version.txt").read_text() == "two"
    assert (fs / "releases" / RID2 / "app" / "media").resolve() == (fs / "shared" / "media").resolve()
    assert (fs / "releases" / RID2 / ".deps").resolve() == (fs / "shared" / "envs" / "abc123").resolve()
    # what the endpoint RECEIVED: the real script texts, one shell reused, params on stdin only
    names = [name for name, _ in model.calls]
    assert names[:3] == ["prepare", "lock", "file_hash"] and "put_file" in names
    unpack = next(rec for rec in fake.commands if load_script("unpack").encode() in _script_of(rec.stdin))
    assert RID1.encode() not in unpack.command_line.encode() and RID1.encode() not in base64.b64decode(unpack.command_line.split()[-1])
    assert len(fake.shells) == 1 and fake.deleted == []
    assert {c.command_line for c in fake.commands} == {BOOTSTRAP_COMMAND_LINE}  # every command: <= 8191 chars


def _script_of(stdin: bytes) -> bytes:
    return base64.b64decode(stdin.split(b"\r\n", 3)[2])


def test_failure_answer_leaves_the_old_release_current_for_rollback(ops, windows_host, tmp_path):
    """What the deploy flow's `failed` stage relies on: a failed switch raises a typed
    failure and `current` still names the previous release, which can be marked good again."""
    ops.prepare(["media"], ["local_settings.py"])
    deploy(ops, tmp_path / "a1.tar.gz", make_artifact(tmp_path / "a1.tar.gz", "one"), RID1)
    sha2 = make_artifact(tmp_path / "a2.tar.gz", "two")
    ops.unpack(ops.upload(tmp_path / "a2.tar.gz", sha2), RID2, {})
    windows_host.model.fail["switch"] = "Access to the path 'C:\\shipyard\\site\\current' is denied."
    with pytest.raises(ScriptFailed, match="is denied"):
        ops.switch(RID2)
    del windows_host.model.fail["switch"]
    ops.set_status(RID2, "failed")
    ops.switch(ops.current())
    assert [(r.id, r.status, r.current) for r in ops.releases()] == [(RID1, "good", True), (RID2, "failed", False)]


def test_close_deletes_the_shell(windows_host):
    transport = open_transport(windows_host.host, windows_host.env)
    WindowsHostOps(transport, Layout(windows_host.deploy_to, windows=True)).prepare([], [])
    transport.close()
    assert windows_host.fake.verbs[0] == "Create" and windows_host.fake.verbs[-1] == "Delete"
    assert windows_host.fake.shells == {} and len(windows_host.fake.deleted) == 1


def test_upload_skips_a_verified_copy(ops, windows_host, tmp_path):
    ops.prepare([], [])
    sha = make_artifact(tmp_path / "a.tar.gz", "one")
    ops.upload(tmp_path / "a.tar.gz", sha)
    ops.upload(tmp_path / "a.tar.gz", sha)
    assert [n for n, _ in windows_host.model.calls].count("put_file") == 1


def test_lock_held_names_the_holder(ops):
    ops.prepare([], [])
    ops.acquire_lock({"token": "a", "user": "alice"})
    with pytest.raises(LockHeld, match="user=alice") as err:
        ops.acquire_lock({"token": "b", "user": "bob"})
    assert "a" not in str(err.value).split("user=alice")[1]  # the token is not shown
    ops.release_lock("wrong")
    assert ops.read_lock()["user"] == "alice"


def test_unpack_refuses_escaping_entries(ops, windows_host, tmp_path):
    ops.prepare([], [])
    sha = make_artifact(tmp_path / "evil.tar.gz", "x", {"app/../../escape.txt": b"boom"})
    remote = ops.upload(tmp_path / "evil.tar.gz", sha)
    with pytest.raises(ScriptFailed, match="escapes the release dir"):
        ops.unpack(remote, RID1, {})
    assert not (windows_host.model.local(windows_host.deploy_to) / "releases" / RID1).exists()


def test_failed_switch_answer_is_a_typed_failure(ops, windows_host):
    ops.prepare([], [])
    with pytest.raises(ScriptFailed, match="no such release") as err:
        ops.switch(RID1)
    assert err.value.host == "win1" and err.value.step == "switch" and err.value.result.rc == 1


def test_retention_keeps_current_and_in_use(ops, windows_host, tmp_path):
    ops.prepare([], [])
    for rid, marker in [(RID1, "one"), (RID2, "two"), ("20261125-161200-0000abc", "three")]:
        sha = make_artifact(tmp_path / f"{marker}.tar.gz", marker)
        ops.unpack(ops.upload(tmp_path / f"{marker}.tar.gz", sha), rid, {})
    ops.switch(RID2)
    windows_host.model.in_use.add(RID1)
    kept = ops.remove_releases([RID1, RID2, "20261125-161200-0000abc"])
    assert kept == [RID1, RID2]
    assert [r.id for r in ops.releases()] == [RID1, RID2]


def test_retention_refusal_is_loud(ops, windows_host):
    """A `current` that is not a junction stops retention with its reason (the flow reports it)."""
    ops.prepare([], [])
    (windows_host.model.local(windows_host.deploy_to) / "current").mkdir()
    with pytest.raises(ScriptFailed, match="is not a junction: retention cannot tell which release is live"):
        ops.remove_releases([RID1])


def test_hook_gets_secrets_on_stdin_not_the_command_line(ops, windows_host, tmp_path):
    seen = {}

    def runner(command, env, workdir):
        seen.update(env)
        return (0, "migrated\n", "warning: on stderr\n") if command == "python manage.py migrate" else (3, "boom", "")

    windows_host.model.hook_runner = runner
    ops.prepare([], [])
    ops.unpack(ops.upload(tmp_path / "a.tar.gz", make_artifact(tmp_path / "a.tar.gz", "one")), RID1, {})
    secret = Secret("DB_PASSWORD", "hunter2-very-secret")
    result = ops.run_hook(RID1, "python manage.py migrate", {"STAGE": "updating"}, {"DB_PASSWORD": secret})
    assert (result.rc, result.stdout, result.stderr) == (0, "migrated\n", "warning: on stderr")
    assert seen == {"STAGE": "updating", "DB_PASSWORD": "hunter2-very-secret"}
    hook = windows_host.fake.commands[-1]
    assert b"hunter2" not in hook.command_line.encode()
    assert b"hunter2" not in base64.b64decode(hook.stdin.split(b"\r\n")[0])  # not in the params either
    with pytest.raises(CommandFailed, match="exited 3"):
        ops.run_hook(RID1, "exit 3", {}, {})
    assert windows_host.model.hooks == [("powershell", "python manage.py migrate"), ("powershell", "exit 3")]


def test_service_restart_iis_recycle_and_health(ops, windows_host):
    model = windows_host.model
    model.services = {"SiteWorker": {"status": "Running", "dependents": ["SiteBeat"], "hangs": True, "pid": 4100},
                      "SiteBeat": {"status": "Running"}}
    state = ops.service("SiteWorker", "restart", timeout=20)
    assert (state.status, state.dependents, state.killed) == ("Running", ["SiteBeat"], True)
    assert model.services["SiteBeat"]["status"] == "Running"
    assert model.calls[-1] == ("service", {"Name": "SiteWorker", "Action": "restart", "TimeoutSec": 20})
    model.app_pools["shipsite"] = "Started"
    assert ops.recycle_app_pool("shipsite").state == "Started" and model.recycles == ["shipsite"]
    assert ops.check_health("http://localhost/health/").status == 200
    model.health_ok = False
    with pytest.raises(ScriptFailed, match="health check .* failed"):
        ops.check_health("http://localhost/health/")


def test_restart_dispatches_configured_services(ops, windows_host):
    model = windows_host.model
    model.services = {"SiteWorker": {"status": "Stopped", "dependents": []}}
    model.app_pools = {"shipsite": "Stopped"}
    assert ops.restart(ServiceConfig(kind="windows", name="SiteWorker", timeout=30)).status == "Running"
    assert ops.restart(ServiceConfig(kind="iis_apppool", name="shipsite")).was == "Stopped"
    assert [n for n, _ in model.calls] == ["service", "iis_recycle"]
    with pytest.raises(ValueError, match="supervisor services do not run on Windows hosts"):
        ops.restart(ServiceConfig(kind="supervisor", name="web"))


def test_parameters_bind_as_powershell_would(ops, windows_host):
    """The model binds params against each real param() block: a wrong call from Python fails
    like PowerShell's binder, and the bootstrap's envelope turns it into ok=false with its message."""
    transport = ops.transport
    with pytest.raises(ScriptFailed, match="cannot be found that matches parameter name 'Release'") as err:
        transport.call("switch", {"DeployTo": "C:\\x", "Release": RID1}, timeout=10)
    assert err.value.result.rc == 1
    for params, message in [({"Name": "W3SVC"}, "missing mandatory parameters: Action"),
                            ({"Name": "W3SVC", "Action": "reload"}, "does not belong to the set"),
                            ({"Name": "W3SVC; rm", "Action": "stop"}, "does not match"),
                            ({"Name": "W3SVC", "Action": "stop", "TimeoutSec": 0}, "outside the range")]:
        with pytest.raises(ScriptFailed, match=re.escape(message)):
            transport.call("service", params, timeout=10)


def test_model_verbs_take_exactly_the_scripts_parameters(windows_host):
    """Guards the model against drifting from scripts/ps1."""
    model = windows_host.model
    for name, params in model.params.items():
        signature = inspect.signature(getattr(model, f"do_{name}"))
        assert {p for p in signature.parameters if p != "rest"} == {p.name for p in params.values()}, name
