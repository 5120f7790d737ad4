"""The HTML deploy report: one self-contained file (inline CSS, JS and SVG, a
Content-Security-Policy that forbids any fetch) a person can open from a CI
artifact after a bad night: what ran, who ran it, where it broke, what the
database got, and a per-host timeline with batches, failures and rollbacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploy.report.events import SCHEMA_VERSION
from deploy.report.progress import duration_text
from deploy.report.timeline import build_run, split_runs

TEMPLATE = Path(__file__).with_name("report.html")

_SVG = '<svg viewBox="0 0 16 16" aria-hidden="true">{}</svg>'
MARKER_ICONS = {
    "rollback": _SVG.format('<circle cx="8" cy="8" r="7.5" fill="#d97706"/><path d="M11.5 8a3.5 3.5 0 1 1-1.1-2.55" '
                            'fill="none" stroke="#fff" stroke-width="1.8"/><path d="M11.9 3.2v3.4H8.5z" fill="#fff"/>'),
    "health-failed": _SVG.format('<circle cx="8" cy="8" r="7.5" fill="#dc2626"/>'
                                 '<path d="M5 5l6 6M11 5l-6 6" stroke="#fff" stroke-width="2"/>'),
    "retry": _SVG.format('<circle cx="8" cy="8" r="7.5" fill="#f59e0b"/><path d="M8 4v5M8 11v1.5" stroke="#fff" stroke-width="2"/>'),
    "lb.drain": _SVG.format('<path d="M1 3h14L8 14z" fill="#64748b"/>'),
    "lb.ready": _SVG.format('<path d="M1 13h14L8 2z" fill="#16a34a"/>'),
}


def render_html(events: list[dict[str, Any]]) -> str:
    """The report for every run in `events` (usually one; deploy then rollback
    appended to the same file shows both, in order)."""
    from jinja2 import Environment
    from markupsafe import Markup

    if not events:
        raise ValueError("no events to report on")
    runs = [build_run(run) for run in split_runs(events)]
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    last = runs[-1].summary
    title = f"{last.get('command') or 'run'} {last.get('env') or ''}: {(runs[-1].result or 'unfinished').replace('_', ' ')}"
    return template.render(
        runs=runs,
        title=title,
        icons={k: Markup(v) for k, v in MARKER_ICONS.items()},
        duration_text=duration_text,
        schema_version=SCHEMA_VERSION,
    )


class HtmlReportWriter:
    """Subscriber that writes the report when the bus closes (deploy --html FILE)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def close(self) -> None:
        if self.events:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(render_html(self.events), encoding="utf-8")
