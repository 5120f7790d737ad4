"""`invoke lab.up --hosts N` / `invoke lab.down`: rehearsal hosts on this machine.

lab.up writes the environment to .shipyard/env/lab.toml beside shipyard.toml, where
`invoke deploy --env lab` finds it (an [env.lab] in shipyard.toml would win)."""

from __future__ import annotations

from invoke import Collection

from deploy.tasks._task import shipyard_task

CONFIG_HELP = "path to shipyard.toml (default: found from the current directory up)"
DIR_HELP = "where the lab keeps keys, configs and host roots (default: .shipyard/lab beside shipyard.toml)"


def _paths(config: str | None, lab_dir: str | None):
    from pathlib import Path

    from deploy.config import load

    loaded = load(config)
    root = Path(lab_dir).resolve() if lab_dir else loaded.root / ".shipyard" / "lab"
    return loaded, root


@shipyard_task(
    help={
        "hosts": "how many hosts (network namespaces lab1..labN)",
        "loopback": "use loopback ports instead of network namespaces",
        "wsgi": "WSGI module the hosts' gunicorn serves",
        "dir": DIR_HELP,
        "config": CONFIG_HELP,
    }
)
def up(c, hosts=3, loopback=False, wsgi="shipsite.wsgi", dir=None, config=None):
    """Build N lab hosts (own sshd, host key, deploy root) behind HAProxy; write env `lab`."""
    from deploy.lab import farm

    loaded, lab_dir = _paths(config, dir)
    lab = farm.up(lab_dir, int(hosts), loopback=loopback, wsgi=wsgi, env_file=loaded.generated_env_path("lab"))
    for h in lab.hosts:
        where = f"{h.address}:{h.ssh_port}" if h.ssh_port != 22 else h.address
        print(f"{h.name}: ssh root@{where} (deploy_to {h.deploy_to}, app {h.address}:{h.app_port})")
    print(f"haproxy: {lab.frontend_url}/ (admin socket {lab.admin_socket})")
    print(f"mode: {lab.mode}; environment written to {lab.env_file}")
    print("next: invoke build deploy --env lab")


@shipyard_task(help={"dir": DIR_HELP, "config": CONFIG_HELP})
def down(c, dir=None, config=None):
    """Stop every lab process by pid, delete namespaces and bridge, remove the lab's files."""
    from deploy.lab import farm

    _, lab_dir = _paths(config, dir)
    removed = farm.down(lab_dir)
    print("removed: " + ", ".join(removed) if removed else f"no lab at {lab_dir}")


ns = Collection("lab")
ns.add_task(up)
ns.add_task(down)
