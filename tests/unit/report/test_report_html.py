"""The HTML report's content and self-containment (the browser test is in
tests/integration/report/)."""

from __future__ import annotations

import json
import re

import pytest
from invoke import Collection, Program
from report_sample import DB_SCRIPT, HOSTS, RELEASE, sample_events

from deploy.report.events import EventBus
from deploy.report.html import render_html
from deploy.report.progress import duration_text
from deploy.report.timeline import build_run, split_runs


def test_report_has_summary_timeline_failure_and_database_script():
    page = render_html(sample_events())
    assert "<title>deploy production: rolled back</title>" in page
    for text in (RELEASE, "ab12cd300000", "alice", "27.4s", ">rolled back<", "KeyError: &#39;DATABASE_URL&#39;",
                 "ALTER TABLE orders ADD COLUMN shipped_at timestamp NULL;", ">applied<"):
        assert text in page, text
    assert DB_SCRIPT.splitlines()[1] in page
    for host in HOSTS:
        assert f'data-host="{host}"' in page
    assert page.count('class="bar ') == 13
    assert page.count('data-kind="rollback"') == 1
    assert 'data-tip="win1: rolled back 20261125-021500-ab12cd3 \u2192 20261120-101010-9f9f9f9: health check failed"' in page
    assert 'data-tip="web1: ok"' in page
    assert len(re.findall(r'class="batchmark" style="left:[\d.]+%">batch \d', page)) == 2


def test_report_is_self_contained():
    page = render_html(sample_events())
    assert "default-src 'none'" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page


def test_event_text_is_escaped():
    bus = EventBus()
    events = []
    bus.subscribe(events.append)
    bus.emit("run.start", command="deploy", env="x", revision="r", release="<b>rel</b>", user="u", hosts=["h"], batches=[["h"]])
    bus.emit("stage.start", host="h", stage="updating", batch=1)
    bus.emit("step", host="h", stage="updating", step="s", result="failed", duration=0.1, output="<script>alert(1)</script>")
    bus.emit("stage.end", host="h", stage="updating", batch=1, result="failed", error="\"><img src=x onerror=alert(1)>")
    page = render_html(events)
    assert "<script>alert(1)" not in page and "<img src=x" not in page and "<b>rel</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_two_runs_in_one_file_render_in_order():
    first = sample_events()
    bus = EventBus(run_id="second")
    second = []
    bus.subscribe(second.append)
    bus.emit("run.start", command="rollback", env="production", revision=None, release=None, user="bob", hosts=["web1"], batches=[["web1"]])
    bus.emit("run.end", result="ok", exit_code=0, duration=1.0)
    page = render_html(first + second)
    assert page.index('data-run="20261125T021500Z-sample"') < page.index('data-run="second"')
    assert "<title>rollback production: ok</title>" in page


def test_unfinished_run_stretches_open_stages_to_the_last_event():
    events = [e for e in sample_events() if e["kind"] != "run.end" and not (e["kind"] == "stage.end" and e["host"] == "win1" and e["stage"] == "failed")]
    run = build_run(split_runs(events)[0])
    assert run.result == "unfinished"
    win1 = next(lane for lane in run.lanes if lane.host == "win1")
    assert win1.bars[-1].result == "unfinished"
    assert win1.bars[-1].start + win1.bars[-1].duration == pytest.approx(run.span)
    assert ">unfinished<" in render_html(events)


def test_no_events_is_an_error():
    with pytest.raises(ValueError):
        render_html([])


def test_duration_text():
    assert [duration_text(s) for s in (0, 2.25, 59.9, 60, 95, 3600 + 120)] == ["0s", "2.2s", "59.9s", "1m", "1m 35s", "1h 02m"]


def run_report_task(*argv, exit=False):
    from deploy.tasks.report import report

    return Program(namespace=Collection(report), binary="shipyard").run(["shipyard", "report", *argv], exit=exit)


def test_report_task_writes_the_page(tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in sample_events()))
    out = tmp_path / "report.html"
    run_report_task("--from", str(events), "--out", str(out))
    assert "win1" in out.read_text()
    assert f"report: {out} (79 events)" in capsys.readouterr().out


def test_report_task_refuses_missing_or_broken_events(tmp_path, capsys):
    with pytest.raises(SystemExit) as missing:
        run_report_task("--from", str(tmp_path / "nope.jsonl"), exit=True)
    assert missing.value.code == 2
    (tmp_path / "bad.jsonl").write_text("{oops\n")
    with pytest.raises(SystemExit) as broken:
        run_report_task("--from", str(tmp_path / "bad.jsonl"), exit=True)
    assert broken.value.code == 2
    assert "not a JSON-lines events file" in capsys.readouterr().err
