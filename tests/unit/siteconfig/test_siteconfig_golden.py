"""Every template against a reviewed golden file (migra's style).
Regenerate after an intended change: SHIPYARD_UPDATE_GOLDEN=1 pytest tests/unit/siteconfig."""

import os
from pathlib import Path

import pytest

from deploy.siteconfig import release_files

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "siteconfig"
RELEASE = "20261125-120000-abc1234"

GOLDEN = [
    ("prod", "lb1", "etc/haproxy/haproxy.cfg", "haproxy.cfg"),
    ("prod", "lb1", "etc/varnish/default.vcl", "varnish.vcl"),
    ("prod", "web1", "etc/nginx/site.conf", "nginx-behind-lb.conf"),
    ("prod", "web1", "etc/supervisor/site.conf", "supervisor.conf"),
    ("prod", "web1", "etc/site.json", "manifest.json"),
    ("edge", "box", "etc/nginx/site.conf", "nginx-tls.conf"),
    ("edge", "box", "etc/systemd/shipsite-web.service", "systemd-web.service"),
    ("edge", "box", "etc/systemd/shipsite-celery.service", "systemd-celery.service"),
    ("farm", "farm1", "etc/apache/balancer.conf", "apache-balancer-linux.conf"),
    ("farm", "farm1", "etc/apache/worker-1.conf", "apache-worker-linux.conf"),
    ("farm", "farm1", "etc/apache/site.wsgi", "apache-site.wsgi"),
    ("farm", "farm1", "etc/supervisor/site.conf", "supervisor-celery-only.conf"),
    ("winfarm", "win1", "etc/apache/balancer.conf", "apache-balancer-windows.conf"),
    ("winfarm", "win1", "etc/apache/worker-2.conf", "apache-worker-windows.conf"),
    ("iis", "win2", "web.config", "iis-web.config"),
    ("iis", "win2", "static/web.config", "iis-static.web.config"),
]


@pytest.mark.parametrize("env,host,path,golden", GOLDEN, ids=[g[3] for g in GOLDEN])
def test_rendered_file_matches_golden(sites, env, host, path, golden):
    text = release_files(sites, env, host, RELEASE)[path]
    expected = FIXTURES / f"{golden}.golden"
    if os.environ.get("SHIPYARD_UPDATE_GOLDEN"):
        expected.write_text(text, encoding="utf-8")
    assert text == expected.read_text(encoding="utf-8")


def test_every_template_has_a_golden_file():
    from deploy.siteconfig.render import templates

    used = {"apache/balancer.conf.j2", "apache/worker.conf.j2", "apache/site.wsgi.j2", "iis/web.config.j2",
            "iis/static.web.config.j2", "nginx/site.conf.j2", "haproxy/haproxy.cfg.j2", "supervisor/site.conf.j2",
            "systemd/unit.service.j2", "varnish/default.vcl.j2"}
    top_level = {t for t in templates().list_templates() if not t.rsplit("/", 1)[-1].startswith("_")}
    assert top_level == used


@pytest.mark.parametrize("env,host,expected", [
    ("prod", "lb1", {"etc/haproxy/haproxy.cfg", "etc/varnish/default.vcl", "etc/site.json"}),
    ("prod", "web1", {"etc/nginx/site.conf", "etc/supervisor/site.conf", "etc/site.json"}),
    ("farm", "farm1", {"etc/apache/balancer.conf", "etc/apache/worker-1.conf", "etc/apache/worker-2.conf",
                       "etc/apache/site.wsgi", "etc/supervisor/site.conf", "etc/site.json"}),
    ("iis", "win2", {"web.config", "static/web.config", "etc/site.json"}),
])
def test_each_host_gets_the_files_of_its_roles(sites, env, host, expected):
    assert set(release_files(sites, env, host, RELEASE)) == expected


def test_env_without_site_renders_nothing(tmp_path):
    from deploy.config import load

    (tmp_path / "shipyard.toml").write_text('[env.plain]\nhosts = [{ name = "a" }]\n')
    assert release_files(load(tmp_path / "shipyard.toml"), "plain", "a", RELEASE) == {}
