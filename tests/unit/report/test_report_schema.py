"""events.schema.json: a valid draft 2020-12 schema that accepts what the bus
emits for every kind and rejects what the engine must not send."""

from __future__ import annotations

import json

import jsonschema
import pytest
from report_sample import sample_events

from deploy.report.events import EventBus, JsonLinesWriter
from deploy.report.schema import SCHEMA_FILE, assert_events_valid, event_errors, event_schema


def test_schema_is_valid_draft_2020_12_and_versioned():
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema"] == {"const": 1, "description": "schema version"}


def test_every_documented_kind_appears_in_the_sample_run_and_validates():
    events = sample_events()
    kinds = set(event_schema()["$defs"])
    assert kinds == {"run.start", "run.end", "stage.start", "stage.end", "step", "upload.progress", "retry",
                     "lb.drain", "lb.ready", "health", "rollback", "db.script", "hook", "lock", "batch", "insecure"}
    assert kinds == {e["kind"] for e in events}
    for event in events:
        assert event_errors(event) == [], event


def stamped(kind, **fields):
    return EventBus(run_id="t").emit(kind, **fields)


@pytest.mark.parametrize(
    "event, complaint",
    [
        (stamped("stage.end", host="w", stage="s", batch=1, result="great"), "result: 'great' is not one of"),
        (stamped("stage.start", host="w", stage="s"), "'batch' is a required property"),
        (stamped("stage.start", host="w", stage="s", batch=0), "batch: 0 is less than the minimum of 1"),
        (stamped("lock", action="acquired", holder="x", colour="red"), "'colour' was unexpected"),
        (stamped("run.end", result="ok", exit_code=0, duration=-1), "duration: -1 is less than the minimum"),
        (stamped("teleport", host="w"), "kind: 'teleport' is not one of"),
        ({**stamped("lock", action="a", holder="h"), "schema": 2}, "schema: 1 was expected"),
        ({**stamped("lock", action="a", holder="h"), "ts": "2026-11-25 10:00"}, "ts: '2026-11-25 10:00' does not match"),
    ],
)
def test_bad_events_are_named_precisely(event, complaint):
    errors = event_errors(event)
    assert any(complaint in e for e in errors), errors


def test_assert_events_valid_counts_and_names_the_bad_line(tmp_path):
    path = tmp_path / "events.jsonl"
    bus = EventBus()
    bus.subscribe(JsonLinesWriter(path))
    bus.emit("lock", action="acquired", holder="ci")
    bus.emit("hook", host="web1", stage="updating", when="before", command="true", result="ok")
    bus.close()
    assert assert_events_valid(path) == 2
    with path.open("a") as f:
        f.write(json.dumps(stamped("hook", host="web1", stage="updating", when="during", command="x", result="ok")) + "\n")
        f.write("{not json\n")
    with pytest.raises(AssertionError) as raised:
        assert_events_valid(path)
    assert "events.jsonl:3 (hook): when: 'during' is not one of" in str(raised.value)
    assert "events.jsonl:4: not JSON" in str(raised.value)


def test_assert_events_valid_refuses_an_empty_file(tmp_path):
    (tmp_path / "e.jsonl").write_text("\n")
    with pytest.raises(AssertionError, match="no events"):
        assert_events_valid(tmp_path / "e.jsonl")
