"""The `lab` environment as TOML: what `invoke deploy --env lab` reads (see config.environment)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from deploy.lab.state import Lab


def _q(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def render_env(lab: Lab) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    hosts = "".join(
        f"  {{ name = {_q(h.name)}, address = {_q(h.address)}, transport = \"ssh\", user = \"root\", "
        f"port = {h.ssh_port}, deploy_to = {_q(h.deploy_to)}, app_port = {h.app_port} }},\n"
        for h in lab.hosts
    )
    return (
        f"# Written by `invoke lab.up` ({lab.mode} mode, {stamp}); `invoke lab.down` removes it.\n"
        f"# Lab dir: {lab.dir}; HAProxy frontend: {lab.frontend_url}\n"
        f"deploy_to = {_q(lab.hosts[0].deploy_to)}\n"
        f"app_port = {lab.hosts[0].app_port}\n"
        f"hosts = [\n{hosts}]\n"
        f"ssh = {{ known_hosts = {_q(str(lab.known_hosts))}, key_filename = {_q(str(lab.client_key))}, agent = false }}\n"
        f"haproxy = {{ socket = {_q(str(lab.admin_socket))}, backend = \"web\" }}\n"
        "rollout = { batch = 1, drain = \"haproxy\", max_fail = \"0%\" }\n"
        "# the hosts share this machine's filesystem, so they run the interpreter that built the lab\n"
        f"python = {_q(sys.executable)}\n"
        "# preload: gunicorn's master imports the site once and its workers fork from it; every new\n"
        "# release is then served by a new master (USR2), see docs/linux-farm.md\n"
        f"supervisor = {{ program = \"web\", workers = 2, wsgi = {_q(lab.wsgi)}, preload = true }}\n"
        "health = { url = \"http://{address}:{app_port}/health/\", timeout = 30 }\n"
    )
