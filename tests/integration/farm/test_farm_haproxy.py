"""HaproxyBalancer against the lab's real HAProxy: drain waits for sessions, ready waits for UP."""

from __future__ import annotations

import threading
import time

import pytest
from tests.integration.farm.farmlab import get, serve_labapp, supervisorctl

from deploy.config import HaproxyConfig, HostConfig, RolloutConfig
from deploy.errors import ConfigError
from deploy.loadbalancer import for_env
from deploy.loadbalancer.base import BalancerError
from deploy.loadbalancer.haproxy import HaproxyBalancer


@pytest.fixture(scope="module")
def balancer(lab, env):
    serve_labapp(lab)
    lb = for_env(env)
    assert isinstance(lb, HaproxyBalancer)
    for host in env.hosts:
        lb.ready(host, timeout=15)
    return lb


def served_hosts(lab, requests: int = 12) -> set[str]:
    return {get(lab.frontend_url + "/").split()[0] for _ in range(requests)}


def test_all_hosts_serve_behind_the_frontend(lab, balancer, env):
    assert served_hosts(lab) == {"lab1", "lab2", "lab3"}
    assert all(balancer.state(h).status == "UP" for h in env.hosts)


def test_drain_takes_a_host_out_and_ready_brings_it_back(lab, balancer, env):
    lab2 = env.hosts[1]
    assert balancer.drain(lab2, timeout=5) is True
    assert balancer.state(lab2).status == "DRAIN"
    assert served_hosts(lab) == {"lab1", "lab3"}
    assert balancer.drain(lab2, timeout=5) is True  # idempotent: already drained and idle
    balancer.ready(lab2, timeout=10)
    assert balancer.state(lab2).up
    assert served_hosts(lab) == {"lab1", "lab2", "lab3"}


def test_drain_waits_for_the_sessions_in_flight(lab, balancer, env):
    lab1 = env.hosts[0]
    answers: list[str] = []
    # the request goes to lab1 through HAProxy: send it while only lab1 is in rotation
    for other in env.hosts[1:]:
        balancer.drain(other, timeout=5)
    slow = threading.Thread(target=lambda: answers.append(get(lab.frontend_url + "/slow/?s=1.5")))
    slow.start()
    time.sleep(0.3)
    for other in env.hosts[1:]:
        balancer.ready(other, timeout=10)
    assert balancer.state(lab1).sessions == 1
    started = time.monotonic()
    assert balancer.drain(lab1, timeout=10) is True
    waited = time.monotonic() - started
    slow.join()
    assert 0.8 < waited < 5 and answers and answers[0].startswith("lab1 ")
    balancer.ready(lab1, timeout=10)


def test_drain_gives_up_after_its_timeout(lab, balancer, env):
    lab3 = env.hosts[2]
    for other in env.hosts[:2]:
        balancer.drain(other, timeout=5)
    slow = threading.Thread(target=lambda: get(lab.frontend_url + "/slow/?s=2", timeout=10))
    slow.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert balancer.drain(lab3, timeout=0.5) is False
    assert time.monotonic() - started < 1.5
    slow.join()
    for host in env.hosts:
        balancer.ready(host, timeout=10)


def test_ready_fails_when_the_backend_is_down(lab, balancer, env):
    lab3 = env.hosts[2]
    balancer.drain(lab3, timeout=5)
    supervisorctl(lab, 2, "stop", "web")
    deadline = time.monotonic() + 5
    while balancer.state(lab3).status.startswith(("DRAIN", "UP")) and time.monotonic() < deadline:
        time.sleep(0.1)  # until HAProxy's checks have seen it go
    try:
        with pytest.raises(BalancerError, match="not UP"):
            balancer.ready(lab3, timeout=1.5)
    finally:
        supervisorctl(lab, 2, "start", "web")
        balancer.ready(lab3, timeout=15)


def test_haproxy_errors_are_typed(balancer):
    ghost = HostConfig(name="ghost")
    with pytest.raises(BalancerError, match="No such server"):
        balancer.drain(ghost)
    with pytest.raises(BalancerError, match="no server 'ghost'"):
        balancer.state(ghost)
    broken = HaproxyBalancer(HaproxyConfig(socket="/nonexistent/admin.sock", backend="web"))
    with pytest.raises(BalancerError, match="admin socket"):
        broken.state(ghost)


def test_factory_follows_rollout_drain(env):
    assert for_env(env.model_copy(update={"rollout": RolloutConfig(drain="none")})) is None
    with pytest.raises(ConfigError, match="haproxy: required"):
        for_env(env.model_copy(update={"haproxy": None}))
