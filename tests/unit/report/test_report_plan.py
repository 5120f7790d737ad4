"""build_plan: manifest diffing per host, batches, hooks, services, db script,
and the text and JSON a release manager and a CI job read."""

from __future__ import annotations

import json

import pytest

from deploy.engine.plan import FileChanges, build_plan, diff_manifests
from deploy.secrets import Secret


def entry(sha, mode="0644"):
    return {"sha256": sha * 64, "size": 10, "mode": mode}


OLD = {"revision": "a" * 40, "files": {"app/keep.py": entry("1"), "app/edit.py": entry("2"), "app/gone.py": entry("3"),
                                        "bin/run": entry("4", "0644")}}
NEW = {"revision": "b" * 40, "files": {"app/keep.py": entry("1"), "app/edit.py": entry("9"), "app/new.py": entry("5"),
                                        "bin/run": entry("4", "0755")}}


def test_diff_manifests_finds_added_changed_removed_and_mode_changes():
    assert diff_manifests(NEW["files"], OLD["files"]) == FileChanges(
        added=["app/new.py"], changed=["app/edit.py", "bin/run"], removed=["app/gone.py"])
    assert diff_manifests(NEW["files"], NEW["files"]).total == 0


def plan(**overrides):
    hosts = [
        {"name": "web1", "current_release": "20261120-101010-aaaaaaa", "current_manifest": OLD},
        {"name": "web2", "current_release": None, "current_manifest": None},
        {"name": "web3", "current_release": "20261125-120000-bbbbbbb", "current_manifest": NEW},
        {"name": "web4", "current_release": "20260101-000000-ccccccc", "current_manifest": None},
    ]
    args = dict(new_manifest=NEW, hosts=hosts, batches=[["web1"], ["web2", "web3", "web4"]], services=["supervisor:web"],
                hooks={"before_publishing": ["python manage.py migrate --noinput"], "after_finishing": []},
                db_script="ALTER TABLE orders ADD shipped_at timestamp;\n")
    return build_plan(**(args | overrides), env="production", new_release="20261125-130000-bbbbbbb")


def test_each_host_gets_its_batch_releases_and_file_changes():
    p = plan()
    by_name = {h.name: h for h in p.hosts}
    assert [h.name for h in p.hosts] == ["web1", "web2", "web3", "web4"]
    assert [h.batch for h in p.hosts] == [1, 2, 2, 2]
    web1 = by_name["web1"]
    assert (web1.current_release, web1.new_release) == ("20261120-101010-aaaaaaa", "20261125-130000-bbbbbbb")
    assert (web1.files.added, web1.files.changed, web1.files.removed) == (["app/new.py"], ["app/edit.py", "bin/run"], ["app/gone.py"])
    assert (by_name["web2"].note, by_name["web2"].files.added) == ("first deploy", sorted(NEW["files"]))
    assert by_name["web3"].note == "already on this revision" and by_name["web3"].files.total == 0
    assert by_name["web4"].note.startswith("current release has no manifest")
    assert p.hooks == {"before_publishing": ["python manage.py migrate --noinput"]}  # empty hook lists don't fire


def test_text_rendering_reads_top_down():
    text = plan().render_text(max_files=2)
    assert text.splitlines()[0] == "Plan: deploy bbbbbbbbbbbb to production as 20261125-130000-bbbbbbb"
    assert "nothing has been changed" in text
    assert "Batch 1: web1\n  web1: 20261120-101010-aaaaaaa -> 20261125-130000-bbbbbbb  +1 ~2 -1 files\n      + app/new.py\n      ~ app/edit.py\n      ... and 2 more" in text
    assert "  web2: (none) -> 20261125-130000-bbbbbbb  +4 ~0 -0 files  (first deploy)" in text
    assert "Services to restart: supervisor:web" in text
    assert "  before publishing: python manage.py migrate --noinput" in text
    assert "  | ALTER TABLE orders ADD shipped_at timestamp;" in text
    assert "Database script: none" in plan(db_script=None).render_text()


def test_json_rendering_is_complete_and_versioned():
    data = json.loads(plan().to_json())
    assert data["plan_format"] == 1 and data["env"] == "production"
    web1 = data["hosts"][0]
    assert web1["files"] == {"added": ["app/new.py"], "changed": ["app/edit.py", "bin/run"], "removed": ["app/gone.py"],
                             "summary": "+1 ~2 -1 files"}
    assert data["batches"] == [["web1"], ["web2", "web3", "web4"]]
    assert data["db_script"].startswith("ALTER TABLE")


def test_secrets_are_redacted_from_plan_output():
    Secret("DB_PASSWORD", "plan-secret-5511")
    p = plan(hooks={"before_publishing": ["curl -u ci:plan-secret-5511 https://hooks.corp/"]})
    assert "plan-secret-5511" not in p.render_text() and "plan-secret-5511" not in p.to_json()
    assert "ci:********" in p.render_text()


def test_hosts_and_batches_must_agree():
    with pytest.raises(ValueError, match=r"not in a batch: \['web4'\]"):
        plan(batches=[["web1"], ["web2", "web3"]])
    with pytest.raises(ValueError, match=r"batched but unknown: \['web9'\]"):
        plan(batches=[["web1", "web9"], ["web2", "web3", "web4"]])


def test_default_new_release_names_the_revision():
    p = build_plan(NEW, [{"name": "h", "current_release": None, "current_manifest": None}], [["h"]], [], {}, None)
    assert p.new_release == "new release of bbbbbbbbbbbb" and p.env is None
