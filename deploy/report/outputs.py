"""Which outputs a run writes: files asked for on the command line, the terminal view, the webhook.

The bus (`events`) knows none of them; each output subscribes to it here, so
events flow one way: engine → bus → outputs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from deploy.report.events import EVENTS_ENV_VAR, EventBus, JsonLinesWriter


def is_interactive(stream: Any = None) -> bool:
    """A person is watching: a TTY, and not a CI runner (they all set CI)."""
    stream = stream or sys.stderr
    if os.environ.get("CI") or os.environ.get("TF_BUILD") or os.environ.get("JENKINS_URL"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def make_bus(
    events_path: str | Path | None,
    junit_path: str | Path | None,
    html_path: str | Path | None,
    interactive: bool | None = None,
    *,
    stream: Any = None,
    notify: Any = None,
    secrets: dict[str, Any] | None = None,
) -> EventBus:
    """The bus a deploy task uses: files asked for on the command line (or
    SHIPYARD_EVENTS), a live table for a person or plain lines for CI, and the
    environment's webhook (`notify`: a NotifyConfig; `secrets` holds its token)."""
    bus = EventBus()
    if notify is not None:
        from deploy.report.webhook import WebhookNotifier

        bus.subscribe(WebhookNotifier.from_config(notify, secrets or {}))
    events_path = events_path or os.environ.get(EVENTS_ENV_VAR) or None
    if events_path:
        bus.subscribe(JsonLinesWriter(events_path))
    if junit_path:
        from deploy.report.junit import JUnitWriter

        bus.subscribe(JUnitWriter(junit_path))
    if html_path:
        from deploy.report.html import HtmlReportWriter

        bus.subscribe(HtmlReportWriter(html_path))
    stream = stream or sys.stderr
    if interactive is None:
        interactive = is_interactive(stream)
    if interactive:
        from deploy.report.progress import RichProgress

        bus.subscribe(RichProgress(stream=stream))
    else:
        from deploy.report.progress import PlainProgress

        bus.subscribe(PlainProgress(stream))
    return bus
