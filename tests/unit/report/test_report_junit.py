"""JUnit XML: one testcase per host x stage, failures carry host, step,
command and output; a failed run is never green."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from report_sample import HOSTS, sample_events

from deploy.report.events import EventBus
from deploy.report.junit import JUnitWriter


def write(events, path):
    writer = JUnitWriter(path)
    for event in events:
        writer(event)
    writer.close()
    return ET.parse(path).getroot()


def test_suites_per_host_cases_per_stage(tmp_path):
    root = write(sample_events(), tmp_path / "junit.xml")
    assert root.tag == "testsuites"
    assert [s.get("name") for s in root] == [f"production.{h}" for h in HOSTS]
    cases = {(s.get("name"), c.get("name")) for s in root for c in s}
    assert ("production.web1", "updating (batch 1)") in cases
    assert ("production.win1", "failed (batch 2)") in cases
    assert len(cases) == 4 + 4 + 5
    assert (root.get("tests"), root.get("failures")) == ("13", "1")
    web1 = root.find("testsuite[@name='production.web1']")
    assert web1.get("failures") == "0"
    assert float(web1.find("testcase[@name='updating (batch 1)']").get("time")) == 7.4


def test_failure_names_host_step_command_and_output(tmp_path):
    root = write(sample_events(), tmp_path / "junit.xml")
    failures = root.findall(".//failure")
    assert len(failures) == 1
    failure = failures[0]
    assert failure.get("message").startswith("win1: finishing: health check failed")
    text = failure.text
    for expected in ("host: win1", "stage: finishing", "step: health", "command: GET http://127.0.0.1:8000/health/",
                     "KeyError: 'DATABASE_URL'", "health http://127.0.0.1:8000/health/ failed after 20 attempt(s)"):
        assert expected in text
    out = root.find(".//testsuite[@name='production.web1']/testcase[@name='updating (batch 1)']/system-out").text
    assert "ok      pip-install (3.10s)" in out and "retry pip-install (attempt 1)" in out


def run_events(*emits, result="failed"):
    bus = EventBus()
    seen = []
    bus.subscribe(seen.append)
    bus.emit("run.start", command="deploy", env="lab", revision=None, release=None, user="u", hosts=["h1"], batches=[["h1"]])
    for kind, fields in emits:
        bus.emit(kind, **fields)
    bus.emit("run.end", result=result, exit_code=0 if result == "ok" else 1, duration=2.0,
             **({} if result == "ok" else {"error": "h1: deploy lock is held by bob"}))
    return seen


def test_run_that_failed_before_any_stage_is_red(tmp_path):
    root = write(run_events(("lock", {"action": "held", "holder": "bob"})), tmp_path / "j.xml")
    failure = root.find("testsuite[@name='lab.run']/testcase/failure")
    assert failure.get("message") == "h1: deploy lock is held by bob"
    assert root.get("failures") == "1"


def test_unfinished_and_skipped_stages(tmp_path):
    events = run_events(
        ("stage.start", {"host": "h1", "stage": "starting", "batch": 1}),
        ("stage.end", {"host": "h1", "stage": "starting", "batch": 1, "result": "skipped"}),
        ("stage.start", {"host": "h1", "stage": "updating", "batch": 1}),
        ("step", {"host": "h1", "stage": "updating", "step": "unpack", "result": "failed", "duration": 0.5,
                  "command": "tar xzf a.tgz", "output": "tar: \x1b[31merror\x1b[0m\x00"}),
    )
    root = write(events, tmp_path / "j.xml")
    suite = root.find("testsuite[@name='lab.h1']")
    assert suite.find("testcase[@name='starting (batch 1)']/skipped") is not None
    failure = suite.find("testcase[@name='updating (batch 1)']/failure")
    assert failure.get("type") == "unfinished"
    assert "command: tar xzf a.tgz" in failure.text and "\x1b" not in failure.text
    assert root.find("testsuite[@name='lab.run']") is None  # the host already shows red


def test_ok_run_has_no_failures(tmp_path):
    events = run_events(
        ("stage.start", {"host": "h1", "stage": "starting", "batch": 1}),
        ("stage.end", {"host": "h1", "stage": "starting", "batch": 1, "result": "ok", "duration": 0.2}),
        result="ok",
    )
    root = write(events, tmp_path / "j.xml")
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("1", "0", "0")
    assert root.get("time") == "2.000"
