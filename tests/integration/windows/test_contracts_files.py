"""Contract tests of the file and release scripts, through the strict endpoint: for each script
its answer on success and on each failure mode (docs/windows.md, "Failure modes"). The model
may only answer what the script can (its shapes and throw messages, read from the .ps1)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zipfile

import pytest

from deploy.release.layout import Layout
from deploy.release.windows import WindowsHostOps, zip_artifact
from deploy.transport import open_transport
from deploy.transport.powershell import ScriptFailed
from tests.integration.windows.test_hostops_e2e import RID1, RID2, make_artifact

RID3 = "20261125-161200-0000abc"


def release(ops, tmp_path, rid=RID1, marker="one", extra=None) -> None:
    sha = make_artifact(tmp_path / f"{rid}.tar.gz", marker, extra)
    ops.unpack(ops.upload(tmp_path / f"{rid}.tar.gz", sha), rid, {"revision": rid[-7:]})


# ------------------------------------------------------------ prepare, put_file, get_file

def test_prepare_is_idempotent_and_says_whether_tar_exists(ops, windows_host, fs):
    assert (fs / "shared" / "media").is_dir() and (fs / "shared" / "local_settings.py").is_file() and ops.tar
    assert windows_host.model.calls[-1][0] == "prepare"
    assert ops.transport.call("prepare", {"DeployTo": windows_host.deploy_to}, timeout=10).created == []


def test_prepare_refuses_a_shared_dir_that_resolves_outside(ops, fs, outside):
    (fs / "shared" / "media").rmdir()
    (fs / "shared" / "media").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ScriptFailed, match=r"refusing to create C:\\shipyard\\site\\shared\\media\\uploads: it resolves to C:\\Windows"):
        ops.prepare(["media/uploads"], [])
    assert not (outside / "uploads").exists()


def test_put_file_checks_sha256_and_roots(ops, windows_host, fs, outside, tmp_path):
    blob = tmp_path / "b"
    blob.write_bytes(b"payload")
    release(ops, tmp_path)
    target = f"{windows_host.deploy_to}\\releases\\{RID1}\\app\\etc\\x.conf"
    ops.transport.put(blob, target, roots=[f"{windows_host.deploy_to}\\releases\\{RID1}"])
    assert (fs / "releases" / RID1 / "app" / "etc" / "x.conf").read_bytes() == b"payload"
    (fs / "releases" / RID1 / "app" / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ScriptFailed, match="refusing to write into .*evil: it resolves to C:\\\\Windows\\\\System32"):
        ops.transport.put(blob, target.replace("etc", "evil"), roots=[f"{windows_host.deploy_to}\\releases\\{RID1}"])
    with pytest.raises(ScriptFailed, match="sha256 mismatch"):
        ops.transport.put(blob, target, sha256="0" * 64)
    assert sorted(os.listdir(outside)) == ["drivers.sys"]


def test_get_file_reads_and_names_what_is_missing(ops, windows_host, fs, tmp_path):
    (fs / "shared" / "log.txt").write_text("line\n")
    ops.transport.get(f"{windows_host.deploy_to}\\shared\\log.txt", tmp_path / "log.txt")
    assert (tmp_path / "log.txt").read_text() == "line\n"
    with pytest.raises(ScriptFailed, match=r"open .*nope.txt failed after 1 attempt\(s\): Could not find file"):
        ops.transport.get(f"{windows_host.deploy_to}\\shared\\nope.txt", tmp_path / "x")
    with pytest.raises(ScriptFailed, match="fetch files over 2 bytes over SMB"):
        ops.transport.call("get_file", {"Path": f"{windows_host.deploy_to}\\shared\\log.txt", "MaxBytes": 2}, timeout=10)


# ------------------------------------------------------------ unpack

def test_unpack_success_and_failure_modes(ops, windows_host, fs, tmp_path):
    release(ops, tmp_path)
    info = json.loads((fs / "releases" / RID1 / "release.json").read_text())
    assert info["status"] == "pending" and info["id"] == RID1 and info["revision"] == RID1[-7:]
    with pytest.raises(ScriptFailed, match="release dir already exists"):
        release(ops, tmp_path)
    artifact = next((fs / ".shipyard" / "artifacts").iterdir())
    artifact.write_bytes(artifact.read_bytes() + b"tampered")
    with pytest.raises(ScriptFailed, match="artifact sha256 mismatch"):
        ops.unpack(ops.layout.artifact(artifact.name.split(".")[0]), RID2, {})
    no_manifest = tmp_path / "bare.tar.gz"
    with tarfile.open(no_manifest, "w:gz") as tar:
        info = tarfile.TarInfo("app/x")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ScriptFailed, match="artifact has no manifest.json at its root"):
        ops.unpack(ops.upload(no_manifest, hashlib.sha256(no_manifest.read_bytes()).hexdigest()), RID3, {})
    assert sorted(p.name for p in (fs / "releases").iterdir()) == [RID1]  # nothing half-unpacked left


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_unpack_refuses_links(ops, fs, tmp_path, kind):
    path = tmp_path / "links.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {"app/x": b"x", "manifest.json": b"{}"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("app/link")
        link.type, link.linkname = (tarfile.SYMTYPE, "../../escape") if kind == "symlink" else (tarfile.LNKTYPE, "app/x")
        tar.addfile(link)
    with pytest.raises(ScriptFailed, match="refusing link or special entry"):
        ops.unpack(ops.upload(path, hashlib.sha256(path.read_bytes()).hexdigest()), RID1, {})


def test_a_host_without_tar_gets_the_same_tree_as_a_zip(ops, windows_host, fs, tmp_path):
    windows_host.model.host_facts.facts["tar"] = False
    ops.prepare([], [])
    assert ops.tar is False
    sha = make_artifact(tmp_path / "a.tar.gz", "zipped")
    ops.unpack(ops.upload(tmp_path / "a.tar.gz", sha), RID1, {"artifact_sha256": sha})
    assert (fs / "releases" / RID1 / "app" / "site" / "version.txt").read_text() == "zipped"
    assert json.loads((fs / "releases" / RID1 / "release.json").read_text())["artifact_sha256"] == sha
    assert zip_artifact(tmp_path / "a.tar.gz").read_bytes() == zip_artifact(tmp_path / "a.tar.gz").read_bytes()
    with zipfile.ZipFile(zip_artifact(tmp_path / "a.tar.gz")) as z:
        with tarfile.open(tmp_path / "a.tar.gz") as t:
            assert [n.rstrip("/") for n in z.namelist()] == t.getnames()
    ops.transport.put(tmp_path / "a.tar.gz", ops.layout.artifact(sha), sha256=sha)  # a tar.gz all the same
    with pytest.raises(ScriptFailed, match=r"tar.exe not found .*: deploy a zip artifact"):
        ops.unpack(ops.layout.artifact(sha), RID2, {})


# ------------------------------------------------------------ link_shared, install, set_status

def test_link_shared_replaces_what_the_artifact_had_and_never_escapes(ops, fs, outside, tmp_path):
    release(ops, tmp_path, extra={"app/media/old.png": b"png"})
    ops.link_shared(RID1, ["media"], ["local_settings.py"])
    app = fs / "releases" / RID1 / "app"
    assert app.joinpath("media").resolve() == (fs / "shared" / "media").resolve() and not (fs / "shared" / "media" / "old.png").exists()
    assert os.stat(app / "local_settings.py").st_ino == os.stat(fs / "shared" / "local_settings.py").st_ino  # a hard link
    (app / "static").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ScriptFailed, match=r"refusing to link .*static\\cache: it resolves to C:\\Windows\\System32\\cache"):
        ops.link_shared(RID1, ["static/cache"], [])
    with pytest.raises(ScriptFailed, match="not a relative path inside the app"):
        ops.transport.call("link_shared", {"ReleaseDir": ops.layout.release(RID1), "SharedDir": ops.layout.shared,
                                           "LinkedDirs": ["..\\..\\x"]}, timeout=10)
    assert sorted(os.listdir(outside)) == ["drivers.sys"]


def test_install_builds_in_place_once_and_completes_an_interrupted_build(ops, windows_host, fs, tmp_path):
    release(ops, tmp_path)
    ops.install(RID1, "C:\\Python311\\python.exe", "k1")
    env = fs / "shared" / "envs" / "k1"
    assert (env / ".shipyard-complete").is_file() and (fs / "releases" / RID1 / ".deps").resolve() == env.resolve()
    assert "include-system-site-packages = false" in (env / "pyvenv.cfg").read_text()
    release(ops, tmp_path, RID2, "two")
    ops.install(RID2, "C:\\Python311\\python.exe", "k1")
    assert [c[1]["EnvDir"] for c in windows_host.model.calls if c[0] == "install"] == [str(ops.layout.dependency_env("k1"))] * 2
    (env / ".shipyard-complete").unlink()  # killed during pip: python.exe there, no marker
    answer = ops.transport.call("install", {"ReleaseDir": ops.layout.release(RID2), "SharedDir": ops.layout.shared,
                                            "Python": "C:\\Python311\\python.exe", "EnvDir": ops.layout.dependency_env("k1")}, timeout=10)
    assert answer.created and (env / ".shipyard-complete").is_file() and (env / "Scripts" / "python.exe").is_file()
    with pytest.raises(ScriptFailed, match=r"refusing to build an environment at C:\\elsewhere"):
        ops.transport.call("install", {"ReleaseDir": ops.layout.release(RID2), "SharedDir": ops.layout.shared,
                                       "Python": "py", "EnvDir": "C:\\elsewhere"}, timeout=10)


def test_install_can_see_system_site_packages(windows_host, fs, tmp_path):
    host = windows_host.host.model_copy(update={"system_site_packages": True})
    transport = open_transport(host, windows_host.env)
    ops = WindowsHostOps(transport, Layout(windows_host.deploy_to, windows=True))
    ops.prepare([], [])
    release(ops, tmp_path)
    ops.install(RID1, "C:\\Python311\\python.exe", "pywin32")
    assert "include-system-site-packages = true" in (fs / "shared" / "envs" / "pywin32" / "pyvenv.cfg").read_text()
    transport.close()


def test_set_status_refuses_a_release_json_that_is_a_link(ops, fs, outside, tmp_path):
    release(ops, tmp_path)
    ops.set_status(RID1, "good", {"by": "ci"})
    assert json.loads((fs / "releases" / RID1 / "release.json").read_text())["status"] == "good"
    (fs / "releases" / RID1 / "release.json").unlink()
    (fs / "releases" / RID1 / "release.json").symlink_to(outside / "drivers.sys")
    with pytest.raises(ScriptFailed, match=r"refusing to write .*release.json: it resolves to C:\\Windows\\System32\\drivers.sys"):
        ops.set_status(RID1, "failed")
    assert (outside / "drivers.sys").read_text() == "precious"


# ------------------------------------------------------------ switch, releases, retention, journal

def test_switch_retries_a_busy_rename_and_undoes_a_failed_one(ops, windows_host, fs, tmp_path):
    model = windows_host.model
    release(ops, tmp_path)
    release(ops, tmp_path, RID2, "two")
    ops.switch(RID1)
    model.busy["current"] = 3  # antivirus holds the new link for a moment
    ops.switch(RID2)
    assert ops.current() == RID2 and model.retries == 3
    model.busy["current"] = 9  # for good
    with pytest.raises(ScriptFailed, match=r"switching to .* failed: move .* failed after 7 attempt\(s\).*\(the old current is back in place\)"):
        ops.switch(RID1)
    assert ops.current() == RID2 and sorted(p.name for p in fs.iterdir() if p.name.startswith("current")) == ["current"]


def test_switch_refuses_a_real_directory_and_a_missing_release(ops, fs, tmp_path):
    with pytest.raises(ScriptFailed, match="no such release"):
        ops.switch(RID1)
    (fs / "current").mkdir()
    release(ops, tmp_path)
    with pytest.raises(ScriptFailed, match="is a real directory, not a junction"):
        ops.switch(RID1)


def test_releases_lists_incomplete_ones(ops, fs, tmp_path):
    release(ops, tmp_path)
    (fs / "releases" / RID2).mkdir()
    ops.switch(RID1)
    assert [(r.id, r.status, r.current) for r in ops.releases()] == [(RID1, "pending", True), (RID2, "incomplete", False)]


def test_retention_unlinks_a_linked_release_and_reports_what_it_cannot_delete(ops, windows_host, fs, outside, tmp_path):
    for rid, marker in [(RID1, "one"), (RID2, "two"), (RID3, "three")]:
        release(ops, tmp_path, rid, marker)
    ops.switch(RID3)
    os.rename(fs / "releases" / RID1, tmp_path / "moved")
    (fs / "releases" / RID1).symlink_to(outside, target_is_directory=True)  # a release dir that is a junction
    windows_host.model.undeletable.add(fs / ".shipyard" / "trash" / f"{RID2}-model" / "app" / "manage.py")
    assert ops.remove_releases([RID1, RID2, RID3]) == [RID3]
    assert sorted(os.listdir(outside)) == ["drivers.sys"] and not (fs / "releases" / RID1).exists()
    assert len(ops.left_in_trash) == 1 and "manage.py" in ops.left_in_trash[0] and "failed after 7 attempt(s)" in ops.left_in_trash[0]


@pytest.mark.parametrize("linked", [".shipyard/trash", ".shipyard"])
def test_retention_never_empties_a_trash_that_resolves_outside(ops, fs, outside, tmp_path, linked):
    """Everything in the trash is deleted: a trash (or .shipyard) that is a junction to elsewhere
    would have emptied that directory. Refused before any release is moved."""
    for rid, marker in [(RID1, "one"), (RID2, "two")]:
        release(ops, tmp_path, rid, marker)
    ops.switch(RID2)
    (fs / ".shipyard" / "trash").mkdir(parents=True, exist_ok=True)
    moved = fs / linked
    os.rename(moved, tmp_path / "aside")
    moved.symlink_to(outside, target_is_directory=True)
    with pytest.raises(ScriptFailed, match=r"refusing to empty the trash .*trash: it resolves to C:\\Windows\\System32"):
        ops.remove_releases([RID1])
    assert sorted(os.listdir(outside)) == ["drivers.sys"] and (outside / "drivers.sys").read_text() == "precious"
    assert (fs / "releases" / RID1 / "release.json").is_file()  # nothing moved either


def test_journal_appends_and_reads(ops):
    ops.append_journal({"action": "deploy", "outcome": "ok"})
    ops.append_journal({"action": "rollback", "outcome": "ok", "note": "caf\u00e9"})
    assert [e["action"] for e in ops.read_journal()] == ["deploy", "rollback"] and ops.read_journal()[1]["note"] == "caf\u00e9"


def test_journal_refuses_to_append_through_a_link(ops, fs, outside):
    journal = fs / ".shipyard" / "journal.jsonl"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.unlink(missing_ok=True)
    journal.symlink_to(outside / "drivers.sys")
    with pytest.raises(ScriptFailed, match=r"refusing to append to .*journal.jsonl: it resolves to C:\\Windows\\System32\\drivers.sys"):
        ops.append_journal({"action": "deploy", "outcome": "ok"})
    assert (outside / "drivers.sys").read_text() == "precious"
