"""build A → deploy → A serves → commit B → build deploy → B serves → rollback → A serves."""

import json
import xml.etree.ElementTree as ET

import pytest

from deploy.report.schema import assert_events_valid


@pytest.mark.slow
def test_build_deploy_rollback_cycle(site_repo):
    site_repo.invoke("build", "deploy")
    first = site_repo.health()
    assert first["status"] == "ok" and first["release"] == site_repo.current()
    rev_a = first["revision"]

    (site_repo.root / "site" / "notes" / "CHANGES.txt").write_text("v2\n")
    site_repo.commit("site v2")
    out = site_repo.invoke("build", "deploy").stdout
    second = site_repo.health()
    assert second["revision"] != rev_a and second["release"] in out

    events = site_repo.root / "events.jsonl"
    site_repo.invoke("rollback", "--events", str(events), "--junit", str(site_repo.root / "junit.xml"))
    assert site_repo.health() == first
    assert assert_events_valid(events) > 5
    kinds = [json.loads(line)["kind"] for line in events.read_text().splitlines()]
    assert kinds[0] == "run.start" and kinds[-1] == "run.end" and "health" in kinds
    junit = ET.parse(site_repo.root / "junit.xml").getroot()
    assert junit.iter("testcase") and not list(junit.iter("failure"))

    listing = site_repo.invoke("releases").stdout.splitlines()
    marked = [line for line in listing if line.strip().startswith("*")]
    assert len(marked) == 1 and first["release"] in marked[0]
    assert any(second["release"] in line and "rolled_back" in line for line in listing)
    actions = [(e["action"], e["outcome"]) for e in site_repo.journal()]
    assert actions == [("deploy", "ok"), ("deploy", "ok"), ("rollback", "ok")]


@pytest.mark.slow
def test_rollback_to_named_release_and_status(git_site):
    git_site.invoke("build", "deploy")
    a = git_site.current()
    (git_site.root / "site" / "B.txt").write_text("b")
    git_site.commit("b")
    git_site.invoke("build", "deploy")
    (git_site.root / "site" / "C.txt").write_text("c")
    git_site.commit("c")
    git_site.invoke("build", "deploy")
    git_site.invoke("rollback", "--to", a)
    assert git_site.health()["release"] == a
    status = git_site.invoke("status").stdout
    assert f"release {a}" in status and "healthy" in status and "unlocked" in status
    bad = git_site.invoke("rollback", "--to", "20990101-000000-deadbee", check=False)
    assert bad.returncode == 2 and "no release 20990101-000000-deadbee" in bad.stderr
