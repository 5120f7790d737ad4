"""Load balancers the rollout drains hosts from. `for_env` picks one from the env's config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deploy.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig
    from deploy.loadbalancer.base import LoadBalancer


def for_env(env: "EnvConfig") -> "LoadBalancer | None":
    """None when the rollout does not drain (`rollout.drain = "none"`)."""
    if env.rollout.drain == "none":
        return None
    if env.haproxy is None:
        raise ConfigError("shipyard.toml", ['haproxy: required when rollout.drain = "haproxy" (socket, backend)'])
    from deploy.loadbalancer.haproxy import HaproxyBalancer

    return HaproxyBalancer(env.haproxy)
