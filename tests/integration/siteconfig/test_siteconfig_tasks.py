"""`invoke config.render` and `invoke config.diff` on a local environment, the live
release read through the local transport."""

import os

import invoke
import pytest

from deploy.config import load
from deploy.siteconfig import release_files
from deploy.tasks.siteconfig import diff, ns, render

from siteconfig_helpers import write_config

RELEASE = "20261125-120000-abc1234"


def site_toml(root, workers: int) -> str:
    return f"""
[project]
name = "shipsite"
[env.stage]
deploy_to = "{root}/deploy"
hosts = [{{ name = "localhost", transport = "local" }}]
[env.stage.site]
servers = ["nginx", "supervisor", "haproxy"]
workers = {workers}
haproxy_socket = "{root}/deploy/shared/run/admin.sock"
"""


def go_live(cfg, root):
    """What the deploy engine does: files inside the release, then `current` points at it."""
    release = root / "deploy" / "releases" / RELEASE
    for path, text in release_files(load(cfg), "stage", "localhost", RELEASE).items():
        (release / path).parent.mkdir(parents=True, exist_ok=True)
        (release / path).write_text(text)
    os.symlink(release, root / "deploy" / "current")


def test_collection_is_named_config_with_both_tasks():
    assert ns.name == "config" and set(ns.tasks) == {"render", "diff"}


def test_render_writes_and_validates_every_file(tmp_path, capsys):
    cfg = write_config(tmp_path, site_toml(tmp_path, 2))
    render(invoke.Context(), env="stage", out=str(tmp_path / "out"), config=str(cfg))
    out = capsys.readouterr().out
    assert "localhost: 3 file(s) valid" in out
    conf = (tmp_path / "out" / "localhost" / "etc" / "supervisor" / "site.conf").read_text()
    assert f"--bind unix:{tmp_path}/deploy/shared/run/gunicorn.sock --workers 2" in conf
    assert (tmp_path / "out" / "localhost" / "etc" / "haproxy" / "haproxy.cfg").is_file()


def test_render_stops_with_exit_2_on_a_bad_model(tmp_path, capsys):
    cfg = write_config(tmp_path, site_toml(tmp_path, 0))
    with pytest.raises(invoke.Exit) as e:
        render(invoke.Context(), env="stage", out=str(tmp_path / "out"), config=str(cfg))
    assert e.value.code == 2 and "env.stage.site.workers: must be >= 1" in str(e.value.message)


def test_diff_against_the_live_release(tmp_path, capsys):
    cfg = write_config(tmp_path, site_toml(tmp_path, 2))
    with pytest.raises(invoke.Exit) as e:  # nothing live yet: every file is new
        diff(invoke.Context(), env="stage", config=str(cfg))
    assert e.value.code == 1
    assert "+++ b/localhost/etc/nginx/site.conf" in capsys.readouterr().out

    go_live(cfg, tmp_path)
    diff(invoke.Context(), env="stage", config=str(cfg))
    assert capsys.readouterr().out == "localhost: matches live\n"

    write_config(tmp_path, site_toml(tmp_path, 4))
    with pytest.raises(invoke.Exit):
        diff(invoke.Context(), env="stage", config=str(cfg))
    out = capsys.readouterr().out
    assert "--- a/localhost/etc/supervisor/site.conf" in out
    assert "-command=" in out and "--workers 2" in out and "+command=" in out and "--workers 4" in out
    assert out.endswith("localhost: differs live\n")
