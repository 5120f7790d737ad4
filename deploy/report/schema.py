"""Check events against the published schema (`events.schema.json`).

Used by tests (`assert_events_valid(path)` over a whole --events file) and by
anyone consuming the stream who wants to know they read what we wrote.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("events.schema.json")


@functools.cache
def event_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@functools.cache
def _validator(kind: str | None) -> Any:
    """The whole schema, or (for a known kind) the schema narrowed to that kind,
    so errors name the wrong field instead of "not valid under any of the given schemas"."""
    import jsonschema

    schema = event_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    branch = schema["$defs"].get(kind)
    if branch:
        schema = {
            "properties": {**schema["properties"], **branch["properties"]},
            "required": schema["required"] + branch["required"],
            "additionalProperties": False,
        }
    return jsonschema.Draft202012Validator(schema)


def event_errors(event: Any) -> list[str]:
    """Readable reasons `event` does not match the schema (empty when it does)."""
    kind = event.get("kind") if isinstance(event, dict) else None
    return [_describe(e) for e in _validator(kind if isinstance(kind, str) else None).iter_errors(event)]


def _describe(err: Any) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
    return f"{where.lstrip('.') or '(event)'}: {err.message}"


def assert_events_valid(path: str | Path) -> int:
    """Every line of a JSON-lines events file validates; returns how many events.
    Raises AssertionError naming the line, its kind and what is wrong."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    failures, count = [], 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        count += 1
        try:
            event = json.loads(line)
        except json.JSONDecodeError as e:
            failures.append(f"{path}:{number}: not JSON: {e}")
            continue
        kind = event.get("kind", "?") if isinstance(event, dict) else "?"
        failures += [f"{path}:{number} ({kind}): {p}" for p in event_errors(event)]
    assert not failures, "events do not match events.schema.json:\n  " + "\n  ".join(failures)
    assert count, f"{path}: no events"
    return count
