"""Retention of the uploads in .shipyard\\artifacts (remove_releases.ps1 -PruneArtifacts, through the
strict endpoint and the contract model): what goes is exactly what no remaining release came from and
no remaining release's env was made from; nothing outside .shipyard\\artifacts, no link followed."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.release.layout import Layout
from deploy.release.windows import WindowsHostOps
from deploy.transport import open_transport
from deploy.transport.powershell import ScriptFailed
from tests.integration.windows.harness import windows_endpoint
from tests.integration.windows.test_contracts_deps import PYTHON, handmade_bundle
from tests.integration.windows.test_contracts_files import RID3
from tests.integration.windows.test_hostops_e2e import RID1, RID2, make_artifact


def deploy(ops, fs, tmp_path, rid, payload=False, bundle_key="", send_bundle=True) -> set[str]:
    """Upload + unpack (+ install_bundle) as update_in_steps does; the names it put in .shipyard\\artifacts."""
    before = uploads(fs)
    path = tmp_path / f"{rid}.tar.gz"
    omit = ("wheelhouse",) if payload else ()
    ops.unpack(ops.upload(path, make_artifact(path, rid, omit=omit)), rid, {"revision": rid[-7:]}, omit=omit)
    if bundle_key:
        bundle = tmp_path / f"bundle-{bundle_key[:4]}.tar.gz"
        info = handmade_bundle(bundle, bundle_key, {"m.py": bundle_key[:4].encode()})
        ops.install_bundle(rid, PYTHON, info, bundle if send_bundle else None)
    return uploads(fs) - before


def uploads(fs) -> set[str]:
    artifacts = fs / ".shipyard" / "artifacts"
    return {p.name for p in artifacts.iterdir()} if artifacts.is_dir() else set()


@pytest.mark.parametrize("tar", [True, False], ids=["tar", "zip"])
def test_retention_prunes_exactly_the_uploads_no_remaining_release_uses(ops, fs, outside, tmp_path, tar):
    ops.tar = tar
    first = deploy(ops, fs, tmp_path, RID1, bundle_key="a" * 64)
    second = deploy(ops, fs, tmp_path, RID2, payload=True, bundle_key="b" * 64)
    third = deploy(ops, fs, tmp_path, RID3, bundle_key="b" * 64, send_bundle=False)  # the env is there: nothing sent
    assert len(first) == len(second) == 2 and len(third) == 1
    artifacts = fs / ".shipyard" / "artifacts"
    (artifacts / ("c" * 64 + ".tar.gz")).write_text("left by an older version")
    (artifacts / "x.tar.gz.part").write_text("a killed upload")
    (artifacts / "escape").symlink_to(outside, target_is_directory=True)  # a junction out: unlinked, never followed
    ops.switch(RID3)
    assert ops.remove_releases([RID1]) == []
    assert uploads(fs) >= first | second | third  # removing releases alone prunes nothing (a resumed deploy's upload)
    pruned = ops.prune_unused()
    assert uploads(fs) == second | third  # RID2's payload, RID3's artifact, and the bundle RID3's env was made from
    assert sorted(pruned) == sorted(f".shipyard\\artifacts\\{n}" for n in first | {"c" * 64 + ".tar.gz", "x.tar.gz.part", "escape"})
    assert sorted(os.listdir(outside)) == ["drivers.sys"] and ops.left_in_trash == []
    assert (fs / "shared" / "envs" / ("a" * 64)).is_dir()  # envs are not this script's to prune
    bundle_b = second - {n for n in second if n.startswith(json.loads((fs / "releases" / RID2 / "release.json").read_text())["unpacked_from"])}
    assert ops.remove_releases([RID2]) == [] and ops.prune_unused() == [f".shipyard\\artifacts\\{n}" for n in second - bundle_b]
    assert uploads(fs) == third | bundle_b  # RID3 came with no bundle, but its env was made from that one


def test_artifacts_linked_out_of_deploy_to_are_refused_before_anything_goes(ops, fs, outside, tmp_path):
    deploy(ops, fs, tmp_path, RID1)
    ops.switch(RID1)
    artifacts = fs / ".shipyard" / "artifacts"
    os.rename(artifacts, tmp_path / "aside")
    artifacts.symlink_to(outside, target_is_directory=True)
    with pytest.raises(ScriptFailed, match=r"refusing to prune the uploads in .*artifacts: it resolves to C:\\Windows\\System32"):
        ops.prune_unused()
    assert sorted(os.listdir(outside)) == ["drivers.sys"] and (outside / "drivers.sys").read_text() == "precious"


def test_a_release_unpacked_before_unpacked_from_keeps_its_artifact_by_sha(ops, fs, tmp_path):
    kept = deploy(ops, fs, tmp_path, RID1)
    info = fs / "releases" / RID1 / "release.json"
    record = json.loads(info.read_text())
    del record["unpacked_from"]
    info.write_text(json.dumps(record))
    other = deploy(ops, fs, tmp_path, RID2)
    (fs / "releases" / RID2 / "release.json").unlink()  # a release that cannot tell what it came from
    assert ops.prune_unused() == [] and uploads(fs) == kept | other
    assert len(ops.left_in_trash) == 1 and "nothing pruned" in ops.left_in_trash[0] and "has no release.json" in ops.left_in_trash[0]
    (fs / "releases" / RID2).rename(tmp_path / "gone")
    assert ops.prune_unused() == [f".shipyard\\artifacts\\{n}" for n in other] and uploads(fs) == kept


def test_an_undeletable_upload_is_reported_and_the_rest_still_go(ops, windows_host, fs, tmp_path):
    deploy(ops, fs, tmp_path, RID1)
    artifacts = fs / ".shipyard" / "artifacts"
    for name in ("d" * 64 + ".zip", "e" * 64 + ".tar.gz"):
        (artifacts / name).write_text("old")
    windows_host.model.undeletable.add(artifacts / ("d" * 64 + ".zip"))
    assert ops.prune_unused() == [".shipyard\\artifacts\\" + "e" * 64 + ".tar.gz"]
    assert len(ops.left_in_trash) == 1 and "d" * 64 + ".zip" in ops.left_in_trash[0] and "failed after 7 attempt(s)" in ops.left_in_trash[0]


# ------------------------------------------------------------ generated sets of releases and uploads

SHAS = [f"{i:x}" * 64 for i in range(1, 7)]
upload_names = st.sets(st.tuples(st.sampled_from(SHAS), st.sampled_from([".tar.gz", ".zip"])), max_size=8)
release_plan = st.tuples(
    st.sampled_from(["name", "legacy"]), st.integers(0, 20),  # unpacked_from an upload (or one not there); legacy: by sha
    st.one_of(st.none(), st.integers(0, 2)),  # the env its .deps points at
    st.booleans())  # removed by this retention


def plant(fs, files: list[str], plans: list[tuple], env_bundles: list[int | None]) -> tuple[set[str], list[str]]:
    """Uploads, envs (with the bundle each was made from) and releases as a deploy leaves them; the
    uploads the kept releases use (the oracle, from the plan) and the releases retention removes."""
    def pick(i: int) -> str:
        return files[i] if i < len(files) else f"{'f' * 64}.tar.gz"  # an upload that is not there
    artifacts = fs / ".shipyard" / "artifacts"
    artifacts.mkdir(parents=True)
    for name in files:
        (artifacts / name).write_text(name)
    for key, bundle in enumerate(env_bundles):
        (fs / "shared" / "envs" / str(key)).mkdir(parents=True)
        if bundle is not None:
            (fs / "shared" / "envs" / str(key) / ".shipyard-bundle").write_text(pick(bundle))
    used, doomed = set(), []
    for n, (how, upload, env, removed) in enumerate(plans):
        rid = f"20261125-1600{n:02d}-000000{n}"
        release = fs / "releases" / rid
        release.mkdir(parents=True)
        sha = pick(upload).split(".")[0]
        record = {"unpacked_from": pick(upload)} if how == "name" else {"artifact_sha256": sha}
        (release / "release.json").write_text(json.dumps({"id": rid, "status": "good", **record}))
        if env is not None:
            (release / ".deps").symlink_to(fs / "shared" / "envs" / str(env), target_is_directory=True)
        if removed:
            doomed.append(rid)
            continue
        used |= {pick(upload)} if how == "name" else {f for f in files if f.startswith(sha + ".")}
        if env is not None and env_bundles[env] is not None:
            used.add(pick(env_bundles[env]))
    return used & set(files), doomed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=upload_names, plans=st.lists(release_plan, min_size=1, max_size=5),
       env_bundles=st.lists(st.one_of(st.none(), st.integers(0, 20)), min_size=3, max_size=3))
def test_generated_releases_keep_exactly_the_uploads_they_use(tmp_path_factory, names, plans, env_bundles):
    files = sorted(sha + ext for sha, ext in names)
    with windows_endpoint(tmp_path_factory.mktemp("gen") / "fs") as win:
        fs = win.model.local(win.deploy_to)
        used, doomed = plant(fs, files, plans, env_bundles)
        transport = open_transport(win.host, win.env)
        try:
            ops = WindowsHostOps(transport, Layout(win.deploy_to, windows=True), timeout=30)
            assert ops.remove_releases(doomed) == []
            pruned = ops.prune_unused()
        finally:
            transport.close()
        assert uploads(fs) == used
        assert sorted(pruned) == sorted(f".shipyard\\artifacts\\{n}" for n in set(files) - used)
        assert all((fs / "shared" / "envs" / str(k)).is_dir() for k in range(3))
