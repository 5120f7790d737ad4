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


NEEDS_SECRETS = ("deploy", "rollback", "plan")


def _context(command: str, env: str, config: str | None, events=None, junit=None, html=None,
             lock_wait: int = 0, break_stale: bool = False) -> "RunContext":
    from deploy.config import load
    from deploy.engine.context import RunContext, new_owner, open_targets
    from deploy.report.events import EventBus
    from deploy.report.outputs import make_bus

    loaded = load(config)
    envcfg = loaded.environment(env)
    # only what changes a host needs the deploy's secrets (plan checks them as deploy would);
    # no child process inherits the variables they came from
    secrets = envcfg.load_secrets(withhold_vars=True) if command in NEEDS_SECRETS else {}
    if command in ("deploy", "rollback"):
        bus = make_bus(events, junit, html, notify=envcfg.notify, secrets=secrets)
    else:
        bus = EventBus()
    return RunContext(loaded, env, envcfg, bus, open_targets(envcfg), secrets, command, owner=new_owner(command),
                      lock_wait=float(lock_wait), break_stale=bool(break_stale))


def _summary(ctx: "RunContext") -> None:
    """What each host serves, as the host says (every host at once: one round trip for the fleet)."""
    from deploy.secrets import redact

    def line(t) -> str:
        try:
            return f"{t.name}: current release {t.ops.current() or '(none)'}"
        except Exception as e:  # a summary must never hide the real outcome
            return redact(f"{t.name}: release unknown ({e})")

    for text in ctx.for_each(line):
        print(text)


def _run(ctx: "RunContext", action) -> None:
    """Run a deploy or rollback; always end the event stream with run.end and a summary.
    Whatever the exception, run.end says failed/rolled_back with the exit code the CLI uses."""
    import time

    from deploy.engine.context import close_targets
    from deploy.errors import one_line
    from deploy.exits import exit_code_of

    started, result, code, error = time.monotonic(), "ok", 0, None
    try:
        action()
    except BaseException as e:
        result = "rolled_back" if any(t.reverted for t in ctx.targets) else "failed"
        code, error = exit_code_of(e), "interrupted" if isinstance(e, KeyboardInterrupt) else one_line(e)
        raise
    finally:
        _summary(ctx)
        end = {"result": result, "exit_code": code, "duration": round(time.monotonic() - started, 3)}
        ctx.bus.emit("run.end", **end, **({"error": error} if error else {}))
        close_targets(ctx.targets)
        ctx.bus.close()


LOCK_WAIT_HELP = "whole seconds to wait for another deploy's lock before failing (default 0: fail at once)"
BREAK_STALE_HELP = "break a lock whose holder is provably gone (same machine, process dead or rebooted); journaled"


@shipyard_task(help={"env": ENV_HELP, "artifact": "artifact to deploy (default: newest in dist/)", "config": CONFIG_HELP,
                     "lock_wait": LOCK_WAIT_HELP, "break_stale": BREAK_STALE_HELP,
                     "resume": "finish an interrupted deploy (same artifact and release), checking every host",
                     **REPORT_HELP})
def deploy(c, env="local", artifact=None, config=None, events=None, junit=None, html=None, lock_wait=0,
           resume=False, break_stale=False):
    """Deploy an artifact: upload, unpack, switch, restart, health-check (rolls back on failure)."""
    from pathlib import Path

    from deploy.engine import flow, run_record
    from deploy.artifact.verify import latest_artifact
    from deploy.errors import UsageError

    ctx = _context("deploy", env, config, events, junit, html, lock_wait, break_stale)
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
                     "config": CONFIG_HELP, "lock_wait": LOCK_WAIT_HELP, "break_stale": BREAK_STALE_HELP, **REPORT_HELP})
def rollback(c, env="local", to=None, force=False, config=None, events=None, junit=None, html=None, lock_wait=0,
             break_stale=False):
    """Switch back to the previous good release (or --to RELEASE), restart and health-check."""
    from deploy.engine import flow

    ctx = _context("rollback", env, config, events, junit, html, lock_wait, break_stale)
    _run(ctx, lambda: flow.rollback(ctx, to, force))
    print(f"rolled back {env} to {ctx.release_id}")


def _each_host(command: str, env: str, config: str | None, show) -> None:
    """Run `show(ctx, target)` on every reachable host in config order; an unreachable host,
    or one whose answer fails, is marked in place; then exit 1 naming them."""
    from deploy.config import load
    from deploy.engine.context import RunContext, close_targets, new_owner, open_reachable
    from deploy.errors import ShipyardError
    from deploy.report.events import EventBus

    loaded = load(config)
    envcfg = loaded.environment(env)
    targets, failed = open_reachable(envcfg)
    ctx = RunContext(loaded, env, envcfg, EventBus(), targets, {}, command, owner=new_owner(command))
    by_name = {t.name: t for t in targets}
    try:
        for host in envcfg.hosts:
            if host.name in failed:
                print(f"{host.name}: UNREACHABLE ({failed[host.name]})")
                continue
            try:
                show(ctx, by_name[host.name])
            except ShipyardError as e:
                failed[host.name] = str(e)
                print(f"{host.name}: ERROR ({e})")
    finally:
        close_targets(targets)
    if failed:
        from invoke import Exit

        raise Exit(f"shipyard: {len(failed)} of {len(envcfg.hosts)} host(s) could not be read: {', '.join(failed)}", code=1)


@shipyard_task(help={"env": ENV_HELP, "config": CONFIG_HELP})
def releases(c, env="local", config=None):
    """List each host's releases: current marked *, revision, date, outcome."""

    def show(ctx: "RunContext", t) -> None:
        lines = [f"  {'*' if r.current else ' '} {r.id:<32} {r.revision[:12]:<12} {r.deployed_at:<25} {r.status}"
                 for r in t.ops.releases()]
        print("\n".join([f"{t.name}:", *lines]))

    _each_host("releases", env, config, show)


@shipyard_task(help={"env": ENV_HELP, "config": CONFIG_HELP})
def status(c, env="local", config=None):
    """Each host's current release, health and lock holder."""
    from deploy.errors import ShipyardError
    from deploy.engine.health import check_host

    unhealthy: list[str] = []

    def show(ctx: "RunContext", t) -> None:
        current = t.ops.current()
        lock = t.ops.read_lock()
        try:
            check_host(ctx.env.model_copy(update={"health": ctx.env.health.model_copy(update={"timeout": 2.0})}),
                       t.host, t.transport, current if ctx.env.health.expect_release else None)
            health = "healthy"
        except ShipyardError as e:
            health, _ = f"unhealthy ({e})", unhealthy.append(t.name)
        holder = f"locked by {lock.get('user')} since {lock.get('since')}" if lock else "unlocked"
        print(f"{t.name}: release {current or '(none)'}, {health}, {holder}")

    _each_host("status", env, config, show)
    if unhealthy:
        from invoke import Exit

        raise Exit(code=1)


@shipyard_task(help={"env": ENV_HELP, "config": CONFIG_HELP})
def stop(c, env="local", config=None):
    """Stop the supervisord Shipyard manages for an environment (the local env's web server)."""
    from deploy.services.managed_supervisor import ManagedSupervisor

    def halt(ctx: "RunContext", t) -> None:
        if ctx.env.supervisor and ctx.env.supervisor.managed and not t.host.is_windows:
            ManagedSupervisor(t.ops, ctx.env, t.host, ctx.python(t.host)).shutdown()
            print(f"{t.name}: stopped")
        else:
            print(f"{t.name}: nothing Shipyard runs itself here (services are the system's)")

    _each_host("stop", env, config, halt)
