"""The database in a deploy: the schema each release expects (recorded in its
release.json), a drift report, migrations/sync before any host switches, and the
rollback guard across contract changes. Only acts when the environment has a
`database` (and, for the publishing steps, `[env.X.db] deploy_steps`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deploy.errors import ShipyardError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from deploy.engine.context import RunContext, Target


def _checkout_revision(ctx: "RunContext") -> str:
    from deploy.vcs import open_vcs

    vcs = open_vcs(ctx.loaded.resolve(ctx.loaded.project.repo), ctx.loaded.project.vcs)
    return vcs.resolve(None)


def expected_schema(ctx: "RunContext") -> dict[str, Any]:
    """The schema of this checkout's sql/ — refused when the checkout is not the artifact's
    revision, so an older artifact never runs newer migrations."""
    if not ctx.env.database:
        return {}
    revision = ctx.manifest.get("revision")
    checkout = _checkout_revision(ctx)
    if ctx.env.db and ctx.env.db.deploy_steps and revision and checkout != revision:
        raise UsageError(f"database steps read sql/ from this checkout ({checkout[:12]}), but the artifact "
                         f"is {str(revision)[:12]}: check out the artifact's revision first")
    from deploy.db.deploy_step import snapshot

    return snapshot(ctx.loaded, ctx.env)


def report_drift(ctx: "RunContext", target: "Target") -> None:
    """Live schema against what the host's current release recorded; reported, never fatal."""
    if not ctx.env.database or target.previous is None:
        return
    recorded = next((r.data.get("schema") for r in target.releases if r.id == target.previous), None)
    from deploy.db.deploy_step import check_drift

    try:
        differences = check_drift(ctx.loaded, ctx.env, recorded or {})
    except ShipyardError as e:
        differences = [f"drift check failed: {e}"]
    if differences:
        ctx.bus.emit("step", host=target.name, stage="starting", step="db.drift", result="ok", duration=0,
                     output="live schema differs from what release " + str(target.previous) + " recorded: "
                     + "; ".join(differences))


def before_switch(ctx: "RunContext") -> None:
    if not ctx.env.database or ctx.env.db is None or not ctx.env.db.deploy_steps:
        return
    from deploy.db.deploy_step import before_switch as run

    summary = run(ctx.loaded, ctx.env, ctx.release_id or "", log=lambda line: None)
    if summary.get("script"):
        dialect = (ctx.env.database or "").split(":", 1)[0]
        ctx.bus.emit("db.script", dialect=dialect, script=summary["script"], applied=True)


def rollback_guard(ctx: "RunContext", target: "Target", destination: str, force: bool) -> None:
    """Refuse to roll back across a contract change (drops, renames, narrowing) unless forced."""
    releases = {r.id: r for r in target.ops.releases()}
    current = next((r for r in releases.values() if r.current), None)
    wanted = releases.get(destination)
    if current is None or wanted is None:
        return
    from deploy.db.deploy_step import rollback_blockers

    blockers = rollback_blockers(current.data.get("schema") or {}, wanted.data.get("schema") or {})
    if blockers and not force:
        raise UsageError(f"{target.name}: release {destination} expects a schema the database no longer has "
                         f"({'; '.join(blockers)}); roll back the database first or pass --force")
