"""A whole deploy and a whole rollback, top-down, as Capistrano's framework reads."""

from __future__ import annotations

from pathlib import Path

from deploy.artifact.metadata import checked_manifest, manifest_hooks
from deploy.artifact.verify import Limits, read_sidecar, verify_artifact
from deploy.engine import db_stage, dependencies, run_record
from deploy.engine.context import RunContext, Target
from deploy.engine.finish import finishing
from deploy.engine.journal import now
from deploy.engine.outcome import guarded_run
from deploy.engine.rollout import publish
from deploy.engine.space import check_space
from deploy.engine.stages import stage, step
from deploy.errors import LockHeld, ShipyardError, UsageError
from deploy.release.hostops import ReleaseInfo, pending_record
from deploy.release.layout import new_release_id
from deploy.release.retention import next_rollback_target
from deploy.release.site_files import files_per_host, host_dirs
from deploy.transport.insecure import emit_events


def deploy(ctx: RunContext, artifact: Path, resume: dict | None = None) -> None:
    """`resume` is the run record of an interrupted deploy: same artifact and release id,
    the dead run's lease taken over, hosts already on the release restarted and checked again."""
    extra_files, schema = check_before_changing_hosts(ctx, artifact, (resume or {}).get("release_id"))
    ctx.owner.update(revision=ctx.manifest["revision"])
    new = lambda t: ctx.release_id  # noqa: E731
    before_unpack = lambda t: None  # noqa: E731
    ctx.bus.emit("run.start", command="deploy", env=ctx.env_name, revision=ctx.manifest["revision"],
                 release=ctx.release_id, user=ctx.owner["user"], hosts=[t.name for t in ctx.targets],
                 batches=ctx.batches)
    emit_events(ctx.env, ctx.bus.emit)
    with guarded_run(ctx):
        check_space(ctx)  # reads only: a host short of disk refuses the deploy before anything is written
        with stage(ctx, "starting", before_unpack):
            ctx.for_each(lambda t: dependencies.probe(ctx, t))  # reads only: a platform mismatch stops here
            dependencies.check_platforms(ctx)
            if resume:
                take_over(ctx, resume)
            lock_env(ctx)  # with what a crashed run left removed, now that the lease is ours
            if not resume:
                refuse_existing_release(ctx)
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
            ctx.for_each(lambda t: finishing(ctx, t, "deploy", new))
            cache_hooks(ctx)
    run_record.clear(ctx)


def check_before_changing_hosts(ctx: RunContext, artifact: Path, release_id: str | None = None) -> tuple[dict, dict]:
    """Everything a deploy verifies before it changes any host: the artifact (sha256 and
    every member), its hooks, the server configs rendered and validated for each host,
    the database steps' checkout. `invoke plan` runs exactly this, so it fails where a
    deploy would. Returns (files per host, the schema the release expects)."""
    ctx.artifact = artifact
    ctx.sha256 = read_sidecar(artifact)["sha256"]
    ctx.manifest = verify_artifact(artifact, ctx.sha256, Limits.of(ctx.env))
    ctx.hooks = manifest_hooks(ctx.manifest)
    ctx.release_id = release_id or new_release_id(ctx.manifest["short"], dirty=bool(ctx.manifest.get("dirty")))
    return files_per_host(ctx, artifact), db_stage.expected_schema(ctx)


def take_over(ctx: RunContext, record: dict) -> None:
    """Release the dead run's lease with its own token (only the owner may), so ours can start —
    refused while that run is provably alive on this machine."""
    from deploy.engine.liveness import alive, stale_reason

    same_machine = record.get("machine") == ctx.owner.get("machine")
    if same_machine and isinstance(record.get("pid"), int) and alive(record["pid"]) and not stale_reason(record):
        raise UsageError(f"deploy --resume: the deploy it would finish is still running (pid {record['pid']} on "
                         f"{record['machine']}): wait for it, or stop it first")
    for t in ctx.targets:
        t.ops.release_lock(record["token"])


def refuse_existing_release(ctx: RunContext) -> None:
    """Release ids have one-second resolution: a deploy of the same revision started in the same
    second as one that ran before it (a double-triggered CI job waiting with --lock-wait) would
    unpack over that release. Read under the lock, so no other run can add it meanwhile."""
    for t in ctx.targets:
        if any(r.id == ctx.release_id for r in t.releases):
            raise ShipyardError(f"{t.name}: release {ctx.release_id} already exists (a deploy of the same revision "
                             f"started in the same second); nothing was changed: deploy again")


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


def lock_env(ctx: RunContext) -> None:
    """The environment's lease (deploy.engine.lock): every host or none. Taking it is each host's
    whole `starting` in one round trip (HostOps.begin: dirs, lock, leftovers, releases listing);
    an inherited lease takes nothing, so those steps run on their own."""
    from deploy.engine.lock import acquire_env_lock

    by_host = {t.ops.host: t for t in ctx.targets}
    ctx.lease = acquire_env_lock([t.ops for t in ctx.targets], ctx.owner, wait=ctx.lock_wait, ttl=ctx.env.lock_ttl,
                                 break_stale=ctx.break_stale, parallel=ctx.env.parallel,
                                 take=lambda ops, record: begin(ctx, by_host[ops.host], record))
    if ctx.lease.inherited:
        ctx.for_each(lambda t: prepare(ctx, t))
        ctx.for_each(lambda t: t.ops.clean_leftovers())
        ctx.for_each(lambda t: setattr(t, "releases", t.ops.releases()))  # every host at once: listings overlap
    for t in ctx.targets:
        t.locked = True
        ctx.bus.emit("lock", host=t.name, action="inherited" if ctx.lease.inherited else "acquired",
                     holder=ctx.owner["user"])
        note_current(t)


def begin(ctx: RunContext, t: Target, record: dict) -> None:
    with step(ctx, t, "starting", "prepare", passthrough=(LockHeld,)):  # a held lock is the lease's to wait for
        t.releases = t.ops.begin(record, ctx.env.linked_dirs, ctx.env.linked_files)


def prepare(ctx: RunContext, t: Target) -> None:
    with step(ctx, t, "starting", "prepare"):
        t.ops.prepare(ctx.env.linked_dirs, ctx.env.linked_files)


def note_current(t: Target) -> None:
    """The host's current release once the lock is held: what a failure goes back to."""
    current = next((r for r in t.releases if r.current), None)
    t.previous = current.id if current else None
    t.previous_artifact = current.artifact_sha256 if current else ""


def updating(ctx: RunContext, t: Target, files: dict[str, str], schema: dict) -> None:
    assert ctx.artifact and ctx.sha256 and ctx.release_id
    info = {"revision": ctx.manifest["revision"], "short": ctx.manifest["short"],
            "artifact": ctx.artifact.name, "artifact_sha256": ctx.sha256, "env": ctx.env_name,
            "deployed_at": now(), "deployed_by": ctx.owner["user"], "previous": t.previous}
    if schema:
        info["schema"] = schema  # what this release's code expects: the rollback guard reads it
    t.written[ctx.release_id] = pending_record(info, ctx.release_id)  # what the host's release.json will say
    if t.host.is_windows:
        update_in_steps(ctx, t, info, files)
        return
    wheelless = not ctx.manifest.get("deps") and not dependencies.has_wheels(ctx.manifest)
    receive(ctx, t, info, wheelless)
    if files or ctx.env.site:
        with step(ctx, t, "updating", "write_config"):
            t.ops.write_files(ctx.release_id, files, host_dirs(ctx, t))
    if not ctx.manifest.get("deps") and not wheelless:
        install(ctx, t)  # an artifact with wheels but no dependency bundle: the host installs its wheelhouse


def receive(ctx: RunContext, t: Target, info: dict, wheelless: bool = False) -> None:
    """A POSIX host's update in one streamed command: delta or whole artifact, verified, linked;
    `wheelless` (nothing to install), its empty dependency env made and linked in the same command."""
    from deploy.release.upload import ReleaseUpload, send_release

    assert ctx.artifact and ctx.sha256 and ctx.release_id
    empty_env = (ctx.manifest.get("env_key", "default"), ctx.manifest.get("requirements", "requirements.txt"))
    upload = ReleaseUpload(ctx.release_id, info, ctx.python(t.host), t.previous, ctx.shipments.full,
                           ctx.env.linked_dirs, ctx.env.linked_files, dependencies.deps_upload(ctx, t),
                           empty_env if wheelless else None)
    with step(ctx, t, "updating", "receive"):
        answer = send_release(t.ops, ctx.shipments, upload, t.previous_artifact)
        t.unpacked = True
    cpu = {"host_cpu": answer["cpu"]} if isinstance(answer.get("cpu"), (int, float)) else {}
    ctx.bus.emit("upload.progress", host=t.name, bytes=answer["sent"], total=answer["sent"], **cpu)


def update_in_steps(ctx: RunContext, t: Target, info: dict, files: dict[str, str]) -> None:
    """Hosts whose transport cannot stream into a command: upload, unpack, link, write, install.
    A Windows host that gets its platform's dependency bundle gets the artifact less its wheelhouse."""
    assert ctx.artifact and ctx.sha256 and ctx.release_id
    bundled = dependencies.windows_bundle(ctx, t)
    shipment = ctx.shipments.whole(bundled is not None)
    with step(ctx, t, "updating", "upload"):
        remote = t.ops.upload(shipment.part.path, shipment.part.sha256)
    with step(ctx, t, "updating", "unpack"):
        t.ops.unpack(remote, ctx.release_id, info, omit=tuple(o.rstrip("/") for o in shipment.omit),
                     manifest_sha256=ctx.shipments.manifest_sha256)
        t.unpacked = True
    with step(ctx, t, "updating", "link_shared"):
        t.ops.link_shared(ctx.release_id, ctx.env.linked_dirs, ctx.env.linked_files)
    if files or ctx.env.site:
        with step(ctx, t, "updating", "write_config"):
            t.ops.write_files(ctx.release_id, files, host_dirs(ctx, t))
    install(ctx, t, bundled)


def install(ctx: RunContext, t: Target, bundled: tuple | None = None) -> None:
    """The wheelhouse installed on the host, or (`bundled`) the controller's bundle for its platform."""
    assert ctx.release_id
    with step(ctx, t, "updating", "install"):
        if bundled is not None:
            t.ops.install_bundle(ctx.release_id, ctx.python(t.host), *bundled)
        else:
            t.ops.install(ctx.release_id, ctx.python(t.host), ctx.manifest.get("env_key", "default"),
                          ctx.manifest.get("requirements", "requirements.txt"))
    if t.host.is_windows and ctx.env.site is not None and "iis" in ctx.env.site.servers:
        with step(ctx, t, "updating", "iis"):  # FastCGI application + handler for the env just installed
            t.ops.configure_iis(ctx.env, ctx.loaded.project.name, ctx.release_id)


def cache_hooks(ctx: RunContext) -> None:
    """Varnish bans / memcached flushes once the whole farm serves the new release."""
    if ctx.env.site is None or not (ctx.env.site.cache.varnish or ctx.env.site.cache.memcached):
        return
    from deploy.siteconfig import run_cache_hooks

    for line in run_cache_hooks(ctx.env):
        ctx.bus.emit("step", host="-", stage="finishing", step="cache", result="ok", duration=0, output=line)


def rollback_target(t: Target, releases: list[ReleaseInfo], to: str | None) -> str:
    if to:
        if not any(r.id == to for r in releases):
            raise UsageError(f"{t.name}: no release {to} (have: {', '.join(r.id for r in releases)})")
        return to
    target = next_rollback_target(releases)
    if target is None:
        raise UsageError(f"{t.name}: no earlier good release to roll back to")
    return target


def planned_target(ctx: RunContext) -> str | None:
    """The release a rollback without --to will most likely go to, read before the lock so the
    run's header can name it; the lock-protected choice in `starting` is the one that counts."""
    found = set()
    for t in ctx.targets:
        try:
            found.add(rollback_target(t, t.ops.releases(), None))
        except ShipyardError:
            return None
    return found.pop() if len(found) == 1 else None


def rollback(ctx: RunContext, to: str | None, force: bool = False) -> None:
    targets_release: dict[str, str] = {}
    ctx.bus.emit("run.start", command="rollback", env=ctx.env_name, revision=None, release=to or planned_target(ctx),
                 user=ctx.owner["user"], hosts=[t.name for t in ctx.targets], batches=ctx.batches)
    emit_events(ctx.env, ctx.bus.emit)
    dest = lambda t: targets_release[t.name]  # noqa: E731
    with guarded_run(ctx):
        with stage(ctx, "starting", lambda t: None):
            lock_env(ctx)
            for t in ctx.targets:
                targets_release[t.name] = rollback_target(t, t.releases, to)
                db_stage.rollback_guard(ctx, t, targets_release[t.name], force)
            first = ctx.targets[0]
            ctx.release_id = targets_release[first.name]
            ctx.manifest = checked_manifest(first.ops.read_manifest(ctx.release_id),
                                            f"{first.name}: releases/{ctx.release_id}/manifest.json")
            ctx.hooks = manifest_hooks(ctx.manifest)
        with stage(ctx, "publishing", dest):
            publish(ctx, dest)
        with stage(ctx, "finishing", dest):
            ctx.for_each(lambda t: finishing(ctx, t, "rollback", dest))
