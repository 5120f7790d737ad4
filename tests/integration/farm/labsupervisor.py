"""A system-style supervisord per lab host for the service tests (the deploys' own
supervisord is the engine's managed one): started inside the host's network namespace
so gunicorn listens on the host's address; programs go in <host>/sv/conf.d/*.conf."""

from __future__ import annotations

import sys
from pathlib import Path

from deploy.lab.hosts import LabHost
from deploy.lab.proc import sh, wait_file

PROGRAM = "web"


def sv_dir(host: LabHost) -> Path:
    return host.root / "sv"


def socket_path(host: LabHost) -> Path:
    return sv_dir(host) / "supervisor.sock"


def render_config(host: LabHost) -> str:
    d = sv_dir(host)
    return (
        f"[unix_http_server]\nfile={socket_path(host)}\nchmod=0700\n\n"
        f"[supervisord]\npidfile={d / 'supervisord.pid'}\nlogfile={d / 'supervisord.log'}\nchildlogdir={d}\n\n"
        "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        f"[supervisorctl]\nserverurl=unix://{socket_path(host)}\n\n"
        f"[include]\nfiles = {d / 'conf.d'}/*.conf\n"
    )


def web_program(host: LabHost, wsgi: str, python: str = sys.executable) -> str:
    """gunicorn on the host's address, serving whatever release `current` points at when started."""
    current = f"{host.deploy_to}/current"
    return (
        f"[program:{PROGRAM}]\n"
        f"command={python} -m gunicorn --chdir {current}/app --bind {host.address}:{host.app_port}"
        f" --workers 2 --graceful-timeout 10 --no-control-socket {wsgi}\n"
        f"directory={host.root}\nautostart=false\nautorestart=unexpected\nstartsecs=1\n"
        "stopasgroup=true\nkillasgroup=true\nstopwaitsecs=15\nredirect_stderr=true\n"
    )


def start(host: LabHost, programs: dict[str, str]) -> None:
    d = sv_dir(host)
    (d / "conf.d").mkdir(parents=True, exist_ok=True)
    for name, text in programs.items():
        (d / "conf.d" / f"{name}.conf").write_text(text)
    (d / "supervisord.conf").write_text(render_config(host))
    sh(*host.in_host(sys.executable, "-m", "supervisor.supervisord", "-c", str(d / "supervisord.conf")))
    wait_file(socket_path(host))
