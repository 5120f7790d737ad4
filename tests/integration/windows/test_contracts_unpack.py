"""unpack.ps1 checks the unpacked tree against the artifact's manifest before the rename, through
the strict endpoint and the contract model (held to the messages lib/Shipyard.ps1 throws).
Artifacts are written by the test with tarfile + hashlib (make_artifact), planted with files the
manifest does not name, files it names but the tarball lacks, other contents, and links."""

from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.release.layout import Layout
from deploy.release.windows import WindowsHostOps
from deploy.transport import open_transport
from deploy.transport.powershell import ScriptFailed
from tests.integration.windows.harness import windows_endpoint
from tests.integration.windows.test_hostops_e2e import RID1, make_artifact, write_tar


def unpack(ops, path, **planted) -> None:
    sha = make_artifact(path, "one", **planted)
    ops.unpack(ops.upload(path, sha), RID1, {})


def assert_nothing_unpacked(windows_host) -> None:
    releases = windows_host.model.local(windows_host.deploy_to) / "releases"
    assert sorted(os.listdir(releases)) == []  # neither the release nor its temp dir


@pytest.mark.parametrize("planted, message", [
    ({"unlisted": {"app/evil.dll": b"MZ"}}, r"unpack: app/evil\.dll is not in the manifest"),
    ({"unlisted": {"wheelhouse/extra.whl": b"PK"}}, r"unpack: wheelhouse/extra\.whl is not in the manifest"),
    ({"listed": {"app/site/version.txt": b"owt"}}, r"unpack: app/site/version\.txt has sha256 [0-9a-f]{64}, the manifest says "
                                                   + hashlib.sha256(b"owt").hexdigest()),
    ({"listed": {"static/site.css": b"body{color:red}\n"}}, r"unpack: static/site\.css is 7 bytes, the manifest says 16"),
    ({"listed": {"app/gone.py": b"x"}}, r"unpack: 1 file\(s\) of the manifest missing, the first app/gone\.py"),
])
def test_a_tree_that_is_not_its_manifest_is_refused_and_nothing_is_left(ops, windows_host, tmp_path, planted, message):
    with pytest.raises(ScriptFailed, match=message):
        unpack(ops, tmp_path / "a.tar.gz", **planted)
    assert_nothing_unpacked(windows_host)


def test_a_manifest_without_files_is_refused(ops, windows_host, tmp_path):
    sha = write_tar(tmp_path / "old.tar.gz", {"app/x": b"x", "manifest.json": b'{"revision": "r"}'})
    with pytest.raises(ScriptFailed, match="the manifest names no files"):
        ops.unpack(ops.upload(tmp_path / "old.tar.gz", sha), RID1, {})
    assert_nothing_unpacked(windows_host)


def test_a_link_that_appears_in_the_tree_is_refused(ops, windows_host, tmp_path, monkeypatch):
    """tar.exe's listing showed no link, yet one is there after extraction (a reparse point the
    listing cannot show): the tree check refuses it, never following it."""
    model = windows_host.model
    outside = model.local("C:\\Windows\\System32")
    outside.mkdir(parents=True)
    extract = model._extract

    def extract_and_plant(archive, target):
        extract(archive, target)
        (target / "app" / "sys").symlink_to(outside, target_is_directory=True)

    monkeypatch.setattr(model, "_extract", extract_and_plant)
    with pytest.raises(ScriptFailed, match="unpack: refusing a link or reparse point in the tree: app/sys"):
        unpack(ops, tmp_path / "a.tar.gz")
    assert_nothing_unpacked(windows_host)
    assert outside.is_dir()


def test_omit_leaves_the_wheelhouse_out_of_what_must_be_there(ops, windows_host, tmp_path):
    """A host that gets the dependency bundle gets the artifact less its wheelhouse: with Omit the
    wheelhouse the manifest names is not missing, and a wheelhouse file shipped all the same is refused."""
    whole, payload = tmp_path / "whole.tar.gz", tmp_path / "payload.tar.gz"
    sha_whole, sha_payload = make_artifact(whole, "one"), make_artifact(payload, "one", omit=("wheelhouse",))
    for path, sha in ((whole, sha_whole), (payload, sha_payload)):
        ops.transport.put(path, ops.layout.artifact(sha), sha256=sha)
    call = lambda sha, **omit: ops.transport.call("unpack", {  # noqa: E731
        "Archive": ops.layout.artifact(sha), "Sha256": sha, "ReleaseDir": ops.layout.release(RID1), **omit}, timeout=30)
    with pytest.raises(ScriptFailed, match="unpack: 1 file\\(s\\) of the manifest missing, the first wheelhouse/requirements.txt"):
        call(sha_payload)
    with pytest.raises(ScriptFailed, match="unpack: wheelhouse/requirements.txt is not in the manifest"):
        call(sha_whole, Omit=["wheelhouse"])
    assert_nothing_unpacked(windows_host)
    assert call(sha_payload, Omit=["wheelhouse"]).verified == 3
    with pytest.raises(ScriptFailed, match="Cannot validate argument on parameter 'Omit'"):
        call(sha_payload, Omit=["app"])


paths = st.sampled_from(["app/a.py", "app/pkg/b.py", "static/c.css", "wheelhouse/d.whl", "app/pkg/deep/e.txt"])
contents = st.binary(max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=st.dictionaries(paths, contents, min_size=1),
       mutation=st.sampled_from(["none", "unlisted", "listed", "changed"]), where=paths, data=contents)
def test_generated_trees_unpack_exactly_when_they_match_their_manifest(tmp_path_factory, tree, mutation, where, data):
    root = tmp_path_factory.mktemp("gen")
    planted = {"unlisted": {"unlisted": {f"{where}.x": data}}, "listed": {"listed": {f"{where}.y": data}},
               "changed": {"listed": {"app/manage.py": data + b"!"}}, "none": {}}[mutation]
    with windows_endpoint(root / "fs") as win:
        transport = open_transport(win.host, win.env)
        try:
            ops = WindowsHostOps(transport, Layout(win.deploy_to, windows=True), timeout=30)
            ops.prepare([], [])
            path = root / "a.tar.gz"
            sha = make_artifact(path, "gen", extra=tree, **planted)
            if mutation == "none":
                ops.unpack(ops.upload(path, sha), RID1, {})
                release = win.model.local(ops.layout.release(RID1))
                for name, body in tree.items():
                    assert (release / name).read_bytes() == body
                return
            with pytest.raises(ScriptFailed, match="unpack: "):
                ops.unpack(ops.upload(path, sha), RID1, {})
            assert_nothing_unpacked(win)
        finally:
            transport.close()
