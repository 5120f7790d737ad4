"""Read, never write: what `invoke plan` needs from the artifact and each host, and
the list of what it checked (the same checks a deploy runs before changing a host,
deploy.engine.flow.check_before_changing_hosts) and what only a deploy can find out."""

from __future__ import annotations

from typing import Any

from deploy.engine.context import RunContext
from deploy.db.deploy_step import preview
from deploy.errors import ShipyardError

NOT_CHECKED = [
    "hooks: they run only during a deploy, and their exit codes are not known before",
    "dependency install on each host (pip from the release's wheelhouse)",
    "restart and health checks of the new release",
    "free disk space on the hosts",
]


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


def checks_done(ctx: RunContext, files: dict[str, dict[str, str]], locks: dict[str, dict | None]) -> list[str]:
    held = {name: lock for name, lock in locks.items() if lock}
    lock_line = "deploy lock: free on every host" if not held else "deploy lock: HELD on " + ", ".join(
        f"{name} by {lock.get('user')} since {lock.get('since')}" for name, lock in held.items()
    ) + " (a deploy now waits with --lock-wait, or fails)"
    done = [
        "config and environment",
        f"secrets: {len(ctx.secrets)} set" if ctx.secrets else "secrets: none configured",
        f"artifact {ctx.artifact.name if ctx.artifact else '?'}: sha256 and every member against its manifest",
        "hooks recorded in the artifact",
        f"every host reachable ({len(ctx.targets)})",
        lock_line,
    ]
    rendered = sum(len(f) for f in files.values())
    if rendered:
        done.append(f"server configs and substituted files rendered and validated ({rendered} file(s))")
    if ctx.env.db and ctx.env.db.deploy_steps:
        done.append("database steps: this checkout is the artifact's revision, so sql/ is the release's")
    return done


def gather_plan_inputs(ctx: RunContext, files: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The arguments of deploy.engine.plan.build_plan, gathered with read-only host verbs
    once the deploy's own checks passed (ctx.manifest is the verified artifact's)."""
    hosts, locks = [], {}
    for t in ctx.targets:
        release = t.ops.current()
        locks[t.name] = t.ops.read_lock()
        hosts.append({"name": t.name, "current_release": release, "current_manifest": current_manifest(t, release)})
    hooks = {k: v for k, v in (ctx.manifest.get("hooks") or {}).items() if v}
    not_checked = NOT_CHECKED + (["whether the database migrations succeed (they are not run)"]
                                 if ctx.env.db and "migrate" in ctx.env.db.deploy_steps else [])
    return {"new_manifest": ctx.manifest, "hosts": hosts, "batches": ctx.batches, "services": services_of(ctx),
            "hooks": hooks, "db_script": preview(ctx.loaded, ctx.env),
            "checked": checks_done(ctx, files, locks), "not_checked": not_checked}
