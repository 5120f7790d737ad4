"""`invoke plan` shows what a deploy would do and changes nothing on any host."""

import json
import os

import pytest


def snapshot(root):
    return sorted((str(p.relative_to(root)), p.stat().st_mtime_ns, p.is_symlink() and os.readlink(p))
                  for p in root.rglob("*"))


@pytest.mark.slow
def test_plan_changes_nothing_and_lists_file_changes(git_site):
    git_site.invoke("build", "deploy")
    current = git_site.current()
    (git_site.root / "site" / "notes" / "NEW.txt").write_text("new")
    git_site.commit("add a file")
    git_site.invoke("build")
    before = snapshot(git_site.deploy_to)
    plan = json.loads(git_site.invoke("plan", "--format", "json").stdout)
    text = git_site.invoke("plan").stdout
    assert snapshot(git_site.deploy_to) == before
    host = plan["hosts"][0]
    assert host["current_release"] == current and host["batch"] == 1
    assert "app/notes/NEW.txt" in host["files"]["added"]
    assert "localhost" in text and "NEW.txt" in text or "+1" in text


def _needs_secret(site, var: str) -> None:
    cfg = site.root / "shipyard.toml"
    cfg.write_text(cfg.read_text().replace("keep_releases = 3", f'keep_releases = 3\nsecrets = {{ DB_PASSWORD = "{var}" }}'))
    site.env.pop(var, None)


@pytest.mark.slow
def test_plan_fails_where_deploy_fails_and_says_what_it_could_not_check(git_site):
    git_site.invoke("build")
    text = git_site.invoke("plan").stdout
    assert "Checked, as a deploy would:" in text and "every host reachable (1)" in text and "deploy lock: free" in text
    assert "Not checked (only a deploy finds out):" in text and "restart and health checks" in text
    raw = git_site.invoke("plan", "--format", "json").stdout
    assert raw.endswith("}\n") and json.loads(raw)["not_checked"]
    _needs_secret(git_site, "PLAN_SECRET_NOT_SET_X")
    plan, deploy = git_site.invoke("plan", check=False), git_site.invoke("deploy", check=False)
    message = "secrets.DB_PASSWORD: environment variable PLAN_SECRET_NOT_SET_X is not set"
    assert (plan.returncode, deploy.returncode) == (2, 2)
    assert message in plan.stderr and message in deploy.stderr and "Traceback" not in plan.stderr
    assert not (git_site.deploy_to / "current").exists()


@pytest.mark.slow
def test_stop_status_and_releases_need_no_deploy_secrets(git_site):
    git_site.invoke("build", "deploy")
    _needs_secret(git_site, "STATUS_SECRET_NOT_SET_X")
    for task in ("status", "releases", "stop"):
        proc = git_site.invoke(task, check=False)
        assert proc.returncode == 0, (task, proc.stderr)
    assert "localhost: stopped" in proc.stdout
