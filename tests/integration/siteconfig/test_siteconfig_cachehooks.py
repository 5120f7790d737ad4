"""Cache hooks against real varnishd (running Shipyard's own VCL) and memcached."""

import pytest
from pymemcache.client.base import Client

from deploy.siteconfig.model import MemcachedHookConfig, VarnishHookConfig
from deploy.siteconfig import run_cache_hooks
from deploy.siteconfig.cachehooks import CacheHookFailed, memcached_hook, varnish_ban

from siteconfig_helpers import free_port, http


def test_varnish_ban_hook_evicts_cached_pages(varnish):
    loaded, env, port, workdir = varnish
    url = f"http://127.0.0.1:{port}/page.html"
    http(url)
    status, headers, body = http(url)
    assert (status, headers["X-Cache"], body) == (200, "HIT", "v1\n")
    assert run_cache_hooks(loaded.environment(env)) == [f"varnish {workdir}: ban req.url ~ ^/page"]
    assert http(url)[1]["X-Cache"] == "MISS"
    assert http(url)[1]["X-Cache"] == "HIT"


def test_rendered_vcl_bans_on_purge_from_allowed_clients(varnish):
    _, _, port, _ = varnish
    url = f"http://127.0.0.1:{port}/health/"
    http(url)
    assert http(url)[1]["X-Cache"] == "HIT"
    status, _, body = http(url, method="PURGE")
    assert status == 200 and "Banned" in body
    assert http(url)[1]["X-Cache"] == "MISS"


def test_a_bad_ban_fails_the_hook_with_varnish_message(varnish):
    _, _, _, workdir = varnish
    with pytest.raises(CacheHookFailed, match=r"cache hook varnish on .*: .*(Regex compile error|missing closing parenthesis)"):
        varnish_ban(VarnishHookConfig(workdir=str(workdir), bans=["req.url ~ ("]))


def test_varnish_not_running_is_an_error(world_dir):
    with pytest.raises(CacheHookFailed, match="Could not get hold of varnishd"):
        varnish_ban(VarnishHookConfig(workdir=str(world_dir / "no-such-varnish"), timeout=1))


@pytest.fixture
def memcache(memcached_port):
    client = Client(("127.0.0.1", memcached_port), default_noreply=False, connect_timeout=2, timeout=2)
    client.flush_all()
    yield client
    client.close()


def test_memcached_flush_empties_the_cache(memcache, memcached_port):
    memcache.set("page", b"old")
    hook = MemcachedHookConfig(servers=[f"127.0.0.1:{memcached_port}"], action="flush")
    assert memcached_hook(hook) == [f"memcached 127.0.0.1:{memcached_port}: flushed"]
    assert memcache.get("page") is None


def test_memcached_bump_starts_then_increments_the_prefix(memcache, memcached_port):
    memcache.set("page", b"kept")
    hook = MemcachedHookConfig(servers=[f"127.0.0.1:{memcached_port}"], prefix_key="site:v")
    assert memcached_hook(hook) == [f"memcached 127.0.0.1:{memcached_port}: site:v -> 1"]
    assert memcached_hook(hook) == [f"memcached 127.0.0.1:{memcached_port}: site:v -> 2"]
    assert memcache.get("site:v") == b"2" and memcache.get("page") == b"kept"


def test_memcached_unreachable_is_an_error():
    hook = MemcachedHookConfig(servers=[f"127.0.0.1:{free_port()}"], timeout=1)
    with pytest.raises(CacheHookFailed, match=r"cache hook memcached on 127\.0\.0\.1:\d+: ConnectionRefusedError"):
        memcached_hook(hook)
