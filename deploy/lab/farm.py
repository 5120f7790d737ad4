"""Bring the whole lab up or down. Everything made is recorded in <lab dir>/lab.json as
it is made, so `down` removes exactly that (also after a half-finished `up`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from deploy.lab import LabError, balancer, hosts as labhosts
from deploy.lab.envfile import render_env
from deploy.lab.hosts import APP_PORT, BRIDGE, NETNS_PREFIX, SUBNET_PREFIX, LabHost
from deploy.lab.proc import free_port, read_pid, sh, stop_pid
from deploy.lab.state import STATE, Lab


def namespaces_allowed() -> bool:
    """Creating a network namespace needs CAP_SYS_ADMIN; containers often refuse it."""
    try:
        return subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def up(lab_dir: Path, count: int, *, loopback: bool = False, env_file: Path | None = None,
       wsgi: str = "shipsite.wsgi", frontend_port: int | None = None) -> Lab:
    """N hosts, each with its own sshd and deploy root, HAProxy in front; the env file written last.
    The first deploy starts each host's supervisord + gunicorn (the env's managed supervisor)."""
    if not 1 <= count <= 200:
        raise LabError(f"lab: --hosts must be between 1 and 200, got {count}")
    if (lab_dir / STATE).exists():
        raise LabError(f"lab: a lab is already up at {lab_dir}; run `invoke lab.down` first")
    if not loopback and not namespaces_allowed():
        print("shipyard: network namespaces are refused here: falling back to loopback ports", file=sys.stderr)
        loopback = True
    lab_dir.mkdir(parents=True, exist_ok=True)
    lab_dir.chmod(0o755)
    lab = Lab(str(lab_dir.resolve()), "loopback" if loopback else "netns", frontend_port or free_port(), wsgi=wsgi)
    lab.save()
    try:
        _build(lab, count, env_file)
    except BaseException:
        down(lab_dir)
        raise
    return lab


def _build(lab: Lab, count: int, env_file: Path | None) -> None:
    Path("/run/sshd").mkdir(exist_ok=True)
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "shipyard-lab", "-f", str(lab.client_key))
    shutil.copyfile(f"{lab.client_key}.pub", lab.root / "authorized_keys")
    if lab.mode == "netns":
        lab.bridge = BRIDGE
        lab.save()
        labhosts.create_bridge()
    for i in range(1, count + 1):
        host = _new_host(lab, i)
        lab.hosts.append(host)
        lab.save()
        if host.netns:
            labhosts.create_netns(host)
        labhosts.write_host_files(host, lab.root)
        labhosts.start_sshd(host, private_mounts=host.netns is not None)
    lab.known_hosts.write_text("".join(labhosts.host_key_line(h) for h in lab.hosts))
    balancer.start(lab.root, lab.hosts, lab.frontend_port)
    if env_file is not None:
        env_file.parent.mkdir(parents=True, exist_ok=True)
        env_file.write_text(render_env(lab))
        lab.env_file = str(env_file)
    lab.save()


def _new_host(lab: Lab, i: int) -> LabHost:
    name = f"lab{i}"
    root = str(lab.root / "hosts" / name)
    if lab.mode == "netns":
        return LabHost(name, f"{SUBNET_PREFIX}.{10 + i}", 22, APP_PORT, root, netns=f"{NETNS_PREFIX}{name}")
    return LabHost(name, "127.0.0.1", free_port(), free_port(), root)


def down(lab_dir: Path) -> list[str]:
    """Stop every daemon by pid, delete namespaces and bridge, remove the files; return what was removed."""
    try:
        lab = Lab.load(lab_dir)
    except LabError:
        return []
    removed = []
    balancer.stop(lab.root)
    supervisords = [pid for h in lab.hosts for f in h.root.glob("**/supervisord.pid") if (pid := read_pid(f))]
    for pid in supervisords:  # the deploys' managed supervisords: TERM them all, then wait for each
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in supervisords:
        stop_pid(pid, timeout=15)
    for host in lab.hosts:
        labhosts.stop_sshd(host)
        labhosts.delete_netns(host)
        removed.append(host.netns or f"{host.name} (127.0.0.1:{host.ssh_port})")
    if lab.bridge:
        sh("ip", "link", "del", lab.bridge, check=False)
        removed.append(lab.bridge)
    if lab.env_file:
        Path(lab.env_file).unlink(missing_ok=True)
        removed.append(lab.env_file)
    shutil.rmtree(lab.root, ignore_errors=True)
    removed.append(str(lab.root))
    return removed
