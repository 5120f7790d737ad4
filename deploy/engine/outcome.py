"""The one way a deploy or a rollback ends badly, whatever went wrong.

Any exception — a step that failed, a KeyError in a hook, Ctrl-C, SIGTERM, a disk
that filled up — goes through `on_failure`: switched hosts back on their previous
release, leftovers of the run removed, the new release marked `failed` wherever
it was unpacked, one journal line per host, the `failed` hooks, and the run
record cleared (kept when interrupted, for `--resume`). Each of these is attempted
on its own: bookkeeping that fails is reported and the rest still happens. The
lease is released either way (`guarded_run`).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from deploy.engine import run_record
from deploy.engine.journal import journal
from deploy.engine.rollout import revert
from deploy.engine.stages import emit_stage
from deploy.errors import one_line
from deploy.release.hostops import FAILED
from deploy.secrets import redact

if TYPE_CHECKING:  # pragma: no cover
    from deploy.engine.context import RunContext, Target


@contextmanager
def guarded_run(ctx: "RunContext") -> Iterator[None]:
    try:
        yield
    except BaseException as e:
        on_failure(ctx, e)
        raise
    finally:
        release_locks(ctx)


def attempt(ctx: "RunContext", host: str, what: str, action: Callable[[], object]) -> None:
    """Run one piece of bookkeeping; a failure is an event, never a reason to skip the rest."""
    try:
        action()
    except Exception as e:  # noqa: BLE001 - the failure path must finish whatever breaks inside it
        ctx.bus.emit("step", host=host, stage="failed", step=what, result="failed", duration=0,
                     output=f"{type(e).__name__}: {e}"[:2000])


def on_failure(ctx: "RunContext", error: BaseException) -> None:
    interrupted = not isinstance(error, Exception)
    verb = "interrupted" if interrupted else "failed"
    reason = redact(f"{ctx.command} {verb}: {one_line(error)}")  # it also reaches `failed` hooks' environment
    emit_stage(ctx, "stage.start", "failed")
    attempt(ctx, "-", "revert", lambda: report_stuck(ctx, revert(ctx, ctx.targets, reason)))
    locked = [t for t in ctx.targets if t.locked]
    culprits = [t.name for t in ctx.targets if t.error]
    for t in locked:
        attempt(ctx, t.name, "cleanup", t.ops.clean_leftovers)
        attempt(ctx, t.name, "mark", lambda t=t: mark_failed(ctx, t, reason))
        attempt(ctx, t.name, "journal", lambda t=t: journal_failure(ctx, t, reason, culprits))
    for command in ctx.hooks.commands("on", "failed"):
        for t in locked:
            attempt(ctx, t.name, "hook", lambda t=t: t.ops.run_hook(None, command, {"SHIPYARD_ERROR": reason[:500]},
                                                                      ctx.secrets))
    if not interrupted:
        attempt(ctx, "-", "run_record", lambda: run_record.clear(ctx))
    emit_stage(ctx, "stage.end", "failed", result="ok")


def report_stuck(ctx: "RunContext", stuck: list[str]) -> None:
    for problem in stuck:
        ctx.bus.emit("step", host=problem.split(":", 1)[0], stage="failed", step="revert", result="failed",
                     duration=0, output=f"could not switch back: {problem}")


def mark_failed(ctx: "RunContext", t: "Target", reason: str) -> None:
    """Wherever the host has the new release (whatever the run's flags say), it is `failed`, never
    `pending` — but a release the host already had when the lock was taken is not this run's to mark."""
    rid = ctx.release_id
    if ctx.command != "deploy" or not rid or rid == t.previous:
        return
    if not t.unpacked and any(r.id == rid for r in t.releases):
        return
    if any(r.id == rid for r in t.ops.releases()):
        t.ops.set_status(rid, FAILED, {"error": reason[:2000]})


def journal_failure(ctx: "RunContext", t: "Target", reason: str, culprits: list[str]) -> None:
    outcome, why = host_outcome(t, culprits, reason)
    journal(ctx, t, ctx.command, outcome, t.ops.current() if t.unpacked else t.previous, redact(why)[:2000])


def host_outcome(t: "Target", culprits: list[str], error: BaseException | str) -> tuple[str, str]:
    """What this host's journal says: its own failure, a rollback, or — never switched while
    another host failed — that it was left alone, not that it failed with that host's error."""
    if t.reverted:
        return "rolled_back", t.error or str(error)
    if t.error or not culprits or t.switched:
        return "failed", t.error or str(error)
    return "not_switched", f"left on {t.previous or 'no release'}: the run stopped when {', '.join(culprits)} failed"


def release_locks(ctx: "RunContext") -> None:
    """Only the owner releases (an inherited lease is left to the run that took it)."""
    if ctx.lease is None:
        return
    stuck = ctx.lease.release()
    if not ctx.lease.inherited:
        for t in ctx.targets:
            action = "kept (host unreachable: expires with its TTL, or lock.break)" if t.name in stuck else "released"
            ctx.bus.emit("lock", host=t.name, action=action, holder=ctx.owner["user"])
