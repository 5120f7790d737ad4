"""Every rendered file passes its real tool, and each tool's check catches a broken file.

Tools: apache2 -t (with mod_wsgi and mod_xsendfile), nginx -t, haproxy -c, supervisor's
config loader, varnishd -C, systemd-analyze verify; IIS web.config against its schema."""

import json

import pytest

from deploy.config import load
from deploy.siteconfig import release_files, validate_files
from deploy.siteconfig.validate import ConfigInvalid

from siteconfig_helpers import FIXTURES

RELEASE = "20261125-120000-abc1234"
HOSTS = [("prod", "lb1"), ("prod", "web1"), ("prod", "web2"), ("edge", "box"), ("farm", "farm1"),
         ("winfarm", "win1"), ("iis", "win2")]


@pytest.fixture(scope="module")
def sites():
    return load(FIXTURES / "sites.toml")


@pytest.mark.parametrize("env,host", HOSTS, ids=[f"{e}-{h}" for e, h in HOSTS])
def test_every_rendered_file_passes_its_tool(sites, env, host):
    files = release_files(sites, env, host, RELEASE)
    validate_files(files)  # raises ConfigInvalid naming file and tool otherwise
    kinds = set(json.loads(files["etc/site.json"])["files"].values())
    assert kinds  # something was checked
    assert kinds <= {"apache", "wsgi", "nginx", "haproxy", "supervisor", "systemd", "varnish", "iis"}


def test_all_kinds_are_covered_by_the_hosts_above(sites):
    seen = set()
    for env, host in HOSTS:
        seen |= set(json.loads(release_files(sites, env, host, RELEASE)["etc/site.json"])["files"].values())
    assert seen == {"apache", "wsgi", "nginx", "haproxy", "supervisor", "systemd", "varnish", "iis"}


BREAKS = [
    # (env, host, file, old, new, tool, message the tool gives)
    ("farm", "farm1", "etc/apache/balancer.conf", "ProxyPass \"/\"", "ProxyPas \"/\"", "apache2 -t",
     "Invalid command 'ProxyPas'"),
    ("farm", "farm1", "etc/apache/worker-1.conf", "</Directory>", "", "apache2 -t", "was not closed"),
    ("winfarm", "win1", "etc/apache/worker-2.conf", "WSGIPythonHome", "WSGIPythonHom", "apache2 -t",
     "Invalid command 'WSGIPythonHom'"),
    ("farm", "farm1", "etc/apache/site.wsgi", "import os", "import os(", "python compile", "line"),
    ("prod", "web1", "etc/nginx/site.conf", "proxy_pass ", "proxy_pas ", "nginx -t", 'unknown directive "proxy_pas"'),
    ("edge", "box", "etc/nginx/site.conf", "listen 443 ssl http2;", "listen 443 ssl http2;\n    listen 443 ssl;",
     "nginx -t", "duplicate listen"),
    ("prod", "lb1", "etc/haproxy/haproxy.cfg", "balance roundrobin", "balance roundrobinx", "haproxy -c",
     "balance only supports"),
    ("prod", "lb1", "etc/haproxy/haproxy.cfg", "default_backend app", "default_backend nope", "haproxy -c",
     "unable to find required default_backend: 'nope'"),
    ("prod", "web1", "etc/supervisor/site.conf", "autostart=true", "autostart=maybe", "supervisord config loader",
     "not a valid boolean value: 'maybe'"),
    ("edge", "box", "etc/systemd/shipsite-web.service", "Type=notify", "Type=notifyy", "systemd-analyze verify",
     "Failed to parse service type, ignoring: notifyy"),
    ("edge", "box", "etc/systemd/shipsite-web.service", "RestartSec=2", "Restartt=always", "systemd-analyze verify",
     "Unknown key 'Restartt' in section [Service]"),
    ("prod", "lb1", "etc/varnish/default.vcl", "return (pass);", "return (pass)", "varnishd -C",
     "Expected ';' got '}'"),
    ("iis", "win2", "web.config", '<requestLimits maxAllowedContentLength="', '<requestLimits maxAllowedContentLength="x',
     "web.config schema", "is not a whole number"),
    ("iis", "win2", "web.config", "<system.webServer>", "<system.webServer><handlers />", "web.config schema",
     "locked at site level by default"),
    ("iis", "win2", "static/web.config", "</staticContent>", "</staticContents>", "web.config schema", "not well-formed XML"),
]


@pytest.mark.parametrize("env,host,path,old,new,tool,message", BREAKS,
                         ids=[f"{b[2]}:{b[4][:18]}" for b in BREAKS])
def test_a_broken_file_is_caught_and_named(sites, env, host, path, old, new, tool, message):
    files = release_files(sites, env, host, RELEASE)
    assert old in files[path]
    files[path] = files[path].replace(old, new, 1)
    with pytest.raises(ConfigInvalid) as e:
        validate_files(files)
    assert [(p[0], p[1]) for p in e.value.problems] == [(path, tool)]
    assert message in e.value.problems[0][2]
    assert "shipyard-validate-" not in str(e.value)  # sandbox paths are mapped back


def test_a_missing_wsgi_module_is_caught_before_the_switch(sites):
    """mod_wsgi's directives need the module: a platform block without it fails apache2 -t."""
    files = release_files(sites, "farm", "farm1", RELEASE)
    files["etc/apache/worker-1.conf"] = "\n".join(
        line for line in files["etc/apache/worker-1.conf"].splitlines() if "mod_wsgi.so" not in line)
    with pytest.raises(ConfigInvalid, match=r"(?s)etc/apache/worker-1.conf: apache2 -t: .*Invalid command 'WSGIPythonHome'"):
        validate_files(files)


def test_files_without_a_manifest_are_checked_as_they_are():
    good = "server {\n    listen 127.0.0.1:8080;\n    location / { return 204; }\n}\n"
    validate_files({"etc/nginx/site.conf": good, "README.txt": "not a config"})
    with pytest.raises(ConfigInvalid) as e:
        validate_files({"etc/nginx/site.conf": good.replace("return 204;", "retrun 204;")})
    assert e.value.problems[0][:2] == ("etc/nginx/site.conf", "nginx -t")
    assert 'unknown directive "retrun"' in e.value.problems[0][2]


def test_accounts_that_exist_only_on_the_hosts_do_not_fail_validation(tmp_path):
    (tmp_path / "shipyard.toml").write_text("""
[env.e]
hosts = [{ name = "web1", address = "10.0.0.11" }]
[env.e.site]
servers = ["apache", "supervisor", "haproxy"]
celery_app = "shipsite.celery"
user = "shipsite-svc"
group = "shipsite-svc"
haproxy_user = "haproxy-svc"
""")
    files = release_files(load(tmp_path / "shipyard.toml"), "e", "web1", RELEASE)
    assert "User shipsite-svc" in files["etc/apache/worker-1.conf"]
    validate_files(files)
