"""Publish a release across the hosts a batch at a time.

Per batch (announced with a `batch` event as it starts and ends): drain from the
load balancer → switch → restart → health → ready.
A batch that fails beyond `max_fail` stops the rollout and every host switched
so far — in earlier batches too — goes back to the release it had, is
restarted, health-checked and readied. Each host ends on exactly its old or
its new release.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from deploy.engine.batches import make_batches, tolerated_failures
from deploy.errors import ShipyardError, StepFailed
from deploy.engine.health import check_host, health_url
from deploy.engine.stages import step

if TYPE_CHECKING:  # pragma: no cover
    from deploy.engine.context import RunContext, Target

PUBLISHING = "publishing"


def _balancer(ctx: "RunContext"):
    if ctx.env.rollout.drain == "none":
        return None
    from deploy.loadbalancer import for_env

    return for_env(ctx.env)


def restart(ctx: "RunContext", target: "Target", release_id: str | None) -> None:
    """Restart what serves `current` (stop it when there is no release left)."""
    if ctx.env.supervisor and ctx.env.supervisor.managed and not target.host.is_windows:
        from deploy.services.managed_supervisor import ManagedSupervisor

        sup = ManagedSupervisor(target.ops, ctx.env, target.host, ctx.python(target.host))
        if release_id is None:
            sup.stop_program()
        else:
            checked = bool(ctx.env.health.url or ctx.env.health.command)  # the health step is the real gate
            ctx.bus.emit("step", host=target.name, stage=PUBLISHING, step="serve", result="ok", duration=0,
                         output=sup.serve(ctx.secrets, ready="listening" if checked else "running"))
    if ctx.env.site is not None and release_id is not None:
        from deploy.siteconfig import reload_commands

        for command in reload_commands(ctx.env, target.host, ctx.loaded.project.name):
            target.transport.run(command, timeout=ctx.env.command_timeout)
    if ctx.env.services and release_id is not None:
        restart_services(ctx, target)


def restart_services(ctx: "RunContext", target: "Target") -> None:
    """Windows hosts restart through their scripts (services, IIS app pools); POSIX hosts
    through deploy.services (supervisor, systemd, celery)."""
    if target.host.is_windows:
        for service in ctx.env.services:
            target.ops.restart(service)
        return
    from deploy.services import restart_service

    for service in ctx.env.services:
        restart_service(target.transport, service, ctx.env, target.host)


def health(ctx: "RunContext", target: "Target", release_id: str) -> None:
    if target.host.is_windows:  # checked from the host itself, as IIS/the service sees it
        url = health_url(ctx.env.health, ctx.env, target.host, address="localhost")
        if url:
            target.ops.check_health(url, ctx.env.health.timeout,
                                    release_id if ctx.env.health.expect_release else "", ctx.env.health.cert_validation)
            ctx.bus.emit("health", host=target.name, check=url, result="ok", attempts=1, detail="checked on the host")
        return
    for result in check_host(ctx.env, target.host, target.transport, release_id):
        ctx.bus.emit("health", host=target.name, check=result.check, result="ok",
                     attempts=result.attempts, detail=result.detail)


def activate(ctx: "RunContext", target: "Target", release_id: str | None, lb) -> None:
    """drain → switch → restart → health → ready, always readying the host on the way out."""
    if lb is not None:
        with step(ctx, target, PUBLISHING, "drain"):
            lb.drain(target.host, timeout=ctx.env.health.timeout)
        ctx.bus.emit("lb.drain", host=target.name, **lb.where(target.host))
    healthy = False
    try:
        with step(ctx, target, PUBLISHING, "switch"):
            if release_id != target.previous:  # from the moment it is asked: an interrupt or a dropped
                target.switched = True  # link can land after the host switched, and revert is idempotent
            target.ops.switch(release_id)
            target.switched = release_id != target.previous
        with step(ctx, target, PUBLISHING, "restart"):
            restart(ctx, target, release_id)
        if release_id is not None:
            with step(ctx, target, PUBLISHING, "health"):
                health(ctx, target, release_id)
        healthy = True
    finally:
        if lb is not None and release_id is not None:
            # on a failure path: back to `ready` (HAProxy's own checks keep a sick server out),
            # without waiting for UP, so the original error is the one reported
            with step(ctx, target, PUBLISHING, "ready"):
                lb.ready(target.host, wait=healthy)
            ctx.bus.emit("lb.ready", host=target.name, **lb.where(target.host))


def release_of_switched(target: "Target") -> str | None:
    try:
        return target.ops.current()
    except ShipyardError:
        return None


def revert(ctx: "RunContext", targets: list["Target"], reason: str) -> list[str]:
    """Put switched hosts back on their previous release; return hosts that could not be."""
    lb, stuck = _balancer(ctx), []
    for target in [t for t in targets if t.switched]:
        ctx.bus.emit("rollback", host=target.name, to=target.previous, reason=reason,
                     **{"from": release_of_switched(target)})
        try:
            activate(ctx, target, target.previous, lb)
            target.switched, target.reverted = False, True
        except Exception as e:  # noqa: BLE001 - one host that cannot go back must not keep the others
            stuck.append(f"{target.name}: {e}")
    return stuck


def publish(ctx: "RunContext", release_for: Callable[["Target"], str | None]) -> None:
    """Roll `release_for(target)` out batch by batch; revert everything on a failed batch."""
    lb = _balancer(ctx)
    batches = make_batches(ctx.targets, ctx.env.rollout.batch)
    allowed = tolerated_failures(ctx.env.rollout.max_fail, len(ctx.targets))
    failures: list[StepFailed] = []
    for number, batch in enumerate(batches, start=1):
        names, started = [t.name for t in batch], time.monotonic()
        ctx.bus.emit("batch", action="start", batch=number, of=len(batches), hosts=names)

        def one(target: "Target") -> StepFailed | None:
            # a host a resumed deploy found on the new release goes through it all again: the dead
            # run may have switched it without restarting or checking it
            try:
                activate(ctx, target, release_for(target), lb)
                return None
            except StepFailed as e:
                revert(ctx, [target], str(e))
                return e

        failed_here = [e for e in ctx.for_each(one, batch) if e is not None]
        failures += failed_here
        ctx.bus.emit("batch", action="end", batch=number, of=len(batches), hosts=names,
                     result="failed" if failed_here else "ok", duration=round(time.monotonic() - started, 3))
        if len(failures) > allowed:
            stuck = revert(ctx, ctx.targets, f"batch {number} failed: {failures[-1]}")
            if stuck:
                raise StepFailed(failures[-1].host, failures[-1].step,
                                 f"{failures[-1].cause}; and could not switch back: {'; '.join(stuck)}")
            raise failures[-1]
