"""`invoke plan`: what a deploy would do, changing nothing anywhere. It runs the checks
a deploy runs before changing a host, so it fails (with the same exit code) where a
deploy would, and it lists what it could not check."""

from __future__ import annotations

from deploy.tasks._task import shipyard_task
from deploy.tasks.core import CONFIG_HELP, ENV_HELP


@shipyard_task(help={"env": ENV_HELP, "format": "text or json",
                     "artifact": "artifact to plan (default: newest in dist/)", "config": CONFIG_HELP})
def plan(c, env="local", format="text", artifact=None, config=None):
    """Dry run: batches, each host's current and new release, files changed, services, hooks."""
    from pathlib import Path

    from deploy.artifact.verify import latest_artifact
    from deploy.engine.context import close_targets
    from deploy.engine.flow import check_before_changing_hosts
    from deploy.engine.plan import build_plan
    from deploy.engine.plan_inputs import gather_plan_inputs
    from deploy.errors import UsageError
    from deploy.tasks.core import _context

    if format not in ("text", "json"):
        raise UsageError(f"--format: {format!r} is not one of text, json")
    ctx = _context("plan", env, config)
    try:
        path = Path(artifact) if artifact else latest_artifact(ctx.loaded.resolve(ctx.loaded.build.dist_dir))
        files, _schema = check_before_changing_hosts(ctx, path)
        result = build_plan(**gather_plan_inputs(ctx, files), env=env)
    finally:
        close_targets(ctx.targets)
    print(result.to_json() if format == "json" else result.render_text(), end="")
