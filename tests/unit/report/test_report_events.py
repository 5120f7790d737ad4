"""The event bus: stamping, ordering under threads, redaction, subscriber choice."""

from __future__ import annotations

import io
import json
import re
import threading

import pytest

from deploy.report.events import EventBus, JsonLinesWriter, read_events, scrub
from deploy.report.outputs import make_bus
from deploy.report.progress import PlainProgress, RichProgress
from deploy.secrets import MASK, Secret


def test_emit_stamps_schema_time_sequence_and_run():
    bus = EventBus(run_id="r1")
    seen = []
    bus.subscribe(seen.append)
    first = bus.emit("lock", action="acquired", holder="ci")
    second = bus.emit("lock", action="released", holder="ci")
    assert seen == [first, second]
    assert (first["schema"], first["seq"], second["seq"], first["run"]) == (1, 1, 2, "r1")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])


def test_fields_cannot_overwrite_the_stamp():
    event = EventBus(run_id="r1").emit("lock", action="held", holder="x", seq=99, run="forged")
    assert (event["seq"], event["run"]) == (1, "r1")


def test_run_ids_differ_between_buses():
    assert EventBus().run_id != EventBus().run_id


def test_redaction_reaches_nested_values_keys_and_objects():
    Secret("API_TOKEN", "tok-NESTED-4711")
    event = EventBus().emit("step", host="h", stage="s", step="x", result="ok", duration=0.1,
                            output={"lines": ["a tok-NESTED-4711 b", ("tok-NESTED-4711",)], "tok-NESTED-4711": 1})
    text = json.dumps(event)
    assert "tok-NESTED-4711" not in text
    assert text.count(MASK) == 3


def test_scrub_turns_objects_into_redacted_strings():
    from pathlib import Path

    Secret("X", "pathsecret-123")
    assert scrub({"p": Path("/tmp/pathsecret-123"), "n": None, "b": True, "f": 1.5}) == {
        "p": f"/tmp/{MASK}", "n": None, "b": True, "f": 1.5}


def test_parallel_emitters_get_unique_ordered_sequence_numbers(tmp_path):
    path = tmp_path / "events.jsonl"
    bus = EventBus()
    bus.subscribe(JsonLinesWriter(path))

    def host(name):
        for i in range(200):
            bus.emit("upload.progress", host=name, bytes=i, total=200)

    threads = [threading.Thread(target=host, args=(f"web{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bus.close()
    seqs = [e["seq"] for e in read_events(path)]
    assert seqs == list(range(1, 801))


def test_close_closes_subscribers_once_and_refuses_more_events():
    closed = []

    class Sub:
        def __call__(self, event):
            pass

        def close(self):
            closed.append(1)

    bus = EventBus()
    bus.subscribe(Sub())
    bus.subscribe(lambda e: None)  # plain callables need no close()
    bus.close()
    bus.close()
    assert closed == [1]
    with pytest.raises(RuntimeError, match="closed"):
        bus.emit("lock", action="acquired", holder="x")


def test_json_lines_appends_runs_and_flushes_each_line(tmp_path):
    path = tmp_path / "sub" / "events.jsonl"
    for run in ("a", "b"):
        bus = EventBus(run_id=run)
        writer = JsonLinesWriter(path)
        bus.subscribe(writer)
        bus.emit("lock", action="acquired", holder="x")
        assert path.read_text().count("\n") == (1 if run == "a" else 2)  # visible before close
        bus.close()
    assert [e["run"] for e in read_events(path)] == ["a", "b"]


def test_make_bus_writes_events_file_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "env-events.jsonl"
    monkeypatch.setenv("SHIPYARD_EVENTS", str(path))
    bus = make_bus(None, None, None, interactive=False, stream=io.StringIO())
    bus.emit("lock", action="acquired", holder="x")
    bus.close()
    assert read_events(path)[0]["kind"] == "lock"


def test_make_bus_picks_writers_and_progress(tmp_path, monkeypatch):
    monkeypatch.delenv("SHIPYARD_EVENTS", raising=False)
    plain = make_bus(None, tmp_path / "j.xml", tmp_path / "r.html", interactive=False, stream=io.StringIO())
    kinds = {type(s).__name__ for s in plain._subscribers}
    assert kinds == {"JUnitWriter", "HtmlReportWriter", "PlainProgress"}
    live = make_bus(None, None, None, interactive=True, stream=io.StringIO())
    assert [type(s) for s in live._subscribers] == [RichProgress]


def test_make_bus_is_plain_in_ci_even_on_a_tty(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("CI", "true")
    assert [type(s) for s in make_bus(None, None, None, stream=Tty())._subscribers] == [PlainProgress]
    monkeypatch.delenv("CI")
    for var in ("TF_BUILD", "JENKINS_URL"):
        monkeypatch.delenv(var, raising=False)
    assert [type(s) for s in make_bus(None, None, None, stream=Tty())._subscribers] == [RichProgress]
