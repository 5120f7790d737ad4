"""`invoke deploy --resume` after the controller is killed mid-rollout: the host already
switched keeps the new release, the one not yet done gets it, the dead run's lease is taken
over and released, and nothing is half-deployed at any point."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.integration.core.conftest import free_port

ENV = """
[env.pair]
supervisor = {{ program = "web", workers = 1 }}
health = {{ timeout = 20 }}
rollout = {{ batch = 1 }}

[[env.pair.hosts]]
name = "a"
transport = "local"
deploy_to = "{root}/.shipyard/a"
app_port = {port_a}

[[env.pair.hosts]]
name = "b"
transport = "local"
deploy_to = "{root}/.shipyard/b"
app_port = {port_b}
python = "{root}/slow-python"
"""


def current(repo, host):
    link = repo.root / ".shipyard" / host / "current"
    return os.readlink(link).rsplit("/", 1)[-1] if link.is_symlink() else None


@pytest.mark.slow
def test_resume_finishes_an_interrupted_deploy(git_site):
    slow = git_site.root / "slow-python"  # host b answers slowly, so the kill lands between a and b
    slow.write_text(f"#!/bin/sh\nsleep 2\nexec {sys.executable} \"$@\"\n")
    slow.chmod(0o755)
    cfg = git_site.root / "shipyard.toml"
    cfg.write_text(cfg.read_text() + ENV.format(root=git_site.root, port_a=free_port(), port_b=free_port()))
    git_site.commit("two hosts")
    git_site.invoke("build", "deploy", "--env", "pair", timeout=300)
    old = current(git_site, "a")
    assert current(git_site, "b") == old

    (git_site.root / "site" / "v2.txt").write_text("2")
    git_site.commit("v2")
    git_site.invoke("build")
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "deploy", "--env", "pair"], cwd=git_site.root,
                            env=git_site.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while current(git_site, "a") == old:
        assert time.monotonic() < deadline and proc.poll() is None, "host a never switched"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the controller dies mid-rollout
    proc.wait()
    new = current(git_site, "a")
    assert current(git_site, "b") == old
    record = json.loads((git_site.root / ".shipyard" / "runs" / "pair.json").read_text())
    assert record["release_id"] == new and record["previous"] == {"a": old, "b": old}
    assert (git_site.root / ".shipyard" / "a" / ".shipyard" / "lock").exists()

    git_site.invoke("deploy", "--env", "pair", "--resume", timeout=300)
    assert current(git_site, "a") == new and current(git_site, "b") == new
    assert not (git_site.root / ".shipyard" / "runs" / "pair.json").exists()
    assert not (git_site.root / ".shipyard" / "b" / ".shipyard" / "lock").exists()
    nothing = git_site.invoke("deploy", "--env", "pair", "--resume", check=False)
    assert nothing.returncode == 2 and "no interrupted deploy recorded" in nothing.stderr
    git_site.invoke("stop", "--env", "pair")
