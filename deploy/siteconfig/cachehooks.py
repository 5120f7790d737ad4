"""Post-deploy cache hooks: ban Varnish objects through varnishadm, and flush
memcached or bump the counter the app puts in its cache keys (new keys, old
entries age out, no stampede on a flush)."""

from __future__ import annotations

import subprocess

from deploy.config import EnvConfig
from deploy.siteconfig.model import MemcachedHookConfig, VarnishHookConfig
from deploy.errors import ShipyardError


class CacheHookFailed(ShipyardError):
    """A cache hook could not do its job (varnishadm refused, memcached unreachable)."""

    def __init__(self, hook: str, target: str, message: str):
        self.hook, self.target = hook, target
        super().__init__(f"cache hook {hook} on {target}: {message}")


def run_cache_hooks(env: EnvConfig) -> list[str]:
    """Run the env's cache hooks from this machine; one line per action taken."""
    if env.site is None:
        return []
    cache = env.site.cache
    done: list[str] = []
    if cache.varnish is not None:
        done += varnish_ban(cache.varnish)
    if cache.memcached is not None:
        done += memcached_hook(cache.memcached)
    return done


def varnish_ban(hook: VarnishHookConfig) -> list[str]:
    from deploy.siteconfig.reload import varnishadm_argv

    argv = varnishadm_argv(hook)
    target = hook.workdir or str(hook.admin)
    done = []
    for expression in hook.bans:
        try:
            proc = subprocess.run([*argv, f"ban {expression}"], capture_output=True, text=True,
                                  timeout=hook.timeout + 10, stdin=subprocess.DEVNULL)
        except (FileNotFoundError, subprocess.TimeoutExpired) as e:
            raise CacheHookFailed("varnish", target, str(e)) from None
        if proc.returncode != 0:
            raise CacheHookFailed("varnish", target, (proc.stdout + proc.stderr).strip() or f"exited {proc.returncode}")
        done.append(f"varnish {target}: ban {expression}")
    return done


def memcached_hook(hook: MemcachedHookConfig) -> list[str]:
    from pymemcache.client.base import Client
    from pymemcache.exceptions import MemcacheError

    done = []
    for server in hook.servers:
        address, _, port = server.rpartition(":")
        client = Client((address.strip("[]"), int(port)), connect_timeout=hook.timeout, timeout=hook.timeout,
                        default_noreply=False)
        try:
            if hook.action == "flush":
                if not client.flush_all(noreply=False):
                    raise CacheHookFailed("memcached", server, "flush_all was not acknowledged")
                done.append(f"memcached {server}: flushed")
            else:
                done.append(f"memcached {server}: {hook.prefix_key} -> {_bump(client, hook.prefix_key)}")
        except (MemcacheError, OSError) as e:
            raise CacheHookFailed("memcached", server, f"{type(e).__name__}: {e}") from None
        finally:
            client.close()
    return done


def _bump(client, key: str) -> int:
    """incr, or start the counter at 1 when it does not exist yet (add is atomic)."""
    value = client.incr(key, 1, noreply=False)
    if value is None and not client.add(key, b"1", noreply=False):
        value = client.incr(key, 1, noreply=False)  # another deploy created it meanwhile
    return int(value or 1)
