"""The event bus between the deploy engine and everything that reports on it.

Events are plain dicts (JSON-ready) described by `events.schema.json`. The bus
stamps each one (schema version, UTC time, sequence number, run id) and scrubs
every string through `deploy.secrets.redact` *before* any subscriber sees it,
so no writer can leak a secret by forgetting to redact.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from deploy.secrets import redact

SCHEMA_VERSION = 1
EVENTS_ENV_VAR = "SHIPYARD_EVENTS"
Subscriber = Callable[[dict[str, Any]], None]


def utc_timestamp(now: datetime | None = None) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`, e.g. 2026-11-25T17:44:19.123Z."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def scrub(value: Any) -> Any:
    """A JSON-ready copy of `value` with every string redacted (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))  # Path, Secret (already masks itself), exceptions...


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]


class EventBus:
    """Stamps, scrubs and fans out events. Thread-safe: hosts deploy in parallel,
    and every subscriber sees events one at a time, in `seq` order."""

    def __init__(self, run_id: str | None = None, clock: Callable[[], datetime] | None = None):
        self.run_id = run_id or new_run_id()
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._subscribers: list[Subscriber] = []
        self._seq = 0
        self._lock = threading.Lock()
        self._closed = False

    def subscribe(self, fn: Subscriber) -> Subscriber:
        self._subscribers.append(fn)
        return fn

    def emit(self, kind: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"event bus closed; cannot emit {kind!r}")
            self._seq += 1
            event = {"schema": SCHEMA_VERSION, "kind": kind, "ts": utc_timestamp(self._clock()), "seq": self._seq, "run": self.run_id}
            event.update(scrub({k: v for k, v in fields.items() if k not in event}))
            for fn in self._subscribers:
                fn(event)
            return event

    def close(self) -> None:
        """Let subscribers finish their files (JUnit and HTML are written here). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for fn in self._subscribers:
                close = getattr(fn, "close", None)
                if callable(close):
                    close()

    def __enter__(self) -> "EventBus":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class JsonLinesWriter:
    """`--events FILE`: one JSON object per line, flushed as it happens so a
    crashed or killed deploy still leaves a readable trail. Appends: several
    runs (deploy, then rollback) can share one file; `run` tells them apart."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def __call__(self, event: dict[str, Any]) -> None:
        self._file.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """Every event of a JSON-lines file, in file order (blank lines ignored)."""
    text = Path(path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
