"""What every service kind shares: placeholders in service fields, and waiting on a condition."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig


def expand(text: str, env: "EnvConfig", host: "HostConfig") -> str:
    """`{deploy_to}`, `{current}`, `{host}`, `{address}`, `{app_port}` in a service's fields."""
    deploy_to = env.host_deploy_to(host)
    return text.format(
        deploy_to=deploy_to,
        current=f"{deploy_to}/current",
        host=host.name,
        address=host.target,
        app_port=env.host_app_port(host),
    )


def wait_until(check: Callable[[], tuple[bool, str]], timeout: float, interval: float = 0.1) -> tuple[bool, str]:
    """Poll `check` (-> (done, last observation)) until done or the deadline; return the last one."""
    deadline = time.monotonic() + timeout
    while True:
        done, seen = check()
        if done or time.monotonic() >= deadline:
            return done, seen
        time.sleep(interval)
