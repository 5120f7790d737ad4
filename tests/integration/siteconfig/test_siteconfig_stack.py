"""The rendered Linux stack really serves: HAProxy (its rendered cfg) in front of nginx
(the rendered site include) in front of gunicorn under a real supervisord that loads
the rendered program block; then HAProxy's reload from reload_commands()."""

import contextlib
import csv
import io
import json
import shlex
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from deploy.config import load
from deploy.siteconfig import reload_commands, release_files, validate_files

from siteconfig_helpers import free_port, http, sh, stage_release, stop, switch, wait_for, write_config

pytestmark = pytest.mark.slow
RELEASE = "20261125-120000-abc1234"


def admin(sock: str, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(sock)
        s.sendall(command.encode() + b"\n")
        return b"".join(iter(lambda: s.recv(65536), b"")).decode()


def backend_status(sock: str) -> str:
    rows = csv.DictReader(io.StringIO(admin(sock, "show stat").lstrip("# ")))
    return next(r["status"] for r in rows if (r["pxname"], r["svname"]) == ("app", "localhost"))


def site_toml(home: Path, front: int, app_port: int, max_body: str = "20m") -> str:
    return f"""
[project]
name = "shipsite"
[env.stack]
deploy_to = "{home}/deploy"
hosts = [{{ name = "localhost", transport = "local", app_port = {app_port} }}]
[env.stack.site]
servers = ["nginx", "supervisor", "haproxy"]
server_names = ["127.0.0.1"]
http_port = {front}
max_body = "{max_body}"
venv = "{sys.prefix}"
user = "root"
group = "root"
gunicorn_args = ["--no-control-socket"]  # gunicorn 27: no shared ~/.gunicorn/gunicorn.ctl
haproxy_socket = "{home}/admin.sock"
"""


@pytest.fixture(scope="module")
def stack(world_dir):
    home = world_dir / "stack"
    front, app_port = free_port(), free_port()
    cfg = write_config(home, site_toml(home, front, app_port))
    loaded = load(cfg)
    validate_files(release_files(loaded, "stack", "localhost", RELEASE))
    current = stage_release(loaded, "stack", "localhost", RELEASE)
    with contextlib.ExitStack() as cleanup:  # stops whatever started, even if setup fails
        cleanup.callback(stop, start_supervisord(home, current))
        nginx = nginx_argv(home, current)
        assert sh(shlex.join(nginx)).returncode == 0
        cleanup.callback(sh, shlex.join([*nginx, "-s", "quit"]))
        haproxy = sh(f"haproxy -D -f {current}/etc/haproxy/haproxy.cfg")
        assert haproxy.returncode == 0, haproxy.stderr
        cleanup.callback(sh, f"kill $(cat {home}/deploy/shared/run/haproxy.pid)")
        wait_for(lambda: http(f"http://127.0.0.1:{front}/health/")[0] == 200, timeout=20, what="the stack")
        yield loaded, front, str(home / "admin.sock"), home, app_port


def start_supervisord(home: Path, current: Path) -> subprocess.Popen:
    """A supervisord whose only programs are the rendered block (as conf.d would include it)."""
    conf = home / "supervisord.conf"
    conf.write_text(
        f"[supervisord]\nlogfile={home}/supervisord.log\npidfile={home}/supervisord.pid\nchildlogdir={home}\n"
        f"[unix_http_server]\nfile={home}/sup.sock\nchmod=0700\n"
        "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
        f"[include]\nfiles = {current}/etc/supervisor/site.conf\n")
    return subprocess.Popen([shutil.which("supervisord"), "-n", "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def nginx_argv(home: Path, current: Path) -> list[str]:
    """nginx with a main config like Debian's (workers as www-data) including the rendered site."""
    prefix = home / "nginx"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    (prefix / "nginx.conf").write_text(
        "user www-data;\npid nginx.pid;\nerror_log error.log warn;\nevents { worker_connections 64; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    proxy_temp_path tmp/proxy;\n"
        f"    client_body_temp_path tmp/body;\n    include {current}/etc/nginx/site.conf;\n}}\n")
    return ["nginx", "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf")]


def test_supervisord_runs_the_rendered_gunicorn_program(stack):
    _, front, _, _, _ = stack
    seen = json.loads(http(f"http://127.0.0.1:{front}/", headers={"X-Forwarded-For": "203.0.113.9"})[2])
    assert seen["settings"] == "shipsite.settings"  # environment= line of the program block
    assert seen["proto"] == "http"                  # set by HAProxy, passed on by nginx
    assert seen["xff"].startswith("203.0.113.9, 127.0.0.1")


def test_nginx_serves_static_files_without_the_app(stack):
    _, front, _, _, _ = stack
    status, headers, body = http(f"http://127.0.0.1:{front}/static/app.css")
    assert (status, body) == (200, "body { color: teal }\n")
    assert headers["Cache-Control"] == "max-age=2592000"


def test_haproxy_health_checks_the_host_by_name(stack):
    _, _, sock, _, _ = stack
    assert wait_for(lambda: backend_status(sock) == "UP", timeout=15, what="backend UP")
    assert admin(sock, "set server app/localhost state drain") == "\n"  # the rollout's drain seam
    assert backend_status(sock) == "DRAIN"
    assert admin(sock, "set server app/localhost state ready") == "\n"


def test_haproxy_reload_command_replaces_the_process(stack):
    loaded, front, _, home, _ = stack
    env = loaded.environment("stack")
    pidfile = home / "deploy" / "shared" / "run" / "haproxy.pid"
    before = pidfile.read_text().split()
    command = next(c for c in reload_commands(env, env.hosts[0]) if c.startswith("haproxy"))
    done = sh(command)
    assert done.returncode == 0, done.stderr
    wait_for(lambda: pidfile.read_text().split() != before, what="a new haproxy pid")
    wait_for(lambda: http(f"http://127.0.0.1:{front}/health/")[0] == 200, what="serving after reload")


def test_a_rollback_brings_back_the_previous_config(stack):
    """Configs live in the release: switching `current` back and reloading restores them."""
    _, front, _, home, app_port = stack
    deploy, first = home / "deploy", (home / "deploy" / "current").resolve()
    upload = {"Content-Type": "application/octet-stream"}

    def post_status():
        req = urllib.request.Request(f"http://127.0.0.1:{front}/", data=b"x" * 4096, headers=upload)
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    assert post_status() == 200
    smaller = load(write_config(home / "v2", site_toml(home, front, app_port, max_body="1k")))
    stage_release(smaller, "stack", "localhost", "20261125-130000-def5678")
    reload = shlex.join([*nginx_argv(home, deploy / "current"), "-s", "reload"])
    assert sh(reload).returncode == 0
    wait_for(lambda: post_status() == 413, what="the new release's 1k body limit")

    switch(deploy, first)  # rollback
    assert sh(reload).returncode == 0
    wait_for(lambda: post_status() == 200, what="the old release's 20m body limit")
