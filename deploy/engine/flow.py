"""A whole deploy and a whole rollback, top-down, as Capistrano's framework reads."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from deploy.engine import db_stage, run_record
from deploy.artifact.metadata import checked_manifest, manifest_hooks
from deploy.artifact.verify import Limits, read_sidecar, verify_artifact
from deploy.engine.context import RunContext, Target
from deploy.errors import ShipyardError, UsageError
from deploy.release.hostops import FAILED, GOOD, ROLLED_BACK, ReleaseInfo
from deploy.release.layout import new_release_id
from deploy.release.retention import releases_to_prune
from deploy.release.site_files import files_per_host, host_dirs
from deploy.engine.rollout import publish, revert
from deploy.engine.stages import emit_stage, stage, step


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def deploy(ctx: RunContext, artifact: Path, resume: dict | None = None) -> None:
    """`resume` is the run record of an interrupted deploy: same artifact and release id,
    the dead run's lease taken over, hosts already on the release left alone."""
    ctx.artifact = artifact
    ctx.sha256 = read_sidecar(artifact)["sha256"]
    ctx.manifest = verify_artifact(artifact, ctx.sha256, Limits.of(ctx.env))  # before anything touches a host
    ctx.hooks = manifest_hooks(ctx.manifest)
    ctx.release_id = (resume or {}).get("release_id") or new_release_id(
        ctx.manifest["short"], dirty=bool(ctx.manifest.get("dirty")))
    ctx.owner.update(revision=ctx.manifest["revision"])
    extra_files = files_per_host(ctx, artifact)  # rendered + validated before any host is touched
    schema = db_stage.expected_schema(ctx)
    new = lambda t: ctx.release_id  # noqa: E731
    before_unpack = lambda t: None  # noqa: E731
    ctx.bus.emit("run.start", command="deploy", env=ctx.env_name, revision=ctx.manifest["revision"],
                 release=ctx.release_id, user=ctx.owner["user"], hosts=[t.name for t in ctx.targets],
                 batches=ctx.batches)
    try:
        with stage(ctx, "starting", before_unpack):
            ctx.for_each(lambda t: prepare(ctx, t))
            if resume:
                take_over(ctx, resume)
            lock_env(ctx)
            if resume:
                mark_done(ctx, resume)
            run_record.write(ctx)
            ctx.for_each(lambda t: db_stage.report_drift(ctx, t))
        with stage(ctx, "updating", before_unpack):
            ctx.for_each(lambda t: updating(ctx, t, extra_files[t.name], schema),
                         [t for t in ctx.targets if not t.done])
        with stage(ctx, "publishing", new):
            db_stage.before_switch(ctx)  # a database failure stops the deploy before any host switches
            publish(ctx, new)
        with stage(ctx, "finishing", new):
            ctx.for_each(lambda t: finishing(ctx, t, "deploy"))
            cache_hooks(ctx)
    except Exception as e:
        revert(ctx, ctx.targets, f"deploy failed: {e}")  # hosts still on the new release (a finishing hook failed)
        failed(ctx, e)
        run_record.clear(ctx)
        raise
    except BaseException as e:  # interrupted (SIGINT): put hosts back, keep the record for --resume
        revert(ctx, ctx.targets, f"deploy interrupted: {e!r}")
        failed(ctx, e)
        raise
    finally:
        release_locks(ctx)
    run_record.clear(ctx)


def take_over(ctx: RunContext, record: dict) -> None:
    """Release the dead run's lease with its own token (only the owner may), so ours can start."""
    for t in ctx.targets:
        t.ops.release_lock(record["token"])


def mark_done(ctx: RunContext, record: dict) -> None:
    """Hosts already on the release keep it (they count as switched, so a failure reverts them);
    a release dir left half-done on another host is removed and unpacked again."""
    for t in ctx.targets:
        t.previous = record["previous"].get(t.name, t.previous)
        current = t.ops.current()
        if current == ctx.release_id:
            t.done = t.switched = t.unpacked = True
        elif any(r.id == ctx.release_id for r in t.ops.releases()):
            t.ops.remove_releases([ctx.release_id])


def prepare(ctx: RunContext, t: Target) -> None:
    with step(ctx, t, "starting", "prepare"):
        t.ops.prepare(ctx.env.linked_dirs, ctx.env.linked_files)


def lock_env(ctx: RunContext) -> None:
    """The environment's lease (deploy.engine.lock): every host or none, then each host's current release."""
    from deploy.engine.lock import acquire_env_lock

    ctx.lease = acquire_env_lock([t.ops for t in ctx.targets], ctx.owner, wait=ctx.lock_wait, ttl=ctx.env.lock_ttl)
    for t in ctx.targets:
        t.locked = True
        ctx.bus.emit("lock", host=t.name, action="inherited" if ctx.lease.inherited else "acquired",
                     holder=ctx.owner["user"])
        t.previous = t.ops.current()


def updating(ctx: RunContext, t: Target, files: dict[str, str], schema: dict) -> None:
    assert ctx.artifact and ctx.sha256 and ctx.release_id
    info = {"revision": ctx.manifest["revision"], "short": ctx.manifest["short"],
            "artifact": ctx.artifact.name, "artifact_sha256": ctx.sha256, "env": ctx.env_name,
            "deployed_at": now(), "deployed_by": ctx.owner["user"], "previous": t.previous}
    if schema:
        info["schema"] = schema  # what this release's code expects: the rollback guard reads it
    if t.previous and not t.host.is_windows:
        from deploy.release.delta import delta_unpack

        with step(ctx, t, "updating", "delta_unpack"):  # only the files the host lacks travel
            sent = delta_unpack(t.ops, ctx.artifact, ctx.manifest, t.previous, ctx.release_id, info,
                                ctx.python(t.host))
            t.unpacked = True
        ctx.bus.emit("upload.progress", host=t.name, bytes=sent, total=sent)
    else:
        with step(ctx, t, "updating", "upload"):
            remote = t.ops.upload(ctx.artifact, ctx.sha256)
        with step(ctx, t, "updating", "unpack"):
            t.ops.unpack(remote, ctx.release_id, info)
            t.unpacked = True
    with step(ctx, t, "updating", "link_shared"):
        t.ops.link_shared(ctx.release_id, ctx.env.linked_dirs, ctx.env.linked_files)
    if files or ctx.env.site:
        with step(ctx, t, "updating", "write_config"):
            t.ops.write_files(ctx.release_id, files, host_dirs(ctx, t))
    with step(ctx, t, "updating", "install"):
        t.ops.install(ctx.release_id, ctx.python(t.host), ctx.manifest.get("env_key", "default"),
                      ctx.manifest.get("requirements", "requirements.txt"))


def finishing(ctx: RunContext, t: Target, action: str) -> None:
    rid = t.ops.current()
    with step(ctx, t, "finishing", "mark"):
        t.ops.set_status(rid, GOOD)
        if action == "rollback" and t.previous and t.previous != rid:
            t.ops.set_status(t.previous, ROLLED_BACK)
    journal(ctx, t, action, "ok", rid)
    prune(ctx, t)


def cache_hooks(ctx: RunContext) -> None:
    """Varnish bans / memcached flushes once the whole farm serves the new release."""
    if ctx.env.site is None or not (ctx.env.site.cache.varnish or ctx.env.site.cache.memcached):
        return
    from deploy.siteconfig import run_cache_hooks

    for line in run_cache_hooks(ctx.env):
        ctx.bus.emit("step", host="-", stage="finishing", step="cache", result="ok", duration=0, output=line)


def prune(ctx: RunContext, t: Target) -> None:
    """Retention never fails a deploy: problems are reported, not raised."""
    try:
        doomed = releases_to_prune(t.ops.releases(), ctx.env.keep_releases)
        left = t.ops.remove_releases(doomed)
        removed = [r for r in doomed if r not in left]
        ctx.bus.emit("step", host=t.name, stage="finishing", step="prune", result="ok", duration=0,
                     output=f"removed {', '.join(removed) or 'nothing'}" + (f"; could not remove {', '.join(left)}" if left else ""))
    except ShipyardError as e:
        ctx.bus.emit("step", host=t.name, stage="finishing", step="prune", result="skipped", duration=0, output=str(e))


def journal(ctx: RunContext, t: Target, action: str, outcome: str, release: str | None, error: str = "") -> None:
    entry = {"ts": now(), "action": action, "outcome": outcome, "env": ctx.env_name, "host": t.name,
             "release": release, "previous": t.previous, "revision": ctx.manifest.get("revision", ""),
             "artifact_sha256": ctx.sha256 or "", "user": ctx.owner.get("user"),
             "machine": ctx.owner.get("machine")}
    if error:
        entry["error"] = error
    try:
        t.ops.append_journal(entry)
    except ShipyardError as e:
        ctx.bus.emit("step", host=t.name, stage="finishing", step="journal", result="skipped", duration=0, output=str(e))


def failed(ctx: RunContext, error: BaseException) -> None:
    """Mark the new release failed where it was unpacked and journal what happened.
    Switched hosts were already put back by the rollout."""
    emit_stage(ctx, "stage.start", "failed")
    for t in ctx.targets:
        if not t.locked:
            continue
        outcome = "rolled_back" if t.reverted else "failed"
        if t.unpacked and ctx.release_id and ctx.release_id != t.previous:
            try:
                t.ops.set_status(ctx.release_id, FAILED, {"error": str(error)[:2000]})
            except ShipyardError:
                pass
        journal(ctx, t, ctx.command, outcome, t.ops.current() if t.unpacked else t.previous, str(error)[:2000])
    for command in ctx.hooks.commands("on", "failed"):
        for t in ctx.targets:
            try:
                t.ops.run_hook(None, command, {"SHIPYARD_ERROR": str(error)[:500]}, ctx.secrets)
            except ShipyardError:
                pass
    emit_stage(ctx, "stage.end", "failed", result="ok")


def release_locks(ctx: RunContext) -> None:
    """Only the owner releases (an inherited lease is left to the run that took it)."""
    if ctx.lease is None:
        return
    stuck = ctx.lease.release()
    if not ctx.lease.inherited:
        for t in ctx.targets:
            action = "kept (host unreachable: expires with its TTL, or lock.break)" if t.name in stuck else "released"
            ctx.bus.emit("lock", host=t.name, action=action, holder=ctx.owner["user"])


def rollback_target(t: Target, releases: list[ReleaseInfo], to: str | None) -> str:
    current = next((r.id for r in releases if r.current), None)
    if to:
        if not any(r.id == to for r in releases):
            raise UsageError(f"{t.name}: no release {to} (have: {', '.join(r.id for r in releases)})")
        return to
    older_good = [r.id for r in releases if r.status == GOOD and (current is None or r.id < current)]
    if not older_good:
        raise UsageError(f"{t.name}: no earlier good release to roll back to")
    return older_good[-1]


def rollback(ctx: RunContext, to: str | None, force: bool = False) -> None:
    targets_release: dict[str, str] = {}
    ctx.bus.emit("run.start", command="rollback", env=ctx.env_name, revision=None, release=to,
                 user=ctx.owner["user"], hosts=[t.name for t in ctx.targets], batches=ctx.batches)
    dest = lambda t: targets_release[t.name]  # noqa: E731
    try:
        with stage(ctx, "starting", lambda t: None):
            ctx.for_each(lambda t: prepare(ctx, t))
            lock_env(ctx)
            for t in ctx.targets:
                targets_release[t.name] = rollback_target(t, t.ops.releases(), to)
                db_stage.rollback_guard(ctx, t, targets_release[t.name], force)
            first = ctx.targets[0]
            ctx.release_id = targets_release[first.name]
            ctx.manifest = checked_manifest(first.ops.read_manifest(ctx.release_id),
                                            f"{first.name}: releases/{ctx.release_id}/manifest.json")
            ctx.hooks = manifest_hooks(ctx.manifest)
        with stage(ctx, "publishing", dest):
            publish(ctx, dest)
        with stage(ctx, "finishing", dest):
            ctx.for_each(lambda t: finishing(ctx, t, "rollback"))
    except BaseException as e:
        ctx.release_id = None  # nothing new was unpacked; nothing to mark failed
        failed(ctx, e)
        raise
    finally:
        release_locks(ctx)

