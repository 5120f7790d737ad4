"""What happened in a run, arranged for a timeline: per-host lanes of stage
bars, markers (rollbacks, failed health checks, retries, drain/ready), batch
boundaries, failures with their output, and the database script.

Pure functions of the event list, so the HTML template only lays things out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from deploy.report.events import parse_timestamp
from deploy.report.progress import describe, duration_text

Offset = Callable[[dict[str, Any]], float]  # seconds from the run's first event
TICK_STEPS = (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)


@dataclass
class Bar:
    stage: str
    batch: int
    start: float
    duration: float
    result: str = "unfinished"
    error: str = ""


@dataclass
class Marker:
    kind: str  # rollback, health-failed, retry, lb.drain, lb.ready
    at: float
    label: str


@dataclass
class Lane:
    host: str
    batch: int | None = None
    bars: list[Bar] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    log: list[tuple[float, str, str]] = field(default_factory=list)  # (offset, kind, text)

    @property
    def outcome(self) -> str:
        if any(m.kind == "rollback" for m in self.markers):
            return "rolled back"
        if any(b.result in ("failed", "unfinished") for b in self.bars):
            return "failed"
        return "ok" if self.bars else "not started"

    @property
    def story(self) -> str:
        """One line for the host's label: its outcome and, after a rollback, where it went."""
        rollback = next((m.label for m in reversed(self.markers) if m.kind == "rollback"), "")
        return rollback or self.outcome


@dataclass
class Failure:
    host: str
    stage: str
    step: str
    command: str
    output: str
    error: str


@dataclass
class RunView:
    run_id: str
    started: str
    span: float
    summary: dict[str, Any]
    lanes: list[Lane]
    batch_marks: list[tuple[int, float]]
    failures: list[Failure]
    db_scripts: list[dict[str, Any]]
    run_log: list[tuple[float, str, str]]

    @property
    def result(self) -> str:
        return self.summary.get("result") or "unfinished"

    def percent(self, seconds: float) -> float:
        """Position on the track; 3% headroom keeps end markers inside it."""
        return round(max(0.0, min(100.0, seconds * 100.0 / (self.span * 1.03))), 3)

    def ticks(self) -> list[tuple[float, str]]:
        step = next((s for s in TICK_STEPS if self.span / s <= 8), TICK_STEPS[-1])
        count = int(self.span // step)
        return [(self.percent(i * step), duration_text(i * step)) for i in range(count + 1)]


def split_runs(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Events grouped by run id, runs in order of first appearance, events by seq."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        runs.setdefault(event.get("run", "?"), []).append(event)
    return [sorted(run, key=lambda e: e.get("seq", 0)) for run in runs.values()]


def build_run(events: list[dict[str, Any]]) -> RunView:
    origin = min(parse_timestamp(e["ts"]) for e in events)
    last = max(parse_timestamp(e["ts"]) for e in events)

    def offset(event: dict[str, Any]) -> float:
        return (parse_timestamp(event["ts"]) - origin).total_seconds()

    start = next((e for e in events if e["kind"] == "run.start"), {})
    end = next((e for e in reversed(events) if e["kind"] == "run.end"), {})
    span = max((last - origin).total_seconds(), 1.0)
    lanes = _lanes(events, start, offset, span)
    summary = {k: start.get(k) for k in ("command", "env", "revision", "release", "user")}
    summary |= {k: end.get(k) for k in ("result", "exit_code", "error")}
    summary["duration"] = end.get("duration", (last - origin).total_seconds())
    summary["hosts"] = len(lanes)
    summary["batches"] = len(start.get("batches", [])) or len({lane.batch for lane in lanes if lane.batch})
    return RunView(
        run_id=events[0].get("run", "?"),
        started=events[0]["ts"],
        span=span,
        summary=summary,
        lanes=lanes,
        batch_marks=_batch_marks(events, offset),
        failures=_failures(events),
        db_scripts=[e for e in events if e["kind"] == "db.script"],
        run_log=[(offset(e), e["kind"], describe(e)) for e in events if not e.get("host")],
    )


def _lanes(events: list[dict[str, Any]], start: dict[str, Any], offset: Offset, span: float) -> list[Lane]:
    lanes: dict[str, Lane] = {h: Lane(h) for h in start.get("hosts", [])}
    for number, batch in enumerate(start.get("batches", []), 1):
        for host in batch:
            lanes.setdefault(host, Lane(host)).batch = number
    open_bars: dict[tuple[str, str], Bar] = {}
    for e in events:
        host = e.get("host")
        if not host:
            continue
        lane = lanes.setdefault(host, Lane(host))
        at = offset(e)
        if e["kind"] != "upload.progress":
            lane.log.append((at, e["kind"], describe(e)))
        if e["kind"] == "stage.start":
            bar = Bar(e["stage"], e["batch"], at, 0.0)
            lane.bars.append(bar)
            lane.batch = lane.batch or e["batch"]
            open_bars[(host, e["stage"])] = bar
        elif e["kind"] == "stage.end" and (host, e["stage"]) in open_bars:
            bar = open_bars.pop((host, e["stage"]))
            bar.duration, bar.result, bar.error = at - bar.start, e.get("result", "ok"), e.get("error", "")
        else:
            marker = _marker(e, at)
            if marker:
                lane.markers.append(marker)
    for bar in open_bars.values():
        bar.duration = span - bar.start
    order = {host: i for i, host in enumerate(lanes)}
    return sorted(lanes.values(), key=lambda lane: (lane.batch or 1_000_000, order[lane.host]))


def _marker(event: dict[str, Any], at: float) -> Marker | None:
    kind = event["kind"]
    if kind == "rollback":
        return Marker("rollback", at, f"rolled back {event['from']} \u2192 {event['to']}: {event['reason']}")
    if kind == "health" and event["result"] == "failed":
        return Marker("health-failed", at, describe(event))
    if kind in ("retry", "lb.drain", "lb.ready"):
        return Marker(kind, at, describe(event))
    return None


def _batch_marks(events: list[dict[str, Any]], offset: Offset) -> list[tuple[int, float]]:
    first: dict[int, float] = {}
    for e in events:
        if e["kind"] == "stage.start":
            first.setdefault(e["batch"], offset(e))
    return sorted(first.items())


def _failures(events: list[dict[str, Any]]) -> list[Failure]:
    """Each failed stage, with the failed step inside it (command and output) when there is one."""
    failures = []
    for e in events:
        if e["kind"] == "stage.end" and e.get("result") == "failed":
            step = next((s for s in reversed(events) if s["kind"] == "step" and s["result"] == "failed"
                         and s["host"] == e["host"] and s["stage"] == e["stage"] and s["seq"] < e["seq"]), {})
            failures.append(Failure(e["host"], e["stage"], step.get("step", ""), step.get("command", ""),
                                    step.get("output", ""), e.get("error", "")))
    return failures
