"""The health check's wait between probes: 50 ms first, doubling up to `interval`, within the deadline."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from deploy.config import HealthConfig
from deploy.engine import health
from deploy.errors import HealthCheckFailed


class Clock:
    def __init__(self) -> None:
        self.now, self.waits = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(health.time, "monotonic", lambda: c.now)
    monkeypatch.setattr(health.time, "sleep", c.sleep)
    return c


def failing(times: int):
    left = [times]

    def probe() -> str | None:
        left[0] -= 1
        return "Connection refused" if left[0] >= 0 else None

    return probe


def test_waits_start_at_50ms_and_double_up_to_the_interval(clock):
    result = health._until_healthy("u", "h", failing(6), HealthConfig(interval=0.25, timeout=30))
    assert result.attempts == 7
    assert clock.waits == pytest.approx([0.05, 0.1, 0.2, 0.25, 0.25, 0.25])


def test_an_interval_below_50ms_is_the_wait_throughout(clock):
    health._until_healthy("u", "h", failing(3), HealthConfig(interval=0.01, timeout=30))
    assert clock.waits == pytest.approx([0.01, 0.01, 0.01])


@settings(max_examples=200, deadline=None)
@given(st.floats(0.001, 5), st.floats(0.01, 60))
def test_never_waits_past_the_deadline_nor_longer_than_the_interval(interval, timeout):
    c = Clock()
    mp = pytest.MonkeyPatch()
    mp.setattr(health.time, "monotonic", lambda: c.now)
    mp.setattr(health.time, "sleep", c.sleep)
    try:
        with pytest.raises(HealthCheckFailed, match="Connection refused"):
            health._until_healthy("u", "h", lambda: "Connection refused", HealthConfig(interval=interval, timeout=timeout))
    finally:
        mp.undo()
    assert c.now <= timeout + 1e-9
    assert all(w <= interval + 1e-12 for w in c.waits)
    assert c.waits == sorted(c.waits)
