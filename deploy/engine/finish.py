"""The `finishing` stage on one host: the release it serves marked good, the journal line,
retention — in one round trip when the controller knows what the host holds.

Under the run's lock the controller knows each host's releases (listed when the lock was
taken) and the release.json it wrote with the new release, so it can say what to write and
what retention removes before asking; the host checks that `current` is still the release
this run left it on and does all of it in one command (HostOps.finish). When it is not (a
hook switched it, the host was reverted), or the record is not one this run wrote (a
rollback's target), the host is read again and each verb runs on its own, as before.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Callable

from deploy.engine.journal import journal, journal_entry
from deploy.engine.stages import step
from deploy.errors import ShipyardError
from deploy.release.hostops import GOOD, ROLLED_BACK, Finished, ReleaseInfo
from deploy.release.retention import releases_to_prune

if TYPE_CHECKING:  # pragma: no cover
    from deploy.engine.context import RunContext, Target


def finishing(ctx: "RunContext", t: "Target", action: str, release_for: Callable[["Target"], str | None]) -> None:
    """Mark the served release good; a rollback marks the release it left `rolled_back` only when it
    went back in time (rolling forward leaves it good), and never prunes it."""
    rid = release_for(t) if t.switched else t.previous  # what this run left the host on
    if action == "deploy" and rid is not None and rid in t.written:
        with step(ctx, t, "finishing", "mark"):
            done = t.ops.finish(rid, {rid: {**t.written[rid], "status": GOOD}},
                                journal_entry(ctx, t, action, "ok", rid), predicted_prune(ctx, t, rid))
        if done is not None:
            report(ctx, t, done)
            return
    finishing_in_steps(ctx, t, action)


def predicted_prune(ctx: "RunContext", t: "Target", rid: str) -> list[str]:
    """What retention removes once `rid` is current and good: the listing taken under the lock,
    with this run's release in it."""
    after = [replace(r, current=False) for r in t.releases if r.id != rid]
    after.append(ReleaseInfo.from_json({**t.written[rid], "status": GOOD}, current=True))
    return releases_to_prune(after, ctx.env.keep_releases)


def report(ctx: "RunContext", t: "Target", done: Finished) -> None:
    if done.journal_error:
        ctx.bus.emit("step", host=t.name, stage="finishing", step="journal", result="skipped", duration=0,
                     output=done.journal_error)
    if done.prune_error:
        ctx.bus.emit("step", host=t.name, stage="finishing", step="prune", result="skipped", duration=0,
                     output=done.prune_error)
        return
    ctx.bus.emit("step", host=t.name, stage="finishing", step="prune", result="ok", duration=0,
                 output=f"removed {', '.join(done.removed) or 'nothing'}"
                 + (f"; could not remove {', '.join(done.kept)}" if done.kept else ""))


def finishing_in_steps(ctx: "RunContext", t: "Target", action: str) -> None:
    """Each verb on its own, reading the host first: what it serves, then its releases."""
    rid = t.ops.current()
    left = t.previous if action == "rollback" and t.previous and t.previous != rid else None
    with step(ctx, t, "finishing", "mark"):
        t.ops.set_status(rid, GOOD)
        if left and rid and left > rid:
            t.ops.set_status(left, ROLLED_BACK)
    journal(ctx, t, action, "ok", rid)
    prune(ctx, t, protect={left} if left else set())


def prune(ctx: "RunContext", t: "Target", protect: set[str]) -> None:
    """Retention never fails a deploy: problems are reported, not raised."""
    try:
        doomed = releases_to_prune(t.ops.releases(), ctx.env.keep_releases, protect)
        left = t.ops.remove_releases(doomed)
        removed = [r for r in doomed if r not in left] + t.ops.prune_unused()
    except ShipyardError as e:
        report(ctx, t, Finished(prune_error=str(e)))
        return
    report(ctx, t, Finished(removed=removed, kept=left))
