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
