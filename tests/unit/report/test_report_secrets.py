"""A planted secret rides through a whole run (command, output, error, health
detail) and must not appear in any output: JSON lines, JUnit, HTML, plain
progress, the live table."""

from __future__ import annotations

import io

from report_sample import SECRET_VALUE, FakeClock, emit_sample_run

from deploy.report.outputs import make_bus
from deploy.report.progress import RichProgress
from deploy.secrets import MASK


def test_no_output_carries_the_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("SHIPYARD_EVENTS", raising=False)
    plain = io.StringIO()
    events, junit, html = tmp_path / "e.jsonl", tmp_path / "j.xml", tmp_path / "r.html"
    bus = make_bus(events, junit, html, interactive=False, stream=plain)
    from rich.console import Console

    live_out = io.StringIO()
    bus.subscribe(RichProgress(console=Console(file=live_out, force_terminal=True, width=200), refresh_per_second=50))
    clock = FakeClock()
    emit_sample_run(bus, clock)
    bus.close()
    outputs = {
        "events": events.read_text(),
        "junit": junit.read_text(),
        "html": html.read_text(),
        "plain": plain.getvalue(),
        "live": live_out.getvalue(),
    }
    for name, text in outputs.items():
        assert text, f"{name} is empty"
        assert SECRET_VALUE not in text, f"the secret leaked into {name}"
        assert MASK in text, f"{name} shows no masked value: the secret never reached it, so this proves nothing"
