"""One lab host: a network namespace on the lab bridge (or, when namespaces are
refused, a loopback port), its own sshd with its own host key, its own directory.

Each sshd runs in a private mount namespace where root's ~/.bashrc is hidden (it
costs ~0.2 s per command on these machines) and `systemctl` is a stand-in script
(systemd cannot run here), so commands over SSH are fast and systemd service
sequences can be rehearsed without touching the machine.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass
from pathlib import Path

from deploy.lab import LabError
from deploy.lab.proc import read_pid, sh, stop_pid, wait_file, wait_port

BRIDGE = "brshipyard"
SUBNET_PREFIX = "10.77.0"
GATEWAY = f"{SUBNET_PREFIX}.1"
NETNS_PREFIX = "sy-"
APP_PORT = 8000
HIDDEN_FILES = ("/root/.bashrc",)
SYSTEMCTL = "/usr/bin/systemctl"


@dataclass
class LabHost:
    """Everything the lab knows about one host; stored in lab.json so `down` undoes exactly it."""

    name: str
    address: str
    ssh_port: int
    app_port: int
    dir: str
    netns: str | None = None

    @property
    def root(self) -> Path:
        return Path(self.dir)

    @property
    def deploy_to(self) -> str:
        return str(self.root / "site")

    @property
    def known_hosts_name(self) -> str:
        return self.address if self.ssh_port == 22 else f"[{self.address}]:{self.ssh_port}"

    def to_json(self) -> dict:
        return asdict(self)

    def in_host(self, *argv: str) -> list[str]:
        """argv run inside this host's network namespace (unchanged in loopback mode)."""
        return ["ip", "netns", "exec", self.netns, *argv] if self.netns else list(argv)


def create_bridge() -> None:
    if sh("ip", "link", "show", BRIDGE, check=False).returncode == 0:
        raise LabError(f"lab: bridge {BRIDGE} exists: another lab is up on this machine (`invoke lab.down` it first)")
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")


def delete_bridge() -> None:
    sh("ip", "link", "del", BRIDGE, check=False)


def veth_name(host: LabHost) -> str:
    return f"v{host.netns.replace('-', '')}"


def create_netns(host: LabHost) -> None:
    ns, veth = host.netns, veth_name(host)
    sh("ip", "link", "del", veth, check=False)  # a namespace deleted moments ago frees its veth lazily
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
    sh("ip", "link", "set", veth, "master", BRIDGE, "up")
    sh("ip", "-n", ns, "addr", "add", f"{host.address}/24", "dev", "eth0")
    sh("ip", "-n", ns, "link", "set", "eth0", "up")
    sh("ip", "-n", ns, "link", "set", "lo", "up")


def delete_netns(host: LabHost) -> None:
    """Kill whatever still runs in the namespace, then delete it (which removes the veth)."""
    if not host.netns:
        return
    pids = sh("ip", "netns", "pids", host.netns, check=False).stdout.split()
    for pid in pids:
        stop_pid(int(pid), timeout=2)
    sh("ip", "link", "del", veth_name(host), check=False)  # at once, not when the kernel gets round to it
    sh("ip", "netns", "del", host.netns, check=False)


STANDIN_SYSTEMCTL = """#!/bin/sh
# Lab stand-in for systemctl (systemd cannot run here): logs every call and keeps
# unit states in files, so a deploy's systemctl sequence can be rehearsed and checked.
# Markers: <unit>.fail = restart fails at once; <unit>.fail-late = starts, then fails.
state={state}
mkdir -p "$state"; echo "$*" >> "$state/calls.log"
cmd=$1; unit=${{2:-}}
case "$cmd" in
  restart|start|reload-or-restart)
    if [ -e "$state/$unit.fail" ]; then echo failed > "$state/$unit.state"
      echo "Job for $unit failed because the control process exited with error code." >&2; exit 1; fi
    echo activating > "$state/$unit.state"
    if [ -e "$state/$unit.fail-late" ]; then next=failed; else next=active; fi
    (sleep 0.3; echo $next > "$state/$unit.state") >/dev/null 2>&1 &
    ;;
  stop) echo inactive > "$state/$unit.state" ;;
  is-active) s=$(cat "$state/$unit.state" 2>/dev/null || echo inactive); echo "$s"; [ "$s" = active ] ;;
  daemon-reload) ;;
  status) cat "$state/$unit.state" 2>/dev/null; tail -n 5 "$state/calls.log" ;;
  *) echo "lab stand-in systemctl: unsupported command $cmd" >&2; exit 2 ;;
esac
"""


def write_host_files(host: LabHost, lab_dir: Path) -> None:
    """Host key, sshd_config, the empty rc file and the stand-in systemctl."""
    root = host.root
    (root / "bin").mkdir(parents=True, exist_ok=True)
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", host.name, "-f", str(root / "host_key"))
    (root / "empty").write_text("")
    systemctl = root / "bin" / "systemctl"
    systemctl.write_text(STANDIN_SYSTEMCTL.format(state=shlex.quote(str(root / "systemd"))))
    systemctl.chmod(0o755)
    (root / "sshd_config").write_text(
        f"ListenAddress {host.address}:{host.ssh_port}\n"
        f"HostKey {root / 'host_key'}\nPidFile {root / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {lab_dir / 'authorized_keys'}\n"
        "UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nMaxSessions 64\nMaxStartups 64:30:128\n"
        "Subsystem sftp internal-sftp\n"
    )


def start_sshd(host: LabHost, private_mounts: bool) -> None:
    root = host.root
    sshd = f"exec /usr/sbin/sshd -f {root / 'sshd_config'} -E {root / 'sshd.log'}"
    if private_mounts:
        binds = [f"[ -e {f} ] && mount --bind {root / 'empty'} {f}" for f in HIDDEN_FILES]
        binds.append(f"[ -e {SYSTEMCTL} ] && mount --bind {root / 'bin' / 'systemctl'} {SYSTEMCTL}")
        script = f"hostname {host.name}; " + "; ".join(binds) + f"; {sshd}"
        sh(*host.in_host("unshare", "--mount", "--uts", "sh", "-c", script))
    else:
        sh("sh", "-c", sshd)
    wait_file(root / "sshd.pid")
    wait_port(host.address, host.ssh_port)


def stop_sshd(host: LabHost) -> None:
    pid = read_pid(host.root / "sshd.pid")
    if pid:
        stop_pid(pid)


def host_key_line(host: LabHost) -> str:
    key_type, key = (host.root / "host_key.pub").read_text().split()[:2]
    return f"{host.known_hosts_name} {key_type} {key}\n"
