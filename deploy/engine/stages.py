"""The flow skeleton: starting → updating → publishing → finishing, or failed.

Each stage runs its `before`/`after` hooks: shell commands from the release
being activated (its manifest carries the [hooks] of its own revision) and
Python callables registered with `before()`/`after()` — the tasks.py of a
project may add its own.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from deploy.config import STAGES
from deploy.errors import CommandFailed, ShipyardError, StepFailed

if TYPE_CHECKING:  # pragma: no cover
    from deploy.engine.context import RunContext, Target

PythonHook = Callable[["RunContext"], None]
_python_hooks: dict[tuple[str, str], list[PythonHook]] = defaultdict(list)


def _register(when: str, stage: str) -> Callable[[PythonHook], PythonHook]:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")

    def add(fn: PythonHook) -> PythonHook:
        _python_hooks[(when, stage)].append(fn)
        return fn

    return add


def before(stage: str) -> Callable[[PythonHook], PythonHook]:
    return _register("before", stage)


def after(stage: str) -> Callable[[PythonHook], PythonHook]:
    return _register("after", stage)


def hook_env(ctx: "RunContext", target: "Target", release_id: str | None) -> dict[str, str]:
    layout = target.ops.layout
    env = {
        "SHIPYARD_ENV": ctx.env_name,
        "SHIPYARD_HOST": target.name,
        "SHIPYARD_DEPLOY_TO": layout.deploy_to,
        "SHIPYARD_SHARED": layout.shared,
        "SHIPYARD_PYTHON": ctx.python(target.host),
        "SHIPYARD_REVISION": str(ctx.manifest.get("revision", "")),
    }
    if release_id:
        env |= {
            "SHIPYARD_RELEASE": release_id,
            "SHIPYARD_RELEASE_DIR": layout.release(release_id),
            "PYTHONPATH": f"{layout.release(release_id)}/.deps",
        }
    return env


def run_hooks(ctx: "RunContext", when: str, stage: str, release_for: Callable[["Target"], str | None]) -> None:
    commands = ctx.hooks.commands(when, stage)
    for command in commands:
        def run(target: "Target") -> None:
            rid = release_for(target)
            started = time.monotonic()
            try:
                target.ops.run_hook(rid, command, hook_env(ctx, target, rid), ctx.secrets)
            except CommandFailed as e:
                ctx.bus.emit("hook", host=target.name, stage=stage, when=when, command=command, result="failed")
                failure = StepFailed(target.name, f"{stage}/{when} hook `{command}`", e)
                target.error = target.error or str(failure)
                raise failure from e
            ctx.bus.emit("hook", host=target.name, stage=stage, when=when, command=command,
                         result="ok", duration=round(time.monotonic() - started, 3))

        ctx.for_each(run)
    for fn in _python_hooks[(when, stage)]:
        fn(ctx)


def emit_stage(ctx: "RunContext", kind: str, name: str, **fields: object) -> None:
    """Stages run on every host at once; each host gets its own event (per-host timelines)."""
    for target in ctx.targets:
        ctx.bus.emit(kind, host=target.name, stage=name, batch=ctx.batch_of(target), **fields)


@contextmanager
def stage(ctx: "RunContext", name: str, release_for: Callable[["Target"], str | None]) -> Iterator[None]:
    started = time.monotonic()
    emit_stage(ctx, "stage.start", name)
    try:
        run_hooks(ctx, "before", name, release_for)
        yield
        run_hooks(ctx, "after", name, release_for)
    except BaseException as e:
        end_failed_stage(ctx, name, e, round(time.monotonic() - started, 3))
        raise
    emit_stage(ctx, "stage.end", name, result="ok", duration=round(time.monotonic() - started, 3))


def end_failed_stage(ctx: "RunContext", name: str, error: BaseException, duration: float) -> None:
    """Each host ends the stage with its own outcome: failed with its own error, or — when the
    failure was another host's — skipped, naming who stopped the run. Only a failure no host
    owns (a database step, an interrupt) fails every host."""
    culprits = [t.name for t in ctx.targets if t.error]
    for target in ctx.targets:
        if target.error or not culprits:
            fields = {"result": "failed", "error": target.error or str(error)}
        else:
            fields = {"result": "skipped", "error": f"stopped: {', '.join(culprits)} failed"}
        ctx.bus.emit("stage.end", host=target.name, stage=name, batch=ctx.batch_of(target), duration=duration, **fields)


@contextmanager
def step(ctx: "RunContext", target: "Target", stage_name: str, name: str,
         passthrough: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Time one host step, report it, and name host and step in any failure — but exceptions of the
    `passthrough` types, which the caller handles (a held lock, waited for or reported as it is)."""
    started = time.monotonic()
    try:
        yield
    except passthrough:
        raise
    except StepFailed as e:
        ctx.bus.emit("step", host=target.name, stage=stage_name, step=name, result="failed",
                     duration=round(time.monotonic() - started, 3), output=str(e.cause)[-2000:])
        failure = e if "/" in e.step else StepFailed(target.name, f"{stage_name}/{name}", f"{e.step}: {e.cause}")
        target.error = target.error or str(failure)
        if failure is e:
            raise
        raise failure from e
    except Exception as e:  # noqa: BLE001 - whatever broke, the failure names host and step
        cause = e if isinstance(e, (ShipyardError, OSError)) else f"{type(e).__name__}: {e}"
        ctx.bus.emit("step", host=target.name, stage=stage_name, step=name, result="failed",
                     duration=round(time.monotonic() - started, 3), output=str(cause)[-2000:])
        failure = StepFailed(target.name, f"{stage_name}/{name}", cause)
        target.error = target.error or str(failure)
        raise failure from e
    ctx.bus.emit("step", host=target.name, stage=stage_name, step=name, result="ok",
                 duration=round(time.monotonic() - started, 3))
