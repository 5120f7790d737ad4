"""Server configurations rendered from one site model, shipped inside the release.

The deploy engine calls, per host:
  release_files(loaded, env, host, release_id) -> {relative path in release: text}
  validate_files(files)                         before the switch (raises ShipyardError)
  reload_commands(env, host)                    after the switch (graceful reloads)
  run_cache_hooks(env)                          in finishing (Varnish BAN, memcached)
and host_dirs(env, host) lists directories the configs write into (logs, sockets,
pid files) that the engine creates on the host before the first switch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig, Loaded

# Imported on first use: deploy.config imports deploy.siteconfig.model, so this
# package must not import deploy.config while it loads.
_LAZY = {
    "run_cache_hooks": "deploy.siteconfig.cachehooks",
    "reload_commands": "deploy.siteconfig.reload",
    "substitute_files": "deploy.siteconfig.substitute",
    "substitute_text": "deploy.siteconfig.substitute",
    "validate_files": "deploy.siteconfig.validate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'deploy.siteconfig' has no attribute {name!r}")

__all__ = ["release_files", "validate_files", "reload_commands", "run_cache_hooks", "host_dirs",
           "substitute_files", "substitute_text", "resolve"]


def resolve(loaded: "Loaded", env: "str | EnvConfig", host: "str | HostConfig") -> tuple[str, "EnvConfig", "HostConfig"]:
    """(env name, env, host) from names or models, so callers may pass either."""
    from deploy.errors import ConfigError

    if isinstance(env, str):
        name, env_model = env, loaded.environment(env)
    else:
        name = next((n for n in loaded.model.env if loaded.environment(n) == env or loaded.model.env[n] == env), "?")
        env_model = env
    if isinstance(host, str):
        found = [h for h in env_model.hosts if h.name == host]
        if not found:
            raise ConfigError(str(loaded.path), [f"env.{name}.hosts: no host named {host!r}"])
        host = found[0]
    return name, env_model, host


def release_files(loaded: "Loaded", env: "str | EnvConfig", host: "str | HostConfig", release_id: str) -> dict[str, str]:
    """Every config file `host` needs, as paths inside the release (so rollback restores them),
    plus etc/site.json describing them. Empty when the env has no site model."""
    from deploy.siteconfig import render

    name, env_model, host_model = resolve(loaded, env, host)
    if env_model.site is None:
        return {}
    ctx = render.host_context(loaded.project.name, name, env_model, host_model, release_id)
    files = render.render_kinds(ctx, ctx["kinds"])
    files[render.MANIFEST] = render.manifest(ctx, files)
    return files


def host_dirs(env: "EnvConfig", host: "HostConfig") -> list[str]:
    """Absolute directories (host flavour) the rendered configs need before they load."""
    from deploy.siteconfig.context import HostPaths

    if env.site is None:
        return []
    paths = HostPaths(env.host_deploy_to(host), host.is_windows, env.site)
    return [paths.native(env.site.log_dir), paths.native(env.site.run_dir)]
