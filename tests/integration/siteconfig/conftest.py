"""Real servers for the siteconfig integration tests, started and stopped here:
varnishd and memcached on free loopback ports.

Working directories come from mkdtemp + chmod 755 (not pytest's 0700 tmp_path):
varnishd and apache drop privileges before they read their files."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from siteconfig_helpers import free_port, http, stop, wait_for, write_config


@pytest.fixture(scope="session")
def world_dir():
    """A 0755 scratch directory daemons that drop privileges can read."""
    path = Path(tempfile.mkdtemp(prefix="shipyard-siteconfig-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def web_backend(world_dir):
    """A plain HTTP origin with /health/ and a page, on a free loopback port."""
    www = world_dir / "www"
    (www / "health").mkdir(parents=True)
    (www / "health" / "index.html").write_text("ok\n")
    (www / "page.html").write_text("v1\n")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(www)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: http(f"http://127.0.0.1:{port}/health/")[0] == 200, what="origin")
        yield port
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def memcached_port():
    port = free_port()
    proc = subprocess.Popen(["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "16", "-u", "nobody"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def listening():
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    try:
        wait_for(listening, what="memcached")
        yield port
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def varnish(world_dir, web_backend):
    """varnishd running the VCL Shipyard renders, in front of web_backend.
    Yields (loaded config, env name, http port, workdir)."""
    from deploy.config import load
    from deploy.siteconfig import release_files, validate_files

    workdir, port = world_dir / "varnish-work", free_port()
    cfg = write_config(world_dir / "varnish-site", f"""
[project]
name = "shipsite"
[env.cache]
deploy_to = "{world_dir}/varnish-site/deploy"
hosts = [{{ name = "origin", address = "127.0.0.1", transport = "local", roles = ["web", "lb"], app_port = {web_backend} }}]
[env.cache.site]
servers = ["varnish"]
server_names = ["127.0.0.1"]
[env.cache.site.cache]
varnish = {{ workdir = "{workdir}", bans = ["req.url ~ ^/page"] }}
""")
    loaded = load(cfg)
    files = release_files(loaded, "cache", "origin", "20261125-120000-abc1234")
    validate_files(files)
    vcl = world_dir / "varnish-site" / "default.vcl"
    vcl.write_text(files["etc/varnish/default.vcl"])
    proc = subprocess.Popen(["varnishd", "-F", "-a", f"127.0.0.1:{port}", "-n", str(workdir), "-f", str(vcl),
                             "-s", "malloc,16m"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: http(f"http://127.0.0.1:{port}/health/")[0] == 200, timeout=20, what="varnish to serve")
        yield loaded, "cache", port, workdir
    finally:
        stop(proc)
