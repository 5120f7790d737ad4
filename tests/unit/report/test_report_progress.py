"""Plain CI lines and the live table say the same things about the same events."""

from __future__ import annotations

import io
import re

from report_sample import sample_events

from deploy.report.progress import LiveState, PlainProgress, RichProgress, human_bytes


def test_plain_lines_are_timestamped_and_uploads_thinned():
    out = io.StringIO()
    progress = PlainProgress(out)
    for event in sample_events():
        progress(event)
    lines = out.getvalue().splitlines()
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ +\S", line) for line in lines)
    web1_uploads = [line for line in lines if " web1 " in line and "upload " in line and "/" in line and "MiB" in line]
    assert len(web1_uploads) == 4  # 0%, 25%+, 50%+, 100% of four progress events
    assert web1_uploads[-1].endswith("upload 12.0 MiB / 12.0 MiB 5.0 MiB/s")  # 12 MiB in 2.4 s
    assert any("win1" in line and "ROLLBACK 20261125-021500-ab12cd3 -> 20261120-101010-9f9f9f9" in line for line in lines)
    assert lines[-1].endswith("rolled_back (exit 1) after 27.4s: win1: step 'health' failed (DEPLOY_TOKEN=********)")


def test_plain_upload_thinning_skips_repeats_within_a_quarter():
    out = io.StringIO()
    progress = PlainProgress(out)
    for sent in (0, 10, 20, 30, 60, 99, 100):
        progress({"kind": "upload.progress", "ts": "2026-01-01T00:00:00.000Z", "host": "h", "bytes": sent, "total": 100})
    assert [line.split("upload ")[1].split(" /")[0] for line in out.getvalue().splitlines()] == ["0 B", "30 B", "60 B", "99 B", "100 B"]


def test_live_state_tracks_stage_batch_upload_and_outcome():
    state = LiveState()
    for event in sample_events():
        state.apply(event)
        if event["kind"] == "upload.progress" and event["host"] == "web2" and event["bytes"] == 8_000_000:
            row = state.rows["web2"]
            assert (row.stage, row.batch, row.state) == ("updating", 2, "running")
            assert row.upload_text() == "7.6 MiB/12.0 MiB 4.8 MiB/s"
    rows = state.rows
    assert list(rows) == ["web1", "web2", "win1"]
    assert [rows[h].state for h in rows] == ["ok", "ok", "rolled back"]
    assert rows["win1"].last == "failed ok in 1.2s"
    assert rows["web1"].elapsed(None) == "2.5s"  # finished stages stop the clock


def test_rich_table_shows_every_host():
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, width=160, force_terminal=False, color_system=None)
    progress = RichProgress(console=console)
    for event in sample_events():
        progress(event)
    console.print(progress.table())
    progress.close()
    text = out.getvalue()
    for host in ("web1", "web2", "win1"):
        assert re.search(rf"{host} +│ +\d", text), text
    assert "rolled back" in text and "12.0 MiB/12.0 MiB" in text
    assert text.index("batch 1 of 2 starts: web1") < text.index("batch 2 of 2 starts: web2, win1")  # as each begins


def test_human_bytes():
    assert [human_bytes(n) for n in (512, 2048, 5 * 1024**2, 3 * 1024**3)] == ["512 B", "2.0 KiB", "5.0 MiB", "3.0 GiB"]
