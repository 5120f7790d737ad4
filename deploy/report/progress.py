"""Progress for people: a live per-host table on a terminal, plain timestamped
lines in CI logs. Both read the same events and say the same things."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, Any

from deploy.report.events import parse_timestamp


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover - loop always returns


def rate_text(sent: int, seconds: float) -> str:
    return f" {human_bytes(sent / seconds)}/s" if seconds > 0 else ""


def duration_text(seconds: float) -> str:
    seconds = round(seconds, 1)
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s" if secs else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def last_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def describe(event: dict[str, Any]) -> str:
    """One short human sentence for an event (the host is shown separately)."""
    kind, e = event["kind"], event
    if kind == "run.start":
        hosts = ", ".join(e.get("hosts", []))
        where = f"{e['env']} back to {e.get('release') or 'the previous good release'}" if e["command"] == "rollback" \
            else f"{e.get('release') or ''} to {e['env']}"
        return f"{e['command']} {where} by {e['user']}: {hosts} in {len(e.get('batches', []))} batch(es)"
    if kind == "run.end":
        tail = f": {e['error']}" if e.get("error") else ""
        return f"{e['result']} (exit {e['exit_code']}) after {e['duration']:.1f}s{tail}"
    if kind == "stage.start":
        return f"{e['stage']} ..."
    if kind == "stage.end":
        took = f" in {e['duration']:.1f}s" if "duration" in e else ""
        error = f": {e['error']}" if e.get("error") else ""
        return f"{e['stage']} {e.get('result', 'done')}{took}{error}"
    if kind == "batch":
        if e["action"] == "start":
            return f"batch {e['batch']} of {e['of']} starts: {', '.join(e['hosts'])}"
        took = f" in {e['duration']:.1f}s" if "duration" in e else ""
        return f"batch {e['batch']} of {e['of']} {e.get('result', 'done')}{took}"
    if kind == "step":
        out = last_line(e.get("output")) if e["result"] != "ok" else ""
        return f"{e['stage']}/{e['step']} {e['result']} ({e['duration']:.1f}s)" + (f": {out}" if out else "")
    if kind == "upload.progress":
        return f"upload {human_bytes(e['bytes'])} / {human_bytes(e['total'])}"
    if kind == "retry":
        return f"retry {e['step']} (attempt {e['attempt']}): {last_line(e['error'])}"
    if kind in ("lb.drain", "lb.ready"):
        verb = "drained from" if kind == "lb.drain" else "ready in"
        return f"{verb} {e['backend']}/{e['server']}"
    if kind == "health":
        return f"health {e['check']} {e['result']} after {e['attempts']} attempt(s): {last_line(e['detail'])}"
    if kind == "rollback":
        return f"ROLLBACK {e['from']} -> {e['to']}: {e['reason']}"
    if kind == "db.script":
        verb = "applied" if e["applied"] else "not applied"
        return f"database script ({e['dialect']}, {len(e['script'].splitlines())} lines) {verb}"
    if kind == "hook":
        return f"hook {e['when']} {e['stage']}: {e['command']} {e['result']}"
    if kind == "lock":
        return f"lock {e['action']} by {e['holder']}"
    return kind


class PlainProgress:
    """Timestamped lines for logs that are not a terminal (CI runners, pipes).
    Upload progress is thinned to every quarter so logs stay readable."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream or sys.stderr
        self._upload_quarter: dict[str, int] = {}
        self._upload_started: dict[str, datetime] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        if event["kind"] == "upload.progress" and not self._upload_step(event):
            return
        host = event.get("host") or "-"
        text = describe(event)
        if event["kind"] == "upload.progress":
            started = self._upload_started.setdefault(host, parse_timestamp(event["ts"]))
            text += rate_text(event["bytes"], (parse_timestamp(event["ts"]) - started).total_seconds())
        self.stream.write(f"{event['ts']} {host:<14} {text}\n")
        self.stream.flush()

    def _upload_step(self, event: dict[str, Any]) -> bool:
        total = event["total"] or 1
        quarter = min(4, event["bytes"] * 4 // total)
        if quarter == self._upload_quarter.get(event["host"], -1):
            return False
        self._upload_quarter[event["host"]] = quarter
        return True

    def close(self) -> None:
        self.stream.flush()


@dataclass
class HostRow:
    """What the live table shows for one host."""

    host: str
    batch: int | None = None
    stage: str = "waiting"
    state: str = "pending"  # pending, running, ok, failed, stopped (another host failed), rolled back
    stage_started: datetime | None = None
    stage_ended: datetime | None = None
    last: str = ""
    upload: tuple[int, int] | None = None
    upload_started: datetime | None = None
    upload_seen: datetime | None = None

    def elapsed(self, now: datetime) -> str:
        if not self.stage_started:
            return ""
        return duration_text(((self.stage_ended or now) - self.stage_started).total_seconds())

    def upload_text(self) -> str:
        if not self.upload:
            return ""
        sent, total = self.upload
        seconds = (self.upload_seen - self.upload_started).total_seconds() if self.upload_started and self.upload_seen else 0
        return f"{human_bytes(sent)}/{human_bytes(total)}{rate_text(sent, seconds)}"


@dataclass
class LiveState:
    """Per-host rows built from events; pure, so it is tested without a terminal."""

    rows: dict[str, HostRow] = field(default_factory=dict)
    title: str = "shipyard"

    def apply(self, event: dict[str, Any]) -> None:
        kind, when = event["kind"], parse_timestamp(event["ts"])
        if kind == "run.start":
            self.title = describe(event)
            for number, batch in enumerate(event.get("batches", []), 1):
                for host in batch:
                    self.rows.setdefault(host, HostRow(host)).batch = number
            for host in event.get("hosts", []):
                self.rows.setdefault(host, HostRow(host))
            return
        host = event.get("host")
        if not host:
            return
        row = self.rows.setdefault(host, HostRow(host))
        row.last = describe(event)
        if kind == "stage.start":
            row.stage, row.batch = event["stage"], event["batch"]
            row.state = row.state if event["stage"] == "failed" else "running"  # the failed stage: each keeps its own
            row.stage_started, row.stage_ended = when, None
        elif kind == "stage.end":
            row.stage_ended = when
            if row.state != "rolled back" and event["stage"] != "failed":  # the failed stage runs on every host
                row.state = {"failed": "failed", "skipped": "stopped"}.get(event.get("result", "ok"), "ok")
        elif kind == "upload.progress":
            row.upload_started = row.upload_started or when
            row.upload, row.upload_seen = (event["bytes"], event["total"]), when
        elif kind == "rollback":
            row.state = "rolled back"


STATE_STYLE = {"pending": "dim", "running": "cyan", "ok": "green", "failed": "bold red", "stopped": "yellow",
               "rolled back": "magenta"}


class RichProgress:
    """A live table (host, batch, stage, elapsed, upload, last line) redrawn
    a few times a second while a person watches the deploy."""

    def __init__(self, stream: IO[str] | None = None, *, console: Any = None, refresh_per_second: float = 4):
        from rich.console import Console
        from rich.live import Live

        self.state = LiveState()
        self.console = console or Console(file=stream or sys.stderr)
        self._live = Live(console=self.console, get_renderable=self.table, refresh_per_second=refresh_per_second, transient=False)
        self._started = False

    def __call__(self, event: dict[str, Any]) -> None:
        self.state.apply(event)
        if not self._started:
            self._live.start()
            self._started = True
        batch_starts = event["kind"] == "batch" and event["action"] == "start" and event["of"] > 1
        if event["kind"] in ("rollback", "run.end") or event.get("result") == "failed" or batch_starts:
            self._live.console.print(f"{event.get('host') or ''} {describe(event)}".strip(), markup=False, highlight=False)

    def table(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        now = datetime.now(timezone.utc)
        table = Table(title=Text(self.state.title), title_justify="left", expand=True)
        for name, kw in (("host", {"no_wrap": True}), ("batch", {"justify": "right"}), ("stage", {}),
                         ("elapsed", {"justify": "right"}), ("upload", {"no_wrap": True}), ("last", {"ratio": 1})):
            table.add_column(name, overflow="ellipsis", **kw)
        for row in list(self.state.rows.values()):  # the refresh thread reads while events arrive
            style = STATE_STYLE.get(row.state, "")
            table.add_row(Text(row.host, style=style), str(row.batch or ""), Text(f"{row.stage} ({row.state})", style=style),
                          row.elapsed(now), row.upload_text(), Text(row.last, no_wrap=True, overflow="ellipsis"))
        return table

    def close(self) -> None:
        if self._started:
            self._live.stop()
            self._started = False
