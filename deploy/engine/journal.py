"""One journal line per host per run: who, when, what, and how it ended."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from deploy.errors import ShipyardError

if TYPE_CHECKING:  # pragma: no cover
    from deploy.engine.context import RunContext, Target


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def journal_entry(ctx: "RunContext", t: "Target", action: str, outcome: str, release: str | None,
                  error: str = "") -> dict:
    entry = {"ts": now(), "action": action, "outcome": outcome, "env": ctx.env_name, "host": t.name,
             "release": release, "previous": t.previous, "revision": ctx.manifest.get("revision", ""),
             "artifact_sha256": ctx.sha256 or "", "user": ctx.owner.get("user"),
             "machine": ctx.owner.get("machine"), "run": ctx.bus.run_id}
    if error:
        entry["error"] = error
    return entry


def journal(ctx: "RunContext", t: "Target", action: str, outcome: str, release: str | None, error: str = "") -> None:
    """Append to the host's journal; a host that cannot take it is reported, never fatal."""
    entry = journal_entry(ctx, t, action, outcome, release, error)
    try:
        t.ops.append_journal(entry)
    except ShipyardError as e:
        ctx.bus.emit("step", host=t.name, stage="finishing", step="journal", result="skipped", duration=0, output=str(e))
