"""`--junit FILE`: a deploy as test results, so CI runners show it like tests.

One <testsuite> per host, one <testcase> per stage the host went through; a
failure names host, stage, step and command and carries the command output.
A run that failed before any host stage (lock held, bad artifact) still shows
red through a `run` suite, so a broken deploy never looks green.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.report.events import parse_timestamp
from deploy.report.progress import describe

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """Command output may hold ANSI escapes or NULs, which XML 1.0 cannot carry."""
    return _NOT_XML.sub("\ufffd", text)


@dataclass
class StageCase:
    host: str
    stage: str
    batch: int
    start: str
    end: dict[str, Any] | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed_step(self) -> dict[str, Any] | None:
        return next((s for s in reversed(self.steps) if s["result"] == "failed"), None)

    @property
    def outcome(self) -> str:
        if self.end is None:
            return "unfinished"
        result = self.end.get("result", "ok")
        return "failed" if result == "failed" or (result != "skipped" and self.failed_step) else result

    def seconds(self, run_end: str | None) -> float:
        if self.end and "duration" in self.end:
            return float(self.end["duration"])
        stop = (self.end or {}).get("ts") or run_end or self.start
        return max(0.0, (parse_timestamp(stop) - parse_timestamp(self.start)).total_seconds())


def failure_text(case: StageCase) -> str:
    step = case.failed_step or {}
    lines = [f"host: {case.host}", f"stage: {case.stage}", f"batch: {case.batch}"]
    if step:
        lines.append(f"step: {step['step']}")
    if step.get("command"):
        lines.append(f"command: {step['command']}")
    if case.end and case.end.get("error"):
        lines.append(f"error: {case.end['error']}")
    lines += case.notes
    if step.get("output"):
        lines += ["", "output:", step["output"]]
    return "\n".join(lines)


def failure_message(case: StageCase) -> str:
    step = case.failed_step
    if case.outcome == "unfinished":
        return f"{case.host}: stage {case.stage} did not finish"
    reason = (case.end or {}).get("error") or (f"step '{step['step']}' failed" if step else "failed")
    return f"{case.host}: {case.stage}: {reason}"


class JUnitWriter:
    """Collects events while the deploy runs; writes the XML once, on close."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.cases: list[StageCase] = []
        self.open: dict[tuple[str, str], StageCase] = {}
        self.run_start: dict[str, Any] = {}
        self.run_end: dict[str, Any] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        kind, host = event["kind"], event.get("host")
        if kind == "run.start":
            self.run_start = event
        elif kind == "run.end":
            self.run_end = event
        elif kind == "stage.start":
            case = StageCase(host, event["stage"], event["batch"], event["ts"])
            self.cases.append(case)
            self.open[(host, event["stage"])] = case
        elif kind == "stage.end" and (host, event["stage"]) in self.open:
            self.open.pop((host, event["stage"])).end = event
        elif kind == "step":
            self._case_for(host, event.get("stage")).steps.append(event)
        elif kind in ("retry", "rollback", "health", "hook") and host:
            self._case_for(host, event.get("stage")).notes.append(describe(event))

    def _case_for(self, host: str, stage: str | None) -> StageCase:
        """The host's open stage (or its latest one): notes land where they happened."""
        if (host, stage) in self.open:
            return self.open[(host, stage)]
        mine = [c for c in self.cases if c.host == host]
        if not mine:
            mine = [StageCase(host, stage or "deploy", 1, self.run_start.get("ts") or "1970-01-01T00:00:00.000Z")]
            self.cases.extend(mine)
        return mine[-1]

    def document(self) -> ET.Element:
        env = self.run_start.get("env", "deploy")
        root = ET.Element("testsuites", name=f"shipyard {self.run_start.get('command', 'deploy')} {env}")
        by_host: dict[str, list[StageCase]] = {host: [] for host in self.run_start.get("hosts", [])}
        for case in self.cases:  # one pass: a fleet of N hosts costs N, not N x N
            by_host.setdefault(case.host, []).append(case)
        for host, cases in by_host.items():
            self._suite(root, f"{env}.{host}", cases)
        if self.run_end.get("result", "ok") != "ok" and not any(c.outcome in ("failed", "unfinished") for c in self.cases):
            self._run_suite(root, env)
        for attr in ("tests", "failures", "skipped"):
            root.set(attr, str(sum(int(s.get(attr, 0)) for s in root)))
        root.set("time", f"{float(self.run_end.get('duration', 0)):.3f}")
        return root

    def _suite(self, root: ET.Element, name: str, cases: list[StageCase]) -> None:
        suite = ET.SubElement(root, "testsuite", name=name, timestamp=cases[0].start if cases else self.run_start.get("ts", ""))
        end_ts = self.run_end.get("ts")
        for case in cases:
            element = ET.SubElement(suite, "testcase", classname=f"shipyard.{name}", name=f"{case.stage} (batch {case.batch})",
                                    time=f"{case.seconds(end_ts):.3f}")
            if case.outcome in ("failed", "unfinished"):
                failure = ET.SubElement(element, "failure", message=xml_safe(failure_message(case)), type=case.outcome)
                failure.text = xml_safe(failure_text(case))
            elif case.outcome == "skipped":
                ET.SubElement(element, "skipped")
            steps = [f"{s['result']:<7} {s['step']} ({s['duration']:.2f}s)" for s in case.steps]
            if steps or case.notes:
                ET.SubElement(element, "system-out").text = xml_safe("\n".join(steps + case.notes))
        failures = sum(1 for c in cases if c.outcome in ("failed", "unfinished"))
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", str(sum(1 for c in cases if c.outcome == "skipped")))
        suite.set("time", f"{sum(c.seconds(end_ts) for c in cases):.3f}")

    def _run_suite(self, root: ET.Element, env: str) -> None:
        suite = ET.SubElement(root, "testsuite", name=f"{env}.run", tests="1", failures="1", errors="0", skipped="0",
                              time=f"{float(self.run_end.get('duration', 0)):.3f}")
        case = ET.SubElement(suite, "testcase", classname=f"shipyard.{env}", name="run", time=suite.get("time"))
        message = xml_safe(self.run_end.get("error") or f"run ended {self.run_end.get('result')}")
        ET.SubElement(case, "failure", message=message, type=self.run_end.get("result", "failed")).text = message

    def close(self) -> None:
        tree = ET.ElementTree(self.document())
        ET.indent(tree)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tree.write(self.path, encoding="utf-8", xml_declaration=True)
