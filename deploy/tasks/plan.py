"""`invoke plan`: what a deploy would do, changing nothing anywhere."""

from __future__ import annotations

from deploy.tasks._task import shipyard_task


@shipyard_task(help={"env": "environment name (default: local)", "format": "text or json",
                     "artifact": "artifact to plan (default: newest in dist/)", "config": "path to shipyard.toml"})
def plan(c, env="local", format="text", artifact=None, config=None):
    """Dry run: batches, each host's current and new release, files changed, services, hooks."""
    from pathlib import Path

    from deploy.artifact.verify import latest_artifact
    from deploy.config import load
    from deploy.engine.context import RunContext, close_targets, new_owner, open_targets
    from deploy.errors import UsageError
    from deploy.engine.plan import build_plan
    from deploy.engine.plan_inputs import gather_plan_inputs
    from deploy.report.events import EventBus

    if format not in ("text", "json"):
        raise UsageError(f"--format: {format!r} is not one of text, json")
    loaded = load(config)
    envcfg = loaded.environment(env)
    path = Path(artifact) if artifact else latest_artifact(loaded.resolve(loaded.build.dist_dir))
    ctx = RunContext(loaded, env, envcfg, EventBus(), open_targets(envcfg), {}, "plan", owner=new_owner("plan"))
    try:
        result = build_plan(**gather_plan_inputs(ctx, path), env=env)
    finally:
        close_targets(ctx.targets)
    print(result.to_json() if format == "json" else result.render_text(), end="")
