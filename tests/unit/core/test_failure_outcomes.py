"""When one host fails, each host's record says what happened to *it*: the failing host its
own error, a host put back `rolled_back`, a host never switched `not_switched` — never
another host's error under its own name. And the run's header names the rollback's target."""

from __future__ import annotations

from types import SimpleNamespace

from deploy.engine.outcome import host_outcome
from deploy.engine.stages import end_failed_stage
from deploy.errors import StepFailed
from deploy.report.events import EventBus
from deploy.report.progress import LiveState, describe


def target(name, **state):
    return SimpleNamespace(name=name, previous="r1", switched=False, reverted=False, error=None, **state)


def test_each_host_ends_the_stage_with_its_own_outcome():
    hosts = [target("web1", ), target("web2"), target("web3")]
    hosts[1].error = "web2: publishing/health: HTTP 503"
    bus, seen = EventBus(run_id="t"), []
    bus.subscribe(seen.append)
    ctx = SimpleNamespace(targets=hosts, bus=bus, batch_of=lambda t: hosts.index(t) + 1)
    end_failed_stage(ctx, "publishing", StepFailed("web2", "publishing/health", "HTTP 503"), 1.5)
    ends = {e["host"]: (e["result"], e["error"]) for e in seen}
    assert ends == {"web1": ("skipped", "stopped: web2 failed"), "web2": ("failed", "web2: publishing/health: HTTP 503"),
                    "web3": ("skipped", "stopped: web2 failed")}


def test_a_failure_no_host_owns_fails_every_host():
    hosts = [target("web1"), target("web2")]
    bus, seen = EventBus(run_id="t"), []
    bus.subscribe(seen.append)
    end_failed_stage(SimpleNamespace(targets=hosts, bus=bus, batch_of=lambda t: 1), "publishing",
                     RuntimeError("database: no such table"), 0.1)
    assert {e["result"] for e in seen} == {"failed"} and all("no such table" in e["error"] for e in seen)


def test_journal_outcomes():
    error = StepFailed("web2", "publishing/health", "HTTP 503")
    failing, back, untouched = target("web2", ), target("web1"), target("web3")
    failing.error, back.reverted = str(error), True
    assert host_outcome(failing, ["web2"], error) == ("failed", str(error))
    assert host_outcome(back, ["web2"], error)[0] == "rolled_back"
    outcome, why = host_outcome(untouched, ["web2"], error)
    assert outcome == "not_switched" and why == "left on r1: the run stopped when web2 failed" and "503" not in why


def test_live_table_marks_a_stopped_host_stopped_not_failed():
    state = LiveState()
    for event in ({"kind": "stage.start", "host": "web3", "stage": "publishing", "batch": 3},
                  {"kind": "stage.end", "host": "web3", "stage": "publishing", "batch": 3, "result": "skipped",
                   "error": "stopped: web2 failed"},
                  {"kind": "stage.start", "host": "web3", "stage": "failed", "batch": 3},
                  {"kind": "stage.end", "host": "web3", "stage": "failed", "batch": 3, "result": "ok"}):
        state.apply({**event, "ts": "2026-01-01T00:00:00.000Z"})
    assert state.rows["web3"].state == "stopped"


def test_the_rollback_header_names_its_target():
    start = {"kind": "run.start", "command": "rollback", "env": "production", "release": "20261125-101010-abc1234",
             "user": "alice", "hosts": ["web1"], "batches": [["web1"]]}
    assert describe(start).startswith("rollback production back to 20261125-101010-abc1234 by alice")
    assert "back to the previous good release" in describe({**start, "release": None})
