"""Apply a model for real, then compare what the server says with what was asked."""

from __future__ import annotations

from deploy.db.connect import DbUrl, connect
from deploy.db.diff import Plan, diff
from deploy.db.execute import run_script
from deploy.db.introspect import introspect
from deploy.db.model import Schema
from deploy.db.render import render


def sync(url: DbUrl, desired: Schema) -> Plan:
    """Diff live -> desired, render, apply; returns the plan that ran."""
    conn = connect(url)
    try:
        plan = diff(introspect(conn, url.dialect), desired)
        run_script(conn, render(plan))
        return plan
    finally:
        conn.close()


def live(url: DbUrl) -> Schema:
    conn = connect(url)
    try:
        return introspect(conn, url.dialect)
    finally:
        conn.close()


def remaining(url: DbUrl, desired: Schema) -> list[str]:
    return [c.describe() for c in diff(live(url), desired).changes]
