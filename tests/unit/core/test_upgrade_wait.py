"""How late a binary upgrade's end is seen: each rollout batch waits on the keeper seeing the new
master and on the agent seeing the keeper's verdict, so neither may lag it by more than its
10 ms poll (a 50 ms poll cost each batch up to 100 ms of waiting). A fake clock: `at` is when
the new master (or the verdict) appears, the oracle is the clock when the wait returned."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from deploy.services import gunicorn_keeper, supervisor_agent

APPEARS = st.floats(0, 3, allow_nan=False)


class Clock:
    def __init__(self, at: float, appear) -> None:  # noqa: ANN001 - a callable run once at `at`
        self.now, self.at, self.appear, self.appeared = 0.0, at, appear, None

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.appeared is None and self.now >= self.at:
            self.appear()
            self.appeared = self.now


def patched(module, clock: Clock) -> pytest.MonkeyPatch:
    mp = pytest.MonkeyPatch()
    mp.setattr(module.time, "monotonic", lambda: clock.now)
    mp.setattr(module.time, "sleep", clock.sleep)
    return mp


class Supervisord:
    def __init__(self) -> None:
        self.signals: list[tuple[str, str]] = []

    def signalProcess(self, program: str, sig: str) -> bool:  # noqa: N802 - supervisord's XML-RPC name
        self.signals.append((program, sig))
        return True


@settings(max_examples=60, deadline=None)
@given(APPEARS)
def test_the_agent_answers_within_10ms_of_the_keepers_verdict(at):
    with tempfile.TemporaryDirectory() as d:
        status = Path(d) / "web.upgrade"
        status.write_text('{"upgrade": "ok"}\n')  # the last upgrade's verdict: removed before the signal
        clock, sv = Clock(at, lambda: status.write_text(json.dumps({"upgrade": "ok", "master": 2}))), Supervisord()
        mp = patched(supervisor_agent, clock)
        mp.setattr(supervisor_agent, "rpc", lambda req: sv)
        try:
            supervisor_agent.binary_upgrade({"upgrade_status": str(status), "timeout": 30.0, "program": "web"})
        finally:
            mp.undo()
    assert sv.signals == [("web", "USR2")]
    assert clock.appeared is not None and clock.now - at <= supervisor_agent.VERDICT_POLL + 1e-9


@settings(max_examples=60, deadline=None)
@given(APPEARS)
def test_the_keeper_sees_the_new_master_within_10ms(at):
    keeper = gunicorn_keeper.Keeper.__new__(gunicorn_keeper.Keeper)
    keeper.master = os.getpid()  # alive for as long as the wait lasts
    serving: list[int] = []
    clock = Clock(at, lambda: serving.append(4242))
    mp = patched(gunicorn_keeper, clock)
    try:
        found = keeper.until(lambda: serving[0] if serving else None)
    finally:
        mp.undo()
    assert found == 4242
    assert clock.now - at <= gunicorn_keeper.POLL + 1e-9


def test_a_failed_verdict_is_still_reported_with_its_detail(tmp_path, monkeypatch):
    status = tmp_path / "web.upgrade"
    clock = Clock(0.02, lambda: status.write_text(json.dumps({"upgrade": "failed", "detail": "no new master"})))
    monkeypatch.setattr(supervisor_agent.time, "monotonic", lambda: clock.now)
    monkeypatch.setattr(supervisor_agent.time, "sleep", clock.sleep)
    monkeypatch.setattr(supervisor_agent, "rpc", lambda req: Supervisord())
    with pytest.raises(supervisor_agent.Refused, match="binary upgrade failed: no new master"):
        supervisor_agent.binary_upgrade({"upgrade_status": str(status), "timeout": 30.0, "program": "web",
                                         "dir": str(tmp_path)})
