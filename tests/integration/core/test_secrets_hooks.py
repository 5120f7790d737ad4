"""Secrets reach hooks and the app only through stdin or a 0600 file; never logs or journals.
Python hooks registered in a project's tasks.py run at their stage."""

import os
import stat

import pytest

SECRET = "s3cr3t-value-that-must-not-leak-91f2"


@pytest.mark.slow
def test_secret_reaches_hook_and_app_but_no_log(git_site):
    cfg = git_site.root / "shipyard.toml"
    text = cfg.read_text().replace(
        'before_publishing = [',
        'before_publishing = ["printf %s \\"$DJANGO_SECRET_KEY\\" > $SHIPYARD_SHARED/seen", ',
    )
    text = text.replace("keep_releases = 3", 'keep_releases = 3\nsecrets = { DJANGO_SECRET_KEY = "TEST_SITE_SECRET" }')
    cfg.write_text(text)
    git_site.commit("use a secret")
    git_site.env["TEST_SITE_SECRET"] = SECRET
    proc = git_site.invoke("build", "deploy")
    shared = git_site.deploy_to / "shared"
    assert (shared / "seen").read_text() == SECRET
    conf = shared / "supervisor" / "supervisord.conf"
    assert SECRET in conf.read_text() and stat.S_IMODE(conf.stat().st_mode) == 0o600
    files = [*git_site.deploy_to.rglob("*.json*"), git_site.root / "all-events.jsonl"]
    leaks = [p for p in files if SECRET in p.read_text(errors="ignore")]
    assert SECRET not in proc.stdout + proc.stderr and leaks == []


def test_missing_secret_is_a_config_error(git_site):
    cfg = git_site.root / "shipyard.toml"
    cfg.write_text(cfg.read_text().replace("keep_releases = 3", 'keep_releases = 3\nsecrets = { DB_PASSWORD = "NOT_SET_ANYWHERE_X" }'))
    git_site.env.pop("NOT_SET_ANYWHERE_X", None)
    proc = git_site.invoke("deploy", check=False)
    assert proc.returncode == 2 and "secrets.DB_PASSWORD: environment variable NOT_SET_ANYWHERE_X is not set" in proc.stderr


@pytest.mark.slow
def test_python_hooks_from_tasks_py(git_site):
    (git_site.root / "tasks.py").write_text(
        "from deploy.tasks import ns  # noqa: F401\n"
        "from deploy.engine.stages import after, before\n\n"
        "@before('publishing')\n"
        "def mark(ctx):\n"
        "    open('hook-order.txt', 'a').write(f'before-publishing {ctx.release_id}\\n')\n\n"
        "@after('finishing')\n"
        "def done(ctx):\n"
        "    open('hook-order.txt', 'a').write('after-finishing\\n')\n"
    )
    git_site.commit("python hooks")
    git_site.invoke("build", "deploy")
    lines = (git_site.root / "hook-order.txt").read_text().splitlines()
    assert lines == [f"before-publishing {git_site.current()}", "after-finishing"]


def test_shipyard_console_script_lists_tasks(git_site):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import sys; from deploy.cli import main; sys.argv=['shipyard','--list']; main()"],
                         cwd=git_site.root, env=git_site.env, capture_output=True, text=True, check=True).stdout
    for name in ("build", "deploy", "rollback", "releases", "status"):
        assert f"  {name}" in out
    assert os.path.exists(git_site.root / "shipyard.toml")
