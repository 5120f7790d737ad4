"""The rendered Apache "web farm on a box" really serves: a balancer in front of two
Apache + mod_wsgi workers, sticky routes, X-Forwarded-For, static files, X-Sendfile,
and the graceful reload reload_commands() gives."""

import contextlib
import json

import pytest

from deploy.config import load
from deploy.siteconfig import reload_commands, validate_files, release_files

from siteconfig_helpers import free_port, free_port_run, http, sh, stage_release, wait_for, write_config

pytestmark = pytest.mark.slow
RELEASE = "20261125-120000-abc1234"


@pytest.fixture(scope="module")
def farm(world_dir):
    port, base = free_port(), free_port_run(2)
    cfg = write_config(world_dir / "farm", f"""
[project]
name = "shipsite"
[env.farm]
deploy_to = "{world_dir}/farm/deploy"
hosts = [{{ name = "localhost", transport = "local", app_port = {port} }}]
[env.farm.site]
servers = ["apache"]
server_names = ["127.0.0.1"]
workers = 2
base_port = {base}
venv = "/usr"
""")
    loaded = load(cfg)
    validate_files(release_files(loaded, "farm", "localhost", RELEASE))
    current = stage_release(loaded, "farm", "localhost", RELEASE)
    confs = [current / "etc/apache/worker-1.conf", current / "etc/apache/worker-2.conf", current / "etc/apache/balancer.conf"]
    with contextlib.ExitStack() as cleanup:  # stops whatever started, even if setup fails
        for conf in confs:
            started = sh(f"apache2 -k start -f {conf}")
            assert started.returncode == 0, started.stderr
            cleanup.callback(sh, f"apache2 -k stop -f {conf}")
        wait_for(lambda: http(f"http://127.0.0.1:{port}/health/")[0] == 200, timeout=15, what="the farm")
        yield loaded, port, base


def test_requests_reach_a_worker_with_the_pinned_settings(farm):
    _, port, base = farm
    status, headers, body = http(f"http://127.0.0.1:{port}/")
    seen = json.loads(body)
    assert status == 200 and seen["settings"] == "shipsite.settings"
    assert seen["port"] in (str(base), str(base + 1))
    assert headers["Set-Cookie"].startswith("ROUTEID=.www_")


def test_route_cookie_keeps_a_client_on_its_worker(farm):
    _, port, base = farm
    ports = {json.loads(http(f"http://127.0.0.1:{port}/", headers={"Cookie": "ROUTEID=.www_2"})[2])["port"]
             for _ in range(4)}
    assert ports == {str(base + 1)}


def test_client_address_survives_both_hops(farm):
    _, port, _ = farm
    seen = json.loads(http(f"http://127.0.0.1:{port}/", headers={"X-Forwarded-For": "203.0.113.7"})[2])
    assert seen["remote"] == "203.0.113.7"


def test_balancer_serves_static_files_itself(farm):
    _, port, _ = farm
    status, headers, body = http(f"http://127.0.0.1:{port}/static/app.css")
    assert (status, body) == (200, "body { color: teal }\n")
    assert headers["Cache-Control"] == "public, max-age=2592000"
    assert "Set-Cookie" not in headers


def test_worker_sends_media_files_by_x_sendfile(farm):
    _, port, _ = farm
    status, headers, body = http(f"http://127.0.0.1:{port}/download")
    assert (status, body) == (200, "quarterly numbers\n")
    assert "X-Sendfile" not in headers


def test_graceful_reload_keeps_serving(farm):
    loaded, port, _ = farm
    env = loaded.environment("farm")
    for command in reload_commands(env, env.hosts[0]):
        done = sh(command)
        assert done.returncode == 0, done.stderr
    wait_for(lambda: http(f"http://127.0.0.1:{port}/health/")[0] == 200, what="the farm after graceful")
