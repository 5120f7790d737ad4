"""The site model rejects bad values before anything renders, naming the key path."""

import pytest

from deploy.config import parse
from deploy.errors import ConfigError

BASE = '[env.prod]\nhosts = [{ name = "web1", address = "10.0.0.11" }]\n[env.prod.site]\n'


def problems(site_toml: str) -> str:
    with pytest.raises(ConfigError) as e:
        parse(BASE + site_toml, "shipyard.toml")
    assert e.value.exit_code == 2
    return str(e.value)


@pytest.mark.parametrize("toml,expected", [
    ('servers = ["nginx", "lighttpd"]', "shipyard.toml: env.prod.site.servers[1]: 'lighttpd' is not one of apache, iis, nginx"),
    ('colour = "blue"', "shipyard.toml: env.prod.site.colour: unknown key"),
    ("workers = 0", "shipyard.toml: env.prod.site.workers: must be >= 1, got 0"),
    ("base_port = 70000", "shipyard.toml: env.prod.site.base_port: must be <= 65535, got 70000"),
    ('static_url = "static"', "shipyard.toml: env.prod.site.static_url: 'static' does not match"),
    ('wsgi_module = "ship site.wsgi"', "shipyard.toml: env.prod.site.wsgi_module: 'ship site.wsgi' does not match"),
    ('server_names = ["bad name"]', "shipyard.toml: env.prod.site.server_names: 'bad name' is not a host name"),
    ('tls = { cert = "/c.pem" }', "shipyard.toml: env.prod.site.tls.key: required key is missing"),
    ('substitute = ["../etc/passwd"]', "shipyard.toml: env.prod.site.substitute: must be a relative path inside the app"),
    ('variables = { "bad name" = "x" }', "shipyard.toml: env.prod.site.variables: 'bad name' is not a variable name"),
    ('servers = ["nginx", "nginx"]', "shipyard.toml: env.prod.site.servers: lists a server twice"),
    ('servers = ["apache", "nginx"]', "env.prod.site: servers: apache and nginx cannot both be rendered"),
    ('servers = ["supervisor", "systemd"]', "env.prod.site: servers: supervisor and systemd cannot both be rendered"),
    ('servers = ["apache", "supervisor"]', "env.prod.site: servers: with apache, mod_wsgi runs the app"),
    ('servers = ["apache"]\ntls = { cert = "/c", key = "/k" }', "env.prod.site: tls with apache needs haproxy in servers"),
    ('servers = ["haproxy"]\ntls = { cert = "/c", key = "/k" }', "env.prod.site: tls.pem is required when haproxy terminates TLS"),
    ('servers = ["iis"]\nstatic_root = "shared/static"', "env.prod.site: iis serves static files from the site directory"),
    ('[env.prod.site.cache.memcached]\nservers = ["localhost"]', "env.prod.site.cache.memcached.servers: must be host:port, got 'localhost'"),
    ('[env.prod.site.cache.memcached]\nservers = ["127.0.0.1:11211"]\naction = "nuke"', "env.prod.site.cache.memcached.action: 'nuke' is not one of flush, bump"),
    ('[env.prod.site.cache.varnish]\nbans = ["req.url ~ ."]', "env.prod.site.cache.varnish: set exactly one of workdir"),
    ('[env.prod.site.cache.varnish]\nadmin = "127.0.0.1:6082"', "env.prod.site.cache.varnish: admin needs secret"),
])
def test_bad_site_values_name_their_key(toml, expected):
    assert expected in problems(toml)


def test_a_full_site_model_parses():
    cfg = parse(BASE + 'servers = ["nginx", "haproxy", "supervisor"]\ntls = { cert = "/c", key = "/k", pem = "/p" }\n'
                '[env.prod.site.cache]\nmemcached = { servers = ["127.0.0.1:11211"] }\n', "shipyard.toml")
    site = cfg.env["prod"].site
    assert site.servers == ["nginx", "haproxy", "supervisor"]
    assert site.cache.memcached.action == "bump" and site.tls.pem == "/p"


def test_windows_apache_needs_the_mod_wsgi_paths(tmp_path):
    from deploy.config import load
    from deploy.siteconfig import release_files

    (tmp_path / "shipyard.toml").write_text(
        '[env.w]\nhosts = [{ name = "win1", transport = "winrm" }]\n[env.w.site]\nservers = ["apache"]\n')
    with pytest.raises(ConfigError, match=r"env\.w\.site\.windows_python_dll: required to render apache for Windows host win1"):
        release_files(load(tmp_path / "shipyard.toml"), "w", "win1", "r1")


def test_balancers_need_web_hosts(tmp_path):
    from deploy.config import load
    from deploy.siteconfig import release_files

    (tmp_path / "shipyard.toml").write_text(
        '[env.e]\nhosts = [{ name = "lb1", roles = ["lb"] }]\n[env.e.site]\nservers = ["haproxy"]\n')
    with pytest.raises(ConfigError, match=r"env\.e\.hosts: haproxy needs at least one host with the web role"):
        release_files(load(tmp_path / "shipyard.toml"), "e", "lb1", "r1")
