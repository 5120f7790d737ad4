"""The HTML report in a real browser (Debian's headless Chromium): it renders
every host and stage, its script runs without a console message, it fetches
nothing, and the screenshot shows the verdict colour and the failed stage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_sample import HOSTS, sample_events

from deploy.report.html import render_html

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROLLED_BACK_AMBER = (0xD9, 0x77, 0x06)
FAILED_RED = (0xDC, 0x26, 0x26)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(sample_events()), encoding="utf-8")
    return path


def test_dom_after_scripts_has_hosts_stages_and_no_console_messages(chromium, page):
    done = chromium.run(page, "--dump-dom")
    dom = done.stdout
    assert 'data-report-ready="13"' in dom, "the report's script did not run to the end"
    for host in HOSTS:
        assert f'data-host="{host}"' in dom
    stages = set(re.findall(r'class="bar [^"]*" data-stage="(\w+)"', dom))
    assert stages == {"starting", "updating", "publishing", "finishing", "failed"}
    assert 'title="2026-11-25T02:15:00.000Z UTC"' in dom  # local time shown, UTC kept as tooltip
    assert chromium.console_lines(done.stderr) == []


def test_console_check_catches_a_broken_page(chromium, tmp_path):
    """The check above can fail: a script error and a blocked fetch both show up."""
    broken = tmp_path / "broken.html"
    page = render_html(sample_events()).replace("\"use strict\";", "\"use strict\"; undefinedFunction();")
    page = page.replace("</main>", '<img src="http://127.0.0.1:9/x.png"></main>')
    broken.write_text(page)
    lines = chromium.console_lines(chromium.run(broken, "--dump-dom").stderr)
    assert any("Uncaught ReferenceError: undefinedFunction" in line for line in lines), lines
    assert any("Content Security Policy" in line for line in lines), lines


def colour_share(rows: list[bytes], bpp: int, rgb: tuple[int, int, int], tolerance: int = 12) -> float:
    hits = total = 0
    for row in rows[::2]:
        for x in range(0, len(row), bpp * 2):
            total += 1
            hits += all(abs(row[x + i] - rgb[i]) <= tolerance for i in range(3))
    return hits / total


def test_screenshot_shows_the_verdict_and_the_failed_stage(chromium, page, tmp_path):
    shot = tmp_path / "report.png"
    done = chromium.run(page, "--window-size=1280,640", f"--screenshot={shot}")
    assert chromium.console_lines(done.stderr) == []
    width, height, rows, bpp = chromium.read_png(shot)
    assert (width, height) == (1280, 640)
    banner = rows[60][200 * bpp:200 * bpp + 3]
    assert all(abs(banner[i] - ROLLED_BACK_AMBER[i]) < 60 for i in range(3)), f"banner colour {tuple(banner)}"
    timeline = rows[330:560]
    assert colour_share(timeline, bpp, FAILED_RED) > 0.005, "no red failed stage bar in the timeline"
