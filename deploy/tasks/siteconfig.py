"""`invoke config.render` and `invoke config.diff`: look at every server config
before a deploy, and see how it differs from what the hosts run now."""

from __future__ import annotations

import invoke

from deploy.tasks._task import shipyard_task


ENV_HELP = "environment name from shipyard.toml (default: local)"


@shipyard_task(help={
    "env": ENV_HELP,
    "out": "directory to write into (default .shipyard/rendered/ENV); one subdirectory per host",
    "release": "release id to render for (shows in the files' headers)",
    "check": "validate with the real tools (apache2 -t, nginx -t, ...); --no-check to skip",
    "config": "path to shipyard.toml",
})
def render(c, env="local", out=None, release="preview", check=True, config=None):
    """Render the env's server configs per host, and validate them."""
    from pathlib import Path

    from deploy import siteconfig
    from deploy.config import load
    from deploy.siteconfig.live import write_rendered

    loaded = load(config)
    environment = loaded.environment(env)
    if environment.site is None:
        print(f"env {env}: nothing to render: it has no [env.{env}.site] model in {loaded.path.name}")
        return
    base = Path(out) if out else loaded.resolve(f".shipyard/rendered/{env}")
    for host in environment.hosts:
        files = siteconfig.release_files(loaded, env, host, release)
        written = write_rendered(files, base / host.name)
        print(f"{host.name}: rendered {len(written)} file(s) into {base / host.name}")
        for path in written:
            print(f"  {path}")
        if check and files:
            siteconfig.validate_files(files)
            print(f"{host.name}: {len(files) - 1} file(s) valid")


@shipyard_task(help={"env": ENV_HELP, "config": "path to shipyard.toml"})
def diff(c, env="local", config=None):
    """Show how rendered configs differ from each host's live release; exit 1 when they differ."""
    import sys

    from deploy.config import load
    from deploy.siteconfig.live import diff_host
    from deploy.transport import open_transport

    loaded = load(config)
    environment = loaded.environment(env)
    if environment.site is None:
        print(f"env {env}: nothing to compare: it has no [env.{env}.site] model in {loaded.path.name}")
        return
    differs = False
    for host in environment.hosts:
        with open_transport(host, environment) as transport:
            lines = diff_host(loaded, env, host, transport)
        sys.stdout.writelines(lines)
        print(f"{host.name}: {'differs' if lines else 'matches'} live")
        differs = differs or bool(lines)
    if differs:
        raise invoke.Exit(code=1)


ns = invoke.Collection("config")
ns.add_task(render)
ns.add_task(diff)
