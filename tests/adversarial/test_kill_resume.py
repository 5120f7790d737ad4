"""SIGKILL of the controller at every stage boundary and right after the steps that change a host
(no handler can run), then the operator's way back: a plain deploy is refused while the dead
run's lock stands (named STALE, with the command to break it), `deploy --resume` finishes the
run, and a plain deploy works again. After each, the site serves the release `current` names,
that release is complete against its manifest, and the journal's last word agrees."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.adversarial.conftest import release_tree_matches_manifest

KILL_POINTS = [  # the lease held, nothing made; a release half made; switched but not restarted (the dead run's
    # hosts look done); all healthy but not marked good; all done but the lease and record left behind
    "after:starting", "step:updating/*", "step:publishing/switch", "after:publishing", "after:finishing",
]


def killed_deploy(site, point: str) -> None:
    env = {**site.env, "SHIPYARD_TEST_KILL_AT": point}
    proc = subprocess.run([sys.executable, "-m", "invoke", "deploy"], cwd=site.root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, f"the controller was not killed at {point}:\n{proc.stderr[-2000:]}"


def assert_consistent(site) -> str:
    current = site.current()
    assert current, "no current release"
    assert site.health()["release"] == current, "the site does not serve the release current names"
    assert release_tree_matches_manifest(site.deploy_to / "releases" / current) == []
    assert site.release_json(current)["status"] == "good"
    last = [e for e in site.journal() if e["action"] in ("deploy", "rollback")][-1]
    assert (last["outcome"], last["release"]) == ("ok", current)
    return current


@pytest.fixture(scope="module")
def deployed(site):
    site.invoke("build", "deploy", timeout=600)
    return site


@pytest.mark.slow
@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_killed_deploy_resumes_to_the_truth(deployed, point):
    site = deployed  # each run redeploys the built artifact as a new release (its own id)
    killed_deploy(site, point)
    lock = site.deploy_to / ".shipyard" / "lock"
    record = site.root / ".shipyard" / "runs" / "local.json"
    if lock.exists():
        refused = site.invoke("deploy", check=False, timeout=300)
        assert refused.returncode == 1 and "STALE" in refused.stderr and "--break-stale" in refused.stderr
    if record.exists():
        site.invoke("deploy", "--resume", timeout=600)
        assert not record.exists() and not lock.exists()
    else:
        assert not lock.exists(), "a lock without a run record: nothing could resume it"
    assert_consistent(site)
    leftovers = [p.name for p in (site.deploy_to / "releases").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    site.invoke("deploy", timeout=600)
    assert_consistent(site)
