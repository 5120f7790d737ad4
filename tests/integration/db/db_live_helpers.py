"""Apply a model for real, then compare what the server says with what was asked.
PostgreSQL's desired side is loaded into a shadow database on the same server and read
with the catalog introspector; SQLite's is read from the text."""

from __future__ import annotations

from typing import Any

from deploy.db.compare import plan
from deploy.db.connect import DbUrl, connect
from deploy.db.desired import from_text
from deploy.db.execute import run_script
from deploy.db.introspect import introspect
from deploy.db.render import render


def want(url: DbUrl, text: str) -> Any:
    """The desired schema written as `text`, as the engine of `url` sees it."""
    if url.dialect == "postgres":
        from deploy.db.postgres.shadow import ShadowSource, desired_catalog

        return desired_catalog([("<test>", text)], ShadowSource(url.with_database("postgres")))
    return from_text(text, url.dialect)


def sync(url: DbUrl, desired: Any) -> Any:
    """Diff live -> desired, render, apply; returns the plan that ran."""
    conn = connect(url)
    try:
        result = plan(introspect(conn, url.dialect), desired)
        run_script(conn, render(result))
        return result
    finally:
        conn.close()


def live(url: DbUrl) -> Any:
    conn = connect(url)
    try:
        return introspect(conn, url.dialect)
    finally:
        conn.close()


def remaining(url: DbUrl, desired: Any) -> list[str]:
    return [c.describe() for c in plan(live(url), desired).changes]
