"""The event bus every stage and step reports through (subscribers print, log, report)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any, Callable

from deploy.secrets import redact


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Callable[[dict[str, Any]], None]] = []
        self._seq = 0
        self._lock = threading.Lock()

    def subscribe(self, fn: Callable[[dict[str, Any]], None]) -> None:
        self._subscribers.append(fn)

    def emit(self, kind: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            event = {"schema": 1, "kind": kind, "seq": self._seq,
                     "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **_scrub(fields)}
            for fn in self._subscribers:
                fn(event)
        return event

    def close(self) -> None:
        for fn in self._subscribers:
            getattr(fn, "close", lambda: None)()
