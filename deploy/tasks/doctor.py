"""`invoke doctor --env X`: preflight every host of an environment, one line per problem with a fix."""

from __future__ import annotations

from deploy.tasks._task import shipyard_task


@shipyard_task(help={"env": "environment to check (default: local)", "config": "path to shipyard.toml"})
def doctor(c, env="local", config=None):
    """Check reachability, auth, quotas, PowerShell, junctions, sudo and disk on every host."""
    from deploy.config import load
    from deploy.preflight import DoctorFailed, check_host, render

    loaded = load(config)
    environment = loaded.environment(env)
    reports = [check_host(host, environment, project=loaded.project.name) for host in environment.hosts]
    print(render(reports))
    if any(r.failed for r in reports):
        raise DoctorFailed(reports)
