"""`invoke report --from EVENTS --out report.html`: the HTML deploy report
from a JSON-lines events file (a CI artifact, or `--events` of an earlier run)."""

from __future__ import annotations

from deploy.tasks._task import shipyard_task


@shipyard_task(help={"from_": "JSON-lines events file (deploy --events FILE; default: $SHIPYARD_EVENTS)",
                     "out": "HTML file to write"})
def report(c, from_=None, out="report.html"):
    """Render the HTML deploy report (timeline, failures, database script) from an events file."""
    import json
    import os
    from pathlib import Path

    from deploy.errors import UsageError
    from deploy.report.events import read_events
    from deploy.report.html import render_html

    from deploy.report.events import EVENTS_ENV_VAR

    from_ = from_ or os.environ.get(EVENTS_ENV_VAR)
    if not from_:
        raise UsageError("report: which events file? pass --from EVENTS (written by `invoke deploy --events EVENTS`) "
                         f"or set {EVENTS_ENV_VAR}")
    source = Path(from_)
    if not source.is_file():
        raise UsageError(f"--from {source}: no such events file")
    try:
        events = read_events(source)
    except json.JSONDecodeError as e:
        raise UsageError(f"--from {source}: not a JSON-lines events file ({e})") from None
    if not events:
        raise UsageError(f"--from {source}: the file holds no events")
    Path(out).write_text(render_html(events), encoding="utf-8")
    print(f"report: {out} ({len(events)} events)")
