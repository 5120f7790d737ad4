"""Health checks with retries and a deadline: the gate between a switch and `ready`.

HTTP checks run from the controller (like a load balancer's check would);
command checks run on the host through its transport.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable

from deploy.config import EnvConfig, HealthConfig, HostConfig
from deploy.errors import HealthCheckFailed
from deploy.transport.base import Transport


@dataclass(frozen=True)
class HealthResult:
    check: str
    attempts: int
    detail: str


def health_url(health: HealthConfig, env: EnvConfig, host: HostConfig, address: str | None = None) -> str | None:
    """The configured URL for `host`; `address` overrides it (a check run on the host itself)."""
    if not health.url:
        return None
    address = address or host.address or ("127.0.0.1" if host.transport == "local" else host.name)
    return health.url.format(address=address, app_port=env.host_app_port(host), name=host.name)


def _probe_http(url: str, release_id: str | None, timeout: float) -> str | None:
    """None when healthy, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read(65536).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code}"
    except (OSError, ValueError) as e:  # "Connection refused", not "URLError: [Errno 111] Connection refused"
        reason = getattr(e, "reason", e)
        return reason.strerror if isinstance(reason, OSError) and reason.strerror else f"{type(e).__name__}: {reason}"
    if release_id is None:
        return None
    try:
        served = json.loads(body).get("release")
    except (json.JSONDecodeError, AttributeError):
        return f"not JSON: {body[:80]!r}"
    return None if served == release_id else f"serves release {served!r}, expected {release_id!r}"


FIRST_WAIT = 0.05


def _until_healthy(name: str, host: str, probe: Callable[[], str | None], cfg: HealthConfig) -> HealthResult:
    """Probe at once, then after 50 ms, doubling up to `interval`: a server that comes up in
    0.3 s is seen then, not at the next quarter second, and a slow one is not hammered."""
    deadline = time.monotonic() + cfg.timeout
    attempts, last, wait = 0, "never probed", min(FIRST_WAIT, cfg.interval)
    while True:
        attempts += 1
        problem = probe()
        if problem is None:
            return HealthResult(name, attempts, "ok")
        last = problem
        if time.monotonic() + wait > deadline:
            raise HealthCheckFailed(host, name, f"{last} (after {attempts} attempts in {cfg.timeout:g}s)")
        time.sleep(wait)
        wait = min(wait * 2, cfg.interval)


def check_host(env: EnvConfig, host: HostConfig, transport: Transport, release_id: str | None) -> list[HealthResult]:
    """Run every configured check; raises HealthCheckFailed with the last reason."""
    cfg, results = env.health, []
    url = health_url(cfg, env, host)
    if url:
        expect = release_id if cfg.expect_release else None
        results.append(_until_healthy(url, host.name, lambda: _probe_http(url, expect, min(5.0, cfg.timeout)), cfg))
    if cfg.command:
        def probe() -> str | None:
            r = transport.run(cfg.command, timeout=min(30.0, cfg.timeout), check=False)
            return None if r.ok else f"exit {r.rc}: {(r.stderr or r.stdout).strip()[-200:]}"

        results.append(_until_healthy(cfg.command, host.name, probe, cfg))
    return results
