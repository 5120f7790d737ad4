"""A supervisord that Shipyard runs itself under deploy_to/shared/supervisor.

The local environment (and the lab's hosts) serve the site with gunicorn under
this supervisord. Everything goes through the host's transport, so the same
code drives it on this machine and over SSH.

A deploy never stops the server: supervisord's program is a small keeper
(services/gunicorn_keeper.py) that gunicorn runs under, signalled over supervisord's
XML-RPC socket by one standard-library script per action (services/supervisor_agent.py:
one remote command, no `supervisorctl` start per poll) — HUP for new code (new workers, old ones finish their
requests), USR2 binary upgrade when the interpreter or the release's dependency
env changed, or for every new release when the app is preloaded (`supervisor.preload`:
the master imports the app once and its workers fork from that import, so a HUP would fork
them from the old code). Only a change of the program's own settings (python, workers,
preload, bind, environment: its launcher script) restarts it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shlex
from pathlib import Path

from deploy.config import EnvConfig, HostConfig
from deploy.errors import StepFailed
from deploy.release.hostops import HostOps
from deploy.secrets import Secret, env_file

q = shlex.quote
KEEPER = "gunicorn_keeper.py"

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
        """The program's launcher (0600): its environment, then exec the keeper (and gunicorn under it) from current/app."""
        layout = self.ops.layout
        environment = {
            "PYTHONPATH": f"{layout.current}/.deps",
            "SHIPYARD_SHARED": layout.shared,
            "STATIC_ROOT": f"{layout.current}/static",
            "SITE_ALLOWED_HOSTS": self.host.address or "",  # health checks address the host itself
            "PWD": f"{layout.current}/app",  # gunicorn re-execs (USR2) into $PWD: the link, not an old release
            **{name: s.reveal() for name, s in secrets.items()},
        }
        bind = f"{self.host.address or '127.0.0.1'}:{self.env.host_app_port(self.host)}"
        pidfile = f"{self.dir}/{self.settings.program}.pid"
        argv = [self.python, f"{self.dir}/{KEEPER}", pidfile, f"{self.dir}/{self.settings.program}.upgrade", "--",
                "--bind", bind, "--workers", str(self.settings.workers), "--no-control-socket",
                "--chdir", f"{layout.current}/app", "--pid", pidfile,
                *(["--preload"] if self.settings.preload else []), self.settings.wsgi]
        return f"{env_file(environment)}cd {q(layout.current + '/app')} || exit 1\nexec {shlex.join(argv)}\n"

    def _agent(self, op: str, **fields: object) -> dict:
        """One request to the host's agent (supervisor_agent.py, standard library only, so `-I -S`:
        no site, no user's PYTHONPATH); the texts it writes (the launcher's secrets among them)
        travel on stdin. Raises StepFailed with the agent's own words."""
        program = self.settings.program
        request = {"op": op, "dir": self.dir, "conf": self.conf, "socket": self.socket, "program": program,
                   "python": self.python, "timeout": self.timeout, **fields}
        said = self.ops.transport.run([self.python, "-I", "-S", "-c", agent_source()], timeout=self.timeout * 3,
                                      stdin=json.dumps(request).encode(), check=False)
        lines = said.stdout.strip().splitlines()
        try:
            answer = json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError:
            answer = {}
        if not answer.get("ok"):
            cause = answer.get("error") or f"supervisor agent exited {said.rc}: {(said.stderr or said.stdout).strip()[-500:]}"
            raise StepFailed(self.host.name, "restart", cause)
        return answer

    def serve(self, secrets: dict[str, Secret], ready: str = "running") -> str:
        """Serve `current` without refusing a request (see supervisor_agent.serve); returns how.
        `ready = "listening"` when a health check follows: the program counts as up once it is
        listening, without waiting out supervisord's `startsecs`."""
        program, layout = self.settings.program, self.ops.layout
        launcher = f"{self.dir}/{program}.run"
        files = {self.conf: self.render(), launcher: self.launcher(secrets),
                 f"{self.dir}/{KEEPER}": (Path(__file__).parent / KEEPER).read_text(encoding="utf-8")}
        answer = self._agent("serve", files=files, launcher=launcher, ready=ready, current=layout.current,
                             preload=self.settings.preload,
                             runtime_file=f"{self.dir}/{program}.runtime", upgrade_status=f"{self.dir}/{program}.upgrade",
                             bind=[self.host.address or "127.0.0.1", self.env.host_app_port(self.host)])
        return answer["how"]

    def stop_program(self) -> None:
        self._agent("stop")

    def shutdown(self) -> None:
        self._agent("shutdown")


@functools.cache
def agent_source() -> str:
    return (Path(__file__).parent / "supervisor_agent.py").read_text(encoding="utf-8")
