"""Bad input gets a clear error and loses nothing."""

import io
import json
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from deploy.engine.lock import TOKEN_VAR
from deploy.report.schema import assert_events_valid

BROKEN_HEALTH = '''
from django.http import JsonResponse
def health(request):
    return JsonResponse({"status": "error"}, status=500)
'''


def newest_artifact(repo) -> Path:
    return max((repo.root / "dist").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)


@pytest.mark.slow
def test_failed_health_check_switches_back(git_site):
    git_site.invoke("build", "deploy")
    good = git_site.current()
    views = git_site.root / "site" / "shipsite" / "views.py"
    views.write_text(views.read_text() + BROKEN_HEALTH)
    git_site.commit("break health")
    git_site.invoke("build")
    events, html = git_site.root / "events.jsonl", git_site.root / "report.html"
    proc = git_site.invoke("deploy", "--events", str(events), "--html", str(html), check=False)
    assert proc.returncode == 1
    assert "localhost: step 'publishing/health' failed" in proc.stderr and "HTTP 500" in proc.stderr
    assert_events_valid(events)
    last = json.loads(events.read_text().splitlines()[-1])
    assert (last["kind"], last["result"], last["exit_code"]) == ("run.end", "rolled_back", 1)
    assert "rollback" in [json.loads(line)["kind"] for line in events.read_text().splitlines()]
    assert "localhost" in html.read_text()
    assert git_site.current() == good and git_site.health()["release"] == good
    last = git_site.journal()[-1]
    assert (last["action"], last["outcome"], last["release"]) == ("deploy", "rolled_back", good)
    bad = [p.name for p in (git_site.deploy_to / "releases").iterdir() if p.name != good]
    assert len(bad) == 1 and git_site.release_json(bad[0])["status"] == "failed"
    assert not (git_site.deploy_to / ".shipyard" / "lock").exists()


@pytest.mark.slow
def test_first_deploy_failing_leaves_no_current(git_site):
    views = git_site.root / "site" / "shipsite" / "views.py"
    views.write_text(views.read_text() + BROKEN_HEALTH)
    git_site.commit("broken from the start")
    proc = git_site.invoke("build", "deploy", check=False)
    assert proc.returncode == 1 and "publishing/health" in proc.stderr
    assert git_site.current() is None
    assert git_site.journal()[-1]["outcome"] == "rolled_back"


@pytest.mark.slow
def test_tampered_artifact_refused_before_any_host_change(git_site):
    git_site.invoke("build", "deploy")
    before = sorted(p.name for p in (git_site.deploy_to / "releases").iterdir())
    artifact = newest_artifact(git_site)
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    proc = git_site.invoke("deploy", check=False)
    assert proc.returncode == 1 and "sha256" in proc.stderr
    assert sorted(p.name for p in (git_site.deploy_to / "releases").iterdir()) == before
    assert len(git_site.journal()) == 1


def test_tar_slip_artifact_refused(git_site):
    dist = git_site.root / "dist"
    dist.mkdir()
    evil = dist / "site-evil.tar.gz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        manifest = json.dumps({"schema": 1, "revision": "0" * 40, "short": "0000000", "files": {}}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    evil.write_bytes(buf.getvalue())
    import hashlib

    sha = hashlib.sha256(buf.getvalue()).hexdigest()
    (dist / "site-evil.tar.gz.json").write_text(json.dumps({"artifact": evil.name, "sha256": sha,
                                                           "built_at": "2099-01-01T00:00:00+00:00"}))
    proc = git_site.invoke("deploy", "--artifact", str(evil), check=False)
    assert proc.returncode == 1 and "escaped.txt" in proc.stderr
    assert not git_site.deploy_to.exists()


@pytest.mark.slow
def test_concurrent_deploy_refused_first_unaffected(git_site):
    cfg = git_site.root / "shipyard.toml"
    cfg.write_text(cfg.read_text().replace('before_publishing = [', 'before_publishing = ["sleep 4", '))
    git_site.commit("slow hook")
    git_site.invoke("build")
    git_site.env[TOKEN_VAR] = "a-token-left-in-the-shell"  # a stray token must not let anyone past the lock
    first = subprocess.Popen([sys.executable, "-m", "invoke", "deploy"], cwd=git_site.root, env=git_site.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock, record = git_site.deploy_to / ".shipyard" / "lock", git_site.root / ".shipyard" / "runs" / "local.json"
    deadline = time.monotonic() + 60
    while not (lock.exists() and record.exists()):  # the record is written once the lease is held
        assert time.monotonic() < deadline and first.poll() is None, "first deploy never took the lock"
        time.sleep(0.05)
    first_record = record.read_text()
    second = git_site.invoke("deploy", check=False)
    assert second.returncode == 1 and "deploy lock is held by" in second.stderr, second.stderr
    assert record.read_text() == first_record  # refused: the holder's run record is not its to clear
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert git_site.health()["release"] == git_site.current()
    assert [e["outcome"] for e in git_site.journal()] == ["ok"]


@pytest.mark.slow
def test_a_release_id_the_host_already_has_is_refused_untouched(git_site):
    """Release ids have one-second resolution: a second deploy of the same revision in the same
    second (a double-triggered CI job that waited on the lock) must not unpack over the first."""
    git_site.invoke("build", "deploy")
    rid = git_site.current()
    before = git_site.release_json(rid)
    (git_site.root / "tasks.py").write_text(  # the clock stands still: same second, same revision
        "from deploy.tasks import ns  # noqa: F401\nimport deploy.engine.flow as flow\n"
        f"flow.new_release_id = lambda *args, **kwargs: {rid!r}\n")
    proc = git_site.invoke("deploy", check=False)
    assert proc.returncode == 1 and f"localhost: release {rid} already exists" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert git_site.current() == rid and git_site.release_json(rid) == before
    assert git_site.health()["release"] == rid
    assert sorted(p.name for p in (git_site.deploy_to / "releases").iterdir()) == [rid]


def test_bad_config_exits_2_with_key_path(git_site):
    cfg = git_site.root / "shipyard.toml"
    good = cfg.read_text()
    cfg.write_text(good.replace("keep_releases = 3", "keep_releases = 0"))
    proc = git_site.invoke("deploy", check=False)
    assert proc.returncode == 2
    assert "shipyard.toml: env.local.keep_releases: must be >= 1, got 0" in proc.stderr
    cfg.write_text(good)
    unknown = git_site.invoke("deploy", "--env", "nope", check=False)
    assert unknown.returncode == 2 and "env.nope: no such environment" in unknown.stderr


def test_dirty_tree_refused_without_flag(git_site):
    (git_site.root / "site" / "notes" / "dirty.txt").write_text("x")
    proc = git_site.invoke("build", check=False)
    assert proc.returncode == 2 and "--allow-dirty" in proc.stderr


@pytest.mark.slow
def test_failing_finishing_hook_puts_hosts_back(git_site):
    git_site.invoke("build", "deploy")
    good = git_site.current()
    cfg = git_site.root / "shipyard.toml"
    cfg.write_text(cfg.read_text().replace("[hooks]\n", "[hooks]\nafter_finishing = ['echo nope >&2; exit 3']\n"))
    git_site.commit("failing finishing hook")
    proc = git_site.invoke("build", "deploy", check=False)
    assert proc.returncode == 1 and "finishing/after hook" in proc.stderr and "nope" in proc.stderr
    assert git_site.current() == good and git_site.health()["release"] == good
    assert git_site.journal()[-1]["outcome"] == "rolled_back"
