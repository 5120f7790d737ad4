"""Read, never write: what `invoke plan` needs from the artifact and each host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploy.artifact.verify import Limits, read_sidecar, verify_artifact
from deploy.engine.context import RunContext
from deploy.db.deploy_step import preview
from deploy.errors import ShipyardError


def services_of(ctx: RunContext) -> list[str]:
    names = [f"supervisor:{ctx.env.supervisor.program}"] if ctx.env.supervisor and ctx.env.supervisor.managed else []
    return names + [f"{s.kind}:{s.name}" for s in ctx.env.services]


def current_manifest(target: Any, release: str | None) -> dict[str, Any] | None:
    if release is None:
        return None
    try:
        return target.ops.read_manifest(release)
    except ShipyardError:
        return None


def gather_plan_inputs(ctx: RunContext, artifact: Path) -> dict[str, Any]:
    """The arguments of deploy.engine.plan.build_plan, gathered with read-only host verbs."""
    manifest = verify_artifact(artifact, read_sidecar(artifact)["sha256"], Limits.of(ctx.env))
    hosts = []
    for t in ctx.targets:
        release = t.ops.current()
        hosts.append({"name": t.name, "current_release": release, "current_manifest": current_manifest(t, release)})
    hooks = {k: v for k, v in (manifest.get("hooks") or {}).items() if v}
    return {"new_manifest": manifest, "hosts": hosts, "batches": ctx.batches, "services": services_of(ctx),
            "hooks": hooks, "db_script": preview(ctx.loaded, ctx.env)}
