"""Rolling deploys of the example site to 3 lab hosts behind HAProxy, through the real CLI:
`invoke lab.up`, `invoke build`, `invoke deploy --env lab`, and the faults the issue names."""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
from tests.integration.farm.farmlab import RequestLoop, SiteProject, currents, journal, lock_record

from deploy.lab.state import Lab

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = Path(f"/tmp/syfarm-{uuid.uuid4().hex[:8]}")  # short: unix socket paths live under it
    site = SiteProject(root / "repo", root / "lab")
    out = site.invoke("lab.up", "--hosts", "3", "--dir", str(site.lab_dir)).stdout
    assert "mode: netns" in out and (root / "repo" / ".shipyard" / "env" / "lab.toml").is_file()
    env_file = root / "repo" / ".shipyard" / "env" / "lab.toml"  # a user may edit it too
    env_file.write_text(env_file.read_text().replace("timeout = 30", "timeout = 10"))
    site.lab = Lab.load(site.lab_dir)
    site.releases = []
    try:
        yield site
    finally:
        down = site.invoke("lab.down", "--dir", str(site.lab_dir), check=False)
        assert down.returncode == 0, down.stderr
        assert not site.lab_dir.exists() and not (root / "repo" / ".shipyard" / "env" / "lab.toml").exists()
        shutil.rmtree(root, ignore_errors=True)


def deploy(project: SiteProject, *args: str, check: bool = True):
    result = project.invoke("deploy", "--env", "lab", *args, check=check)
    if result.returncode == 0:
        project.releases.append(result.stdout.strip().splitlines()[-1].split()[1])
    return result


def served(project: SiteProject) -> set[str]:
    loop = RequestLoop(project.lab.frontend_url + "/health/", limit=12)
    with loop:
        time.sleep(1)
    assert not loop.failures
    return set(loop.releases)


def test_first_deploy_serves_every_host_behind_haproxy(project):
    project.build()
    deploy(project)
    first = project.releases[-1]
    assert currents(project.lab) == {"lab1": first, "lab2": first, "lab3": first}
    assert served(project) == {first}
    assert all(lock_record(project.lab, i) is None for i in range(3))


def test_rolling_redeploy_fails_no_request(project):
    old = project.releases[-1]
    (project.root / "site" / "CHANGES").write_text("v2\n")
    project.commit("v2")
    project.build()
    with RequestLoop(project.lab.frontend_url + "/health/") as loop:
        time.sleep(0.5)
        deploy(project)
        time.sleep(0.5)
    new = project.releases[-1]
    assert loop.failures == [] and loop.ok > 100
    assert loop.releases[0] == old and loop.releases[-1] == new  # the roll happened under traffic
    assert currents(project.lab) == {"lab1": new, "lab2": new, "lab3": new}


def test_health_failure_in_batch_2_puts_every_host_back(project):
    good = project.releases[-1]
    project.break_health_where_marked()
    project.commit("v3: broken where marked")
    project.build()
    marker = Path(project.lab.hosts[1].deploy_to) / "shared" / "fail-health"
    marker.touch()
    events_file = project.root / "batch2-events.jsonl"
    try:
        with RequestLoop(project.lab.frontend_url + "/health/") as loop:
            result = deploy(project, "--events", str(events_file), check=False)
    finally:
        marker.unlink()
    assert result.returncode == 1
    assert "lab2" in result.stderr and "health" in result.stderr
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    order = [(e["kind"], e.get("batch"), e.get("action"), e.get("host")) for e in events
             if e["kind"] == "batch" or (e["kind"] == "step" and e["step"] == "switch" and e.get("result") == "ok")]
    assert order[:4] == [("batch", 1, "start", None), ("step", None, None, "lab1"), ("batch", 1, "end", None),
                         ("batch", 2, "start", None)]  # each batch announced when it starts, not all at the end
    assert not any(e["kind"] == "batch" and e["batch"] == 3 for e in events)  # the rollout stopped at batch 2
    ends = {e["host"]: e for e in events if e["kind"] == "stage.end" and e["stage"] == "publishing"}
    assert ends["lab2"]["result"] == "failed" and "health" in ends["lab2"]["error"]
    assert ends["lab3"]["result"] == "skipped" and ends["lab3"]["error"] == "stopped: lab2 failed"
    lab3_lines = [line.split(None, 2)[2] for line in result.stderr.splitlines() if line.split()[1:2] == ["lab3"]]
    assert any(line.startswith("publishing skipped") and line.endswith("stopped: lab2 failed") for line in lab3_lines)
    assert not any("failed" in line and "health" in line for line in lab3_lines)  # never under lab2's error
    assert currents(project.lab) == {"lab1": good, "lab2": good, "lab3": good}  # lab1 (batch 1) went back too
    assert loop.failures == []
    entries = [journal(project.lab, i)[-1] for i in range(3)]
    assert [e["release"] for e in entries] == [good] * 3
    assert [e["outcome"] for e in entries] == ["rolled_back", "rolled_back", "not_switched"]
    assert "health" not in entries[2]["error"] and "the run stopped when lab2 failed" in entries[2]["error"]
    bad = next(r for r in (Path(project.lab.hosts[0].deploy_to) / "releases").iterdir() if r.name not in project.releases)
    assert json.loads((bad / "release.json").read_text())["status"] == "failed"
    assert all(lock_record(project.lab, i) is None for i in range(3))
    assert served(project) == {good}


def test_a_second_deploy_fails_fast_naming_the_holder_or_waits(project):
    from deploy.config import load
    from deploy.engine.context import close_targets, new_owner, open_targets
    from deploy.engine.lock import acquire_env_lock

    env = load(project.root / "shipyard.toml").environment("lab")
    targets = open_targets(env)
    owner = {**new_owner("test"), "user": "release-bot", "reason": "holding for the test"}
    lease = acquire_env_lock([t.ops for t in targets], owner)
    try:
        started = time.monotonic()
        blocked = deploy(project, check=False)
        assert blocked.returncode == 1 and time.monotonic() - started < 15
        assert "release-bot" in blocked.stderr and "holding for the test" in blocked.stderr
        status = project.invoke("lock.status", "--env", "lab", check=False)
        assert status.returncode == 1 and status.stdout.count("held by release-bot") == 3
        timer = threading.Timer(2.0, lease.release)
        timer.start()
        deploy(project, "--lock-wait", "60")  # waits for the lease, then deploys
        timer.join()
    finally:
        lease.release()
        close_targets(targets)
    assert project.invoke("lock.status", "--env", "lab").stdout.count(": free") == 3


def test_lock_break_removes_a_stuck_lock_and_journals_it(project):
    from deploy.config import load
    from deploy.engine.context import close_targets, new_owner, open_targets

    env = load(project.root / "shipyard.toml").environment("lab")
    targets = open_targets(env)
    stuck = {**new_owner("test"), "user": "crashed-job", "acquired_at": time.time(), "ttl": 3600}
    for t in targets:  # what a run that died holding the lease leaves behind
        t.ops.acquire_lock(stuck)
    close_targets(targets)
    refused = project.invoke("lock.break", "--env", "lab", check=False)  # no stdin: cannot confirm
    assert refused.returncode == 2 and "not confirmed" in refused.stderr and lock_record(project.lab, 0) is not None
    broke = project.invoke("lock.break", "--env", "lab", "--yes")
    assert "broke the lock on lab1, lab2, lab3" in broke.stdout
    assert all(lock_record(project.lab, i) is None for i in range(3))
    assert journal(project.lab, 0)[-1]["action"] == "lock.break"
    assert journal(project.lab, 0)[-1]["lease"]["user"] == "crashed-job"


def test_sigint_mid_batch_leaves_every_host_on_old_or_new_and_unlocks(project):
    old = currents(project.lab)["lab1"]
    (project.root / "site" / "CHANGES").write_text("v5\n")
    project.commit("v5")
    project.build()
    proc = project.popen("deploy", "--env", "lab")
    seen = []
    for line in proc.stderr:  # the progress lines
        seen.append(line)
        if "lab1" in line and "publishing/ready ok" in line:  # batch 1 done, batch 2 starting
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(seen) + out + err
    now = currents(project.lab)
    # every host switched so far, the one caught mid-switch too, is put back: the farm is on one release
    assert set(now.values()) == {old}, (now, "".join(seen) + out + err)
    assert "interrupted" in err + "".join(seen)
    assert all(lock_record(project.lab, i) is None for i in range(3))
    assert served(project) <= set(now.values())
    assert "lab1: current release" in out and "lab3: current release" in out


def test_unreachable_host_fails_before_anything_changes(project):
    from deploy.lab import hosts as labhosts

    before = currents(project.lab)
    lab3 = project.lab.hosts[2]
    labhosts.stop_sshd(lab3)
    try:
        started = time.monotonic()
        result = deploy(project, check=False)
        assert result.returncode == 1 and "lab3" in result.stderr
        assert time.monotonic() - started < 30
        # the read-only verbs show every host that answers, mark the one that does not, then fail
        for task in ("status", "releases"):
            seen = project.invoke(task, "--env", "lab", check=False)
            assert seen.returncode == 1, (task, seen.stdout, seen.stderr)
            lines = seen.stdout.splitlines()
            assert any(line.startswith("lab1: ") or line == "lab1:" for line in lines), seen.stdout
            assert any(line.startswith("lab2: ") or line == "lab2:" for line in lines), seen.stdout
            marked = [line for line in lines if line.startswith("lab3: UNREACHABLE")]
            assert marked and "Connection refused" in marked[0] and "Errno" not in seen.stdout + seen.stderr
            assert before["lab1"] in seen.stdout and "1 of 3 host(s) could not be read: lab3" in seen.stderr
    finally:
        labhosts.start_sshd(lab3, private_mounts=True)
    assert currents(project.lab) == before
    assert all(lock_record(project.lab, i) is None for i in range(3))


def test_delta_redeploy_ships_only_what_the_host_lacks(project):
    import sys

    from deploy.artifact.verify import read_sidecar, verify_artifact
    from deploy.config import load
    from deploy.engine.context import close_targets, open_targets
    from deploy.artifact.bundle import native_platform
    from deploy.release.delta import Shipments
    from deploy.release.upload import DepsUpload, ReleaseUpload, send_release

    artifact = Path(project.build())
    sha = read_sidecar(artifact)["sha256"]
    manifest = verify_artifact(artifact, sha)
    shipments = Shipments(artifact, sha, manifest, read_sidecar(artifact).get("payload"))
    bundle = manifest["deps"][native_platform()]
    deps = DepsUpload(bundle["key"], bundle["manifest_sha256"], None)  # the hosts have the env already
    env = load(project.root / "shipyard.toml").environment("lab")
    target = open_targets(env, env.hosts[:1])[0]
    previous = next(r for r in target.ops.releases() if r.current)
    prev_dir = Path(target.ops.layout.release(previous.id))

    def upload(rid):
        return ReleaseUpload(rid, {"revision": "x"}, sys.executable, previous.id, shipments.full, [], [], deps)

    try:
        answer = send_release(target.ops, shipments, upload("20991231-000000-0000001"), previous.artifact_sha256)
        assert answer["sent"] < 0.002 * artifact.stat().st_size  # same revision: almost nothing travels
        assert answer["hashed_to_link"] == 0  # the previous release's stat index vouched for every file
        new_dir = Path(target.ops.layout.release("20991231-000000-0000001"))
        assert (new_dir / "app" / "manage.py").samefile(prev_dir / "app" / "manage.py")  # hard link
        assert json.loads((new_dir / "release.json").read_text())["status"] == "pending"

        tampered = prev_dir / "app" / "manage.py"  # a file changed after deploy is never reused
        original = tampered.read_bytes()
        tampered.write_bytes(b"# tampered\n")
        try:
            again = send_release(target.ops, shipments, upload("20991231-000000-0000002"), previous.artifact_sha256)
            copy = Path(target.ops.layout.release("20991231-000000-0000002")) / "app" / "manage.py"
            assert copy.read_bytes() == original and not copy.samefile(tampered)
            assert again["sent"] > answer["sent"]
        finally:
            tampered.write_bytes(original)
    finally:
        target.ops.remove_releases(["20991231-000000-0000001", "20991231-000000-0000002"])
        close_targets([target])


def test_a_release_whose_service_cannot_start_is_reverted(project):
    good = currents(project.lab)
    assert len(set(good.values())) == 1
    wsgi = project.root / "site" / "shipsite" / "wsgi.py"
    original = wsgi.read_text()
    wsgi.write_text(original + "\nraise RuntimeError('this release cannot boot')\n")
    project.commit("v6: cannot boot")
    project.build()
    try:
        result = deploy(project, check=False)
    finally:
        wsgi.write_text(original)
        project.commit("v7: boots again")
    assert result.returncode == 1
    assert "lab1" in result.stderr and "restart" in result.stderr  # batch 1 failed at restart
    assert currents(project.lab) == good
    assert served(project) == set(good.values())
    assert all(lock_record(project.lab, i) is None for i in range(3))


def test_disk_full_on_a_target_fails_the_update_and_changes_nothing(project):
    from deploy.config import load
    from deploy.transport.ssh import SshTransport

    before = currents(project.lab)
    (project.root / "site" / "CHANGES").write_text("v8\n")
    project.commit("v8")
    project.build()
    env = load(project.root / "shipyard.toml").environment("lab")
    releases = f"{env.hosts[2].deploy_to}/releases"  # where the release streams into
    with SshTransport.connect(env.hosts[2], env) as lab3:  # mounted inside lab3's own mount namespace
        lab3.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", releases], timeout=10)
        lab3.run(f"dd if=/dev/zero of={releases}/filler bs=1k count=128 2>/dev/null; true", timeout=10)  # full
        try:
            result = deploy(project, check=False)
            leftovers = lab3.run(["ls", "-A", releases], timeout=10).stdout.split()
        finally:
            lab3.run(["umount", releases], timeout=10)
    assert result.returncode == 1
    assert "lab3" in result.stderr and "updating" in result.stderr
    assert currents(project.lab) == before
    assert leftovers == ["filler"]  # no partial release left behind
    assert all(lock_record(project.lab, i) is None for i in range(3))


def _kill_sshd_and_sessions(host) -> None:
    """sshd and every session it serves in the host's namespace: the link dies mid-step."""
    import os
    import subprocess

    pids = subprocess.run(["ip", "netns", "pids", host.netns], capture_output=True, text=True).stdout.split()
    for pid in pids:
        try:
            if open(f"/proc/{pid}/comm").read().strip() == "sshd":
                os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def test_sshd_killed_mid_update_fails_cleanly_and_changes_nothing(project):
    from deploy.lab import hosts as labhosts

    before = currents(project.lab)
    (project.root / "site" / "CHANGES").write_text("v9\n")
    project.commit("v9")
    project.build()
    lab3 = project.lab.hosts[2]
    proc = project.popen("deploy", "--env", "lab")
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if "lab3" in line and "updating" in line:  # lab3's upload/unpack has begun
                _kill_sshd_and_sessions(lab3)
                break
        out, err = proc.communicate(timeout=180)
    finally:
        labhosts.start_sshd(lab3, private_mounts=True)
    text = "".join(seen) + err
    assert proc.returncode == 1, text
    assert "lab3: step 'updating/" in err and "Traceback" not in text
    assert currents(project.lab) == before  # nobody switched: lab3 never finished updating
    assert served(project) == set(before.values())
    assert lock_record(project.lab, 0) is None and lock_record(project.lab, 1) is None
    if lock_record(project.lab, 2) is not None:  # lab3 was unreachable when the lease was released
        project.invoke("lock.break", "--env", "lab", "--yes")
    assert lock_record(project.lab, 2) is None


def test_a_host_dropping_mid_stream_fails_by_name_and_leaves_no_release(project):
    import sys
    from dataclasses import dataclass, replace

    from deploy.artifact.verify import read_sidecar, verify_artifact
    from deploy.config import load
    from deploy.engine.context import close_targets, open_targets
    from deploy.errors import TransportError
    from deploy.lab import hosts as labhosts
    from deploy.release.delta import Part, Shipments
    from deploy.release.upload import ReleaseUpload

    artifact = Path(project.build())
    sha = read_sidecar(artifact)["sha256"]
    shipments = Shipments(artifact, sha, verify_artifact(artifact, sha))
    lab2 = project.lab.hosts[1]

    @dataclass(frozen=True)
    class Dropping(Part):
        """The artifact, with the host's sshd and sessions killed once a quarter of it has gone."""

        def chunks(self, size: int = 1 << 16):
            for n, block in enumerate(super().chunks(size)):
                if n * size >= self.size // 4:
                    _kill_sshd_and_sessions(lab2)
                yield block

    env = load(project.root / "shipyard.toml").environment("lab")
    target = open_targets(env, [env.hosts[1]])[0]
    before = target.ops.current()
    part = Dropping("release", sha, artifact.stat().st_size, path=artifact)
    rid = "20991231-000000-0000009"
    try:
        with pytest.raises(TransportError, match="lab2"):
            target.ops.receive(ReleaseUpload(rid, {}, sys.executable, None, replace(shipments.full, part=part), [], []))
    finally:
        close_targets([target])
        labhosts.start_sshd(lab2, private_mounts=True)
    releases = Path(lab2.deploy_to) / "releases"
    assert not (releases / rid).exists()
    assert currents(project.lab)["lab2"] == before
