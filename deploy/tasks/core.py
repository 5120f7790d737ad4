"""deploy, rollback, releases, status, stop: the release manager's verbs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deploy.tasks._task import shipyard_task

if TYPE_CHECKING:  # pragma: no cover
    from deploy.engine.context import RunContext

CONFIG_HELP = "path to shipyard.toml (default: found from the current directory up)"
ENV_HELP = "environment name from shipyard.toml (default: local)"


REPORT_HELP = {
    "events": "write JSON events (one per line) to this file (or set SHIPYARD_EVENTS)",
    "junit": "write JUnit XML (one test case per host and stage) to this file",
    "html": "write the HTML deploy timeline to this file",
}


def _context(command: str, env: str, config: str | None, events=None, junit=None, html=None,
             lock_wait: float = 0.0) -> "RunContext":
    from deploy.config import load
    from deploy.engine.context import RunContext, new_owner, open_targets
    from deploy.report.events import EventBus
    from deploy.report.outputs import make_bus

    loaded = load(config)
    envcfg = loaded.environment(env)
    secrets = envcfg.load_secrets()
    if command in ("deploy", "rollback"):
        bus = make_bus(events, junit, html, notify=envcfg.notify, secrets=secrets)
    else:
        bus = EventBus()
    return RunContext(loaded, env, envcfg, bus, open_targets(envcfg), secrets, command, owner=new_owner(command),
                      lock_wait=float(lock_wait))


def _summary(ctx: "RunContext") -> None:
    for t in ctx.targets:
        try:
            print(f"{t.name}: current release {t.ops.current() or '(none)'}")
        except Exception as e:  # a summary must never hide the real outcome
            print(f"{t.name}: release unknown ({e})")


def _run(ctx: "RunContext", action) -> None:
    """Run a deploy or rollback; always end the event stream with run.end and a summary."""
    import time

    from deploy.engine.context import close_targets
    from deploy.errors import ShipyardError

    started, result, code, error = time.monotonic(), "ok", 0, None
    try:
        action()
    except ShipyardError as e:
        result = "rolled_back" if any(t.reverted for t in ctx.targets) else "failed"
        code, error = e.exit_code, str(e)
        raise
    except KeyboardInterrupt:
        result, code, error = "failed", 130, "interrupted"
        raise
    finally:
        _summary(ctx)
        end = {"result": result, "exit_code": code, "duration": round(time.monotonic() - started, 3)}
        ctx.bus.emit("run.end", **end, **({"error": error} if error else {}))
        close_targets(ctx.targets)
        ctx.bus.close()


LOCK_WAIT_HELP = "seconds to wait for another deploy's lock before failing (default: fail at once)"


@shipyard_task(help={"env": ENV_HELP, "artifact": "artifact to deploy (default: newest in dist/)", "config": CONFIG_HELP,
                     "lock_wait": LOCK_WAIT_HELP,
                     "resume": "finish an interrupted deploy (same artifact and release) on the hosts not yet done",
                     **REPORT_HELP})
def deploy(c, env="local", artifact=None, config=None, events=None, junit=None, html=None, lock_wait=0.0,
           resume=False):
    """Deploy an artifact: upload, unpack, switch, restart, health-check (rolls back on failure)."""
    from pathlib import Path

    from deploy.engine import flow, run_record
    from deploy.artifact.verify import latest_artifact
    from deploy.errors import UsageError

    ctx = _context("deploy", env, config, events, junit, html, lock_wait)
    record = run_record.read(ctx) if resume else None
    if resume and record is None:
        raise UsageError(f"deploy --resume: no interrupted deploy recorded for env {env} ({run_record.record_path(ctx)})")
    if record:
        path = Path(record["artifact"])
    else:
        path = Path(artifact) if artifact else latest_artifact(ctx.loaded.resolve(ctx.loaded.build.dist_dir))
    _run(ctx, lambda: flow.deploy(ctx, path, record))
    print(f"deployed {ctx.release_id} to {env}")


@shipyard_task(help={"env": ENV_HELP, "to": "release id to go back to (default: the previous good one)",
                     "force": "roll back even across a database contract change (drops, renames)",
                     "config": CONFIG_HELP, "lock_wait": LOCK_WAIT_HELP, **REPORT_HELP})
def rollback(c, env="local", to=None, force=False, config=None, events=None, junit=None, html=None, lock_wait=0.0):
    """Switch back to the previous good release (or --to RELEASE), restart and health-check."""
    from deploy.engine import flow

    ctx = _context("rollback", env, config, events, junit, html, lock_wait)
    _run(ctx, lambda: flow.rollback(ctx, to, force))
    print(f"rolled back {env} to {ctx.release_id}")


@shipyard_task(help={"env": ENV_HELP, "config": CONFIG_HELP})
def releases(c, env="local", config=None):
    """List each host's releases: current marked *, revision, date, outcome."""
    ctx = _context("releases", env, config)

    def show() -> None:
        for t in ctx.targets:
            print(f"{t.name}:")
            for r in t.ops.releases():
                mark = "*" if r.current else " "
                print(f"  {mark} {r.id:<32} {r.revision[:12]:<12} {r.deployed_at:<25} {r.status}")

    _run_quiet(ctx, show)


@shipyard_task(help={"env": ENV_HELP, "config": CONFIG_HELP})
def status(c, env="local", config=None):
    """Each host's current release, health and lock holder."""
    from deploy.errors import ShipyardError
    from deploy.engine.health import check_host

    ctx = _context("status", env, config)
    problems: list[str] = []

    def show() -> None:
        for t in ctx.targets:
            current = t.ops.current()
            lock = t.ops.read_lock()
            try:
                check_host(ctx.env.model_copy(update={"health": ctx.env.health.model_copy(update={"timeout": 2.0})}),
                           t.host, t.transport, current if ctx.env.health.expect_release else None)
                health = "healthy"
            except ShipyardError as e:
                health, _ = f"unhealthy ({e})", problems.append(t.name)
            holder = f"locked by {lock.get('user')} since {lock.get('since')}" if lock else "unlocked"
            print(f"{t.name}: release {current or '(none)'}, {health}, {holder}")

    _run_quiet(ctx, show)
    if problems:
        from invoke import Exit

        raise Exit(code=1)


@shipyard_task(help={"env": ENV_HELP, "config": CONFIG_HELP})
def stop(c, env="local", config=None):
    """Stop the supervisord Shipyard manages for an environment (the local env's web server)."""
    from deploy.services.managed_supervisor import ManagedSupervisor

    ctx = _context("stop", env, config)

    def halt() -> None:
        for t in ctx.targets:
            if ctx.env.supervisor and ctx.env.supervisor.managed:
                ManagedSupervisor(t.ops, ctx.env, t.host, ctx.python(t.host)).shutdown()
                print(f"{t.name}: stopped")

    _run_quiet(ctx, halt)


def _run_quiet(ctx: "RunContext", action) -> None:
    from deploy.engine.context import close_targets

    try:
        action()
    finally:
        close_targets(ctx.targets)
