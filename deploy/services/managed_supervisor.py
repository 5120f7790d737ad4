"""A supervisord that Shipyard runs itself under deploy_to/shared/supervisor.

The local environment (and the lab's hosts) serve the site with gunicorn under
this supervisord. Everything goes through the host's transport, so the same
code drives it on this machine and over SSH.
"""

from __future__ import annotations

import hashlib
import shlex
import time

from deploy.config import EnvConfig, HostConfig
from deploy.errors import StepFailed
from deploy.release.hostops import HostOps
from deploy.secrets import Secret, env_file

q = shlex.quote

# Every path under the config's own directory is written as %(here)s (supervisord expands it
# after parsing), so a deploy_to with spaces, `;` or `#` cannot be cut by its INI parser; the
# program runs a launcher script from that directory, which holds the environment (secrets too,
# multi-line ones byte for byte) and the quoted command: nothing else of the user's is in here.
CONF = """\
[unix_http_server]
file = {socket}
chmod = 0700

[supervisord]
logfile = %(here)s/supervisord.log
pidfile = %(here)s/supervisord.pid
childlogdir = %(here)s
nodaemon = false

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl = unix://{socket}

[program:{program}]
command = /bin/sh {program}.run
directory = %(here)s
autostart = true
autorestart = true
startsecs = 1
stopwaitsecs = 10
stopasgroup = true
killasgroup = true
redirect_stderr = true
stdout_logfile = %(here)s/{program}.log
"""


class ManagedSupervisor:
    """supervisord + one gunicorn program serving deploy_to/current."""

    def __init__(self, ops: HostOps, env: EnvConfig, host: HostConfig, python: str, timeout: float = 30.0):
        assert env.supervisor is not None
        self.ops, self.env, self.host, self.python, self.timeout = ops, env, host, python, timeout
        self.settings = env.supervisor
        self.dir = ops.layout.shared_path("supervisor")

    @property
    def socket(self) -> str:
        """Unix socket paths are limited to 108 bytes; deep deploy roots get a short one in /tmp."""
        path = f"{self.dir}/sv.sock"
        if len(path.encode()) < 100:
            return path
        return f"/tmp/shipyard-sv-{hashlib.sha256(self.dir.encode()).hexdigest()[:16]}.sock"

    @property
    def conf(self) -> str:
        return f"{self.dir}/supervisord.conf"

    def render(self) -> str:
        """supervisord.conf: no secret and no path of the user's in it (see CONF)."""
        socket = self.socket if self.socket.startswith("/tmp/") else "%(here)s/sv.sock"
        return CONF.format(socket=socket, program=self.settings.program)

    def launcher(self, secrets: dict[str, Secret]) -> str:
        """The program's launcher (0600): its environment, then exec gunicorn from current/app."""
        layout = self.ops.layout
        environment = {
            "PYTHONPATH": f"{layout.current}/.deps",
            "SHIPYARD_SHARED": layout.shared,
            "STATIC_ROOT": f"{layout.current}/static",
            "SITE_ALLOWED_HOSTS": self.host.address or "",  # health checks address the host itself
            **{name: s.reveal() for name, s in secrets.items()},
        }
        bind = f"{self.host.address or '127.0.0.1'}:{self.env.host_app_port(self.host)}"
        argv = [self.python, "-m", "gunicorn", "--bind", bind, "--workers", str(self.settings.workers),
                "--no-control-socket", "--pid", f"{self.dir}/{self.settings.program}.pid", self.settings.wsgi]
        return f"{env_file(environment)}cd {q(layout.current + '/app')} || exit 1\nexec {shlex.join(argv)}\n"

    def _ctl(self, *args: str, check: bool = False):
        cmd = [self.python, "-m", "supervisor.supervisorctl", "-c", self.conf, *args]
        return self.ops.transport.run(cmd, timeout=self.timeout, check=check)

    def running(self) -> bool:
        return self._ctl("pid").stdout.strip().isdigit()

    def ensure_running(self, secrets: dict[str, Secret]) -> None:
        """Write the config and the (0600, it holds secrets) launcher; start supervisord or reread it."""
        for path, text in ((self.conf, self.render()), (f"{self.dir}/{self.settings.program}.run", self.launcher(secrets))):
            self.ops.transport.run(
                f"umask 077; mkdir -p {q(self.dir)}; cat > {q(path)}.tmp && mv -f {q(path)}.tmp {q(path)}",
                timeout=self.timeout, stdin=text.encode(),
            )
        if self.running():
            self._ctl("update")
            return
        self.ops.transport.run(
            [self.python, "-m", "supervisor.supervisord", "-c", self.conf], timeout=self.timeout
        )
        deadline = time.monotonic() + self.timeout
        while not self.running():
            if time.monotonic() > deadline:
                raise StepFailed(self.host.name, "supervisor.start", f"supervisord did not answer on {self.socket}")
            time.sleep(0.1)

    def restart(self) -> None:
        """Restart the program; supervisorctl waits for startsecs, so RUNNING means it stayed up."""
        result = self._ctl("restart", self.settings.program)
        status = self._ctl("status", self.settings.program).stdout
        if "RUNNING" not in status:
            detail = (result.stdout + result.stderr).strip() or status.strip()
            raise StepFailed(self.host.name, "restart", f"{self.settings.program}: {detail}")

    def stop_program(self) -> None:
        self._ctl("stop", self.settings.program)

    def shutdown(self) -> None:
        if self.running():
            self._ctl("shutdown")
