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
                raise StepFailed(target.name, f"{stage}/{when} hook `{command}`", e) from e
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
        emit_stage(ctx, "stage.end", name, result="failed", error=str(e),
                   duration=round(time.monotonic() - started, 3))
        raise
    emit_stage(ctx, "stage.end", name, result="ok", duration=round(time.monotonic() - started, 3))


@contextmanager
def step(ctx: "RunContext", target: "Target", stage_name: str, name: str) -> Iterator[None]:
    """Time one host step, report it, and name host and step in any failure."""
    started = time.monotonic()
    try:
        yield
    except StepFailed as e:
        ctx.bus.emit("step", host=target.name, stage=stage_name, step=name, result="failed",
                     duration=round(time.monotonic() - started, 3), output=str(e.cause)[-2000:])
        if "/" in e.step:
            raise
        raise StepFailed(target.name, f"{stage_name}/{name}", f"{e.step}: {e.cause}") from e
    except (ShipyardError, OSError) as e:
        ctx.bus.emit("step", host=target.name, stage=stage_name, step=name, result="failed",
                     duration=round(time.monotonic() - started, 3), output=str(e)[-2000:])
        raise StepFailed(target.name, f"{stage_name}/{name}", e) from e
    ctx.bus.emit("step", host=target.name, stage=stage_name, step=name, result="ok",
                 duration=round(time.monotonic() - started, 3))
