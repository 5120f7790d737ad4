"""The README's two commands on a stock machine, from a clean clone, with PATH reduced to the
system directories and Debian's /usr/bin/python3: the first one in a terminal as root (and
its screen must have the shape of the README's sample), again as a normal user, and
`ci/test`'s own set-up with that interpreter."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import pwd
import re
import shutil
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.integration.core.newcomer import (PROJECT, clean_clone, free_port, readme_command, readme_sample, run_in_terminal,
                                             screen, shape, stock_env)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/usr/bin/python3").is_file(), reason="needs Debian's /usr/bin/python3")]


def health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=10) as r:
        return json.loads(r.read())


def sh(repo: Path, env: dict[str, str], command: str, user: str | None = None) -> subprocess.CompletedProcess:
    argv = ["sh", "-c", command] if user is None else ["runuser", "-p", "-u", user, "--", "sh", "-c", command]
    return subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, timeout=900)


def test_the_readme_command_on_a_stock_machine_shows_what_the_readme_shows(tmp_path):
    port = free_port()
    repo = clean_clone(tmp_path / "shipyard", port)
    env = stock_env(os.environ.get("HOME", "/root"))
    assert readme_command() == "./bootstrap"
    code, raw = run_in_terminal(["sh", "-c", readme_command()], repo, env)
    try:
        seen = screen(raw)
        assert code == 0, "\n".join(seen[-30:])
        assert shape(seen, str(repo)) == shape(readme_sample(), str(repo))
        served = health(port)
        assert served["status"] == "ok" and served["release"] in seen[-1]
        assert os.path.realpath(repo / ".venv" / "bin" / "python").startswith("/usr/bin/python3")

        again = sh(repo, env, "./bootstrap status")  # the second run goes straight to the task
        assert again.returncode == 0 and "installing Shipyard" not in again.stdout + again.stderr
        assert f"release {served['release']}, healthy" in again.stdout
        # the example's database holds together after the newcomer's deploy
        diff = sh(repo, env, ".venv/bin/invoke db.diff")
        assert (diff.returncode, diff.stdout.strip()) == (0, "-- no differences"), diff.stdout + diff.stderr
        migrate = sh(repo, env, ".venv/bin/invoke db.migrate")
        assert migrate.returncode == 0 and "0 migration(s) applied" in migrate.stdout
    finally:
        sh(repo, env, ".venv/bin/invoke stop")


def processes_of(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.fixture
def normal_user():
    """A throwaway account with its home in /tmp (pytest's own tmp dirs are 0700 to it)."""
    name = f"sy{uuid.uuid4().hex[:8]}"
    home = Path("/tmp") / f"shipyard-newcomer-{name}"
    subprocess.run(["useradd", "--home-dir", str(home), "--create-home", "--shell", "/bin/sh", name], check=True)
    uid = pwd.getpwnam(name).pw_uid
    try:
        yield name, home
    finally:
        for pid in processes_of(uid):  # whatever this test's user still runs, by pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_the_readme_command_works_for_a_normal_user(normal_user):
    name, home = normal_user
    port = free_port()
    repo = clean_clone(home / "shipyard", port)
    user = pwd.getpwnam(name)
    subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(home)], check=True)  # as if they cloned it
    env = stock_env(str(home), USER=name, LOGNAME=name)
    try:
        first = sh(repo, env, readme_command(), user=name)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        assert health(port)["status"] == "ok"
        owners = {p.stat().st_uid for p in (repo / ".shipyard").rglob("*")}
        assert owners == {user.pw_uid}  # nothing written as root, nothing outside the clone needed
    finally:
        sh(repo, env, ".venv/bin/invoke stop", user=name)


def test_ci_test_sets_up_with_debians_python_from_a_clean_clone(tmp_path):
    repo = clean_clone(tmp_path / "shipyard", free_port())
    env = stock_env(os.environ.get("HOME", "/root"))
    setup = sh(repo, env, "ci/test --install-only")
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert "creating .venv with /usr/bin/python3 (Python 3.11" in setup.stdout
    version = sh(repo, env, ".venv/bin/python -c 'import sys; print(sys.version.split()[0])'").stdout.strip()
    assert version == subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version.split()[0])"],
                                     capture_output=True, text=True).stdout.strip()
    quick = sh(repo, env, ".venv/bin/pytest -q -p no:cacheprovider tests/unit/core/test_config_errors.py")
    assert quick.returncode == 0, quick.stdout[-2000:]
    # the core suite without the browser: Chromium left out of the install, its tests not run
    core = sh(repo, env, "ci/test --no-browser -p no:cacheprovider --collect-only tests/integration/report/test_report_chromium.py")
    assert "--no-browser: Chromium is left out" in core.stdout, core.stdout[-2000:] + core.stderr[-2000:]
    assert re.search(r"no tests collected \(\d+ deselected\)", core.stdout), core.stdout[-2000:]


NOT_INSTALLED = [p for p in ("cowsay", "sl", "fortune-mod", "bsdgames")
                 if subprocess.run(["dpkg-query", "-W", p], capture_output=True).returncode != 0]


@pytest.mark.skipif(not NOT_INSTALLED, reason="every candidate package is installed here")
def test_the_install_is_announced_with_its_size_before_anything_is_installed():
    package = NOT_INSTALLED[0]
    apt = f". {PROJECT}/ci/apt.sh"
    plan = subprocess.run(["sh", "-c", f"{apt}; apt_plan ci/test {package}"], capture_output=True, text=True, timeout=120)
    lines = plan.stdout.splitlines()
    assert lines[0] == f"ci/test: installing 1 Debian package(s): {package}"
    assert re.fullmatch(r"ci/test:   \d+ package\(s\) with their dependencies, [\d.]+ [kMG]?B to download, "
                        r"[\d.]+ [kMG]?B on disk", lines[1]), lines
    refused = subprocess.run(["runuser", "-u", "nobody", "--", "sh", "-c", f"{apt}; apt_install bootstrap {package}"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and f"sudo apt-get install {package}" in refused.stderr
    assert subprocess.run(["dpkg-query", "-W", package], capture_output=True).returncode != 0  # nothing installed
