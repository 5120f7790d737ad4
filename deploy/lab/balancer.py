"""HAProxy in the root namespace, balancing the lab hosts on 127.0.0.1 with an admin socket."""

from __future__ import annotations

from pathlib import Path

from deploy.lab.hosts import LabHost
from deploy.lab.proc import read_pid, sh, stop_pid, wait_file, wait_port

BACKEND = "web"


def render_config(lab_dir: Path, hosts: list[LabHost], frontend_port: int, health_path: str = "/health/") -> str:
    """Checks every 300 ms, every 100 ms while a server is down or changing state, so a
    restarted server is UP again quickly (the rollout's `ready` waits for UP); `redispatch`
    retries a refused connection on another server (belt and braces: drain already keeps
    traffic off). The lab's own tuning, not a recommendation for production."""
    servers = "".join(f"    server {h.name} {h.address}:{h.app_port}\n" for h in hosts)
    d = lab_dir / "haproxy"
    return (
        "global\n"
        f"    stats socket {d / 'admin.sock'} mode 600 level admin\n"
        f"    pidfile {d / 'haproxy.pid'}\n"
        "defaults\n"
        "    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n"
        "    retries 3\n    option redispatch\n"
        "frontend fe\n"
        f"    bind 127.0.0.1:{frontend_port}\n"
        f"    default_backend {BACKEND}\n"
        f"backend {BACKEND}\n"
        "    balance roundrobin\n"
        "    option httpchk\n"
        f"    http-check send meth GET uri {health_path} ver HTTP/1.1 hdr Host localhost\n"
        "    default-server check inter 300ms fastinter 100ms downinter 100ms fall 2 rise 1\n"
        f"{servers}"
    )


def start(lab_dir: Path, hosts: list[LabHost], frontend_port: int) -> None:
    d = lab_dir / "haproxy"
    d.mkdir(parents=True, exist_ok=True)
    cfg = d / "haproxy.cfg"
    cfg.write_text(render_config(lab_dir, hosts, frontend_port))
    sh("haproxy", "-c", "-q", "-f", str(cfg))
    sh("haproxy", "-D", "-f", str(cfg))
    wait_file(d / "haproxy.pid")
    wait_port("127.0.0.1", frontend_port)


def stop(lab_dir: Path) -> None:
    pid = read_pid(lab_dir / "haproxy" / "haproxy.pid")
    if pid:
        stop_pid(pid)


def admin_socket(lab_dir: Path) -> Path:
    return lab_dir / "haproxy" / "admin.sock"
