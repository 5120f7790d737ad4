"""Zero refused requests on a single host: a deploy of new code (gunicorn HUP), one of new
dependencies (USR2 binary upgrade through the keeper) and one of new code into a preloaded app
(USR2 too) under bounded load on loopback.
Not timed: the load must span the switch (both releases answer) and nothing may fail."""

from __future__ import annotations

import json
import time

import pytest
from tests.integration.farm.farmlab import RequestLoop

pytestmark = pytest.mark.slow


def serve_steps(events_file) -> list[str]:
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    return [e["output"] for e in events if e["kind"] == "step" and e["step"] == "serve"]


def deploy_under_load(site, change, message: str) -> str:
    """`change` committed and deployed under a bounded 4-client loop; nothing may fail, the old
    release answers first and the new one last. Returns how the release was served."""
    before = site.current()
    change()
    site.commit(message)
    events = site.root / f"events-{len(list(site.root.glob('events-*')))}.jsonl"
    site.invoke("build")
    with RequestLoop(f"http://127.0.0.1:{site.port}/health/", limit=100_000, seconds=300, clients=4) as loop:
        site.invoke("deploy", "--events", str(events))
        deadline = time.monotonic() + 60  # a bound, not a measurement: until the new release answers
        while loop.releases[-1:] != [site.current()] and not loop.failures and time.monotonic() < deadline:
            time.sleep(0.05)
    assert site.current() != before
    assert loop.failures == [] and loop.ok > 0
    assert loop.releases[0] == before and loop.releases[-1] == site.current()
    return serve_steps(events)[-1]


def new_code(site, version: str):  # noqa: ANN201 - a change for deploy_under_load
    return lambda: (site.root / "site" / "notes" / "CHANGES.txt").write_text(f"{version}\n")


def test_new_code_and_new_dependencies_refuse_no_request(git_site):
    git_site.invoke("build", "deploy")
    assert "HUP" in deploy_under_load(git_site, new_code(git_site, "v2"), "v2: code only")

    requirements = git_site.root / "site" / "requirements.txt"

    def new_dependency() -> None:  # a new dependency env: a new master
        requirements.write_text(requirements.read_text() + "six\n")

    assert "USR2 binary upgrade" in deploy_under_load(git_site, new_dependency, "v3: new dependency")


def test_a_preloaded_app_takes_new_code_refusing_no_request(git_site):
    """preload = true: each new release is a new master (a HUP would keep the old import)."""
    toml = git_site.root / "shipyard.toml"
    toml.write_text(toml.read_text().replace('workers = 1 }', 'workers = 2, preload = true }'))
    git_site.invoke("build", "deploy")
    how = deploy_under_load(git_site, new_code(git_site, "v2"), "v2: code only, preloaded")
    assert "USR2 binary upgrade (the app is preloaded" in how
