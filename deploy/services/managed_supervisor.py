"""A supervisord that Shipyard runs itself under deploy_to/shared/supervisor.

The local environment (and the lab's hosts) serve the site with gunicorn under
this supervisord. Everything goes through the host's transport, so the same
code drives it on this machine and over SSH.

A deploy never stops the server: supervisord's program is a small keeper
(services/gunicorn_keeper.py) that gunicorn runs under, signalled through
`supervisorctl signal` — HUP for new code (new workers, old ones finish their
requests), USR2 binary upgrade when the interpreter or the release's dependency
env changed. Only a change of the program's own settings (python, workers, bind,
environment: its launcher script) restarts it.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import time
from pathlib import Path

from deploy.config import EnvConfig, HostConfig
from deploy.errors import StepFailed
from deploy.release.hostops import HostOps
from deploy.secrets import Secret, env_file
from deploy.services.common import wait_until

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


# Run by the host's Python: argv[1] is the directory, stdin {path: text}; prints each path it changed.
WRITE_CHANGED = """\
import json, os, sys
os.makedirs(sys.argv[1], mode=0o700, exist_ok=True)
for path, text in json.load(sys.stdin).items():
    data = text.encode()
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                continue
    except OSError:
        pass
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
    print(path)
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
                "--chdir", f"{layout.current}/app", "--pid", pidfile, self.settings.wsgi]
        return f"{env_file(environment)}cd {q(layout.current + '/app')} || exit 1\nexec {shlex.join(argv)}\n"

    def _ctl(self, *args: str, check: bool = False):
        cmd = [self.python, "-m", "supervisor.supervisorctl", "-c", self.conf, *args]
        return self.ops.transport.run(cmd, timeout=self.timeout, check=check)

    def running(self) -> bool:
        return self._ctl("pid").stdout.strip().isdigit()

    def _write(self, files: dict[str, str]) -> set[str]:
        """Write each file (0600) that does not already hold its text, in one round trip; the
        texts (the launcher's secrets among them) travel on stdin. Returns the paths changed."""
        out = self.ops.transport.run([self.python, "-c", WRITE_CHANGED, self.dir], timeout=self.timeout,
                                     stdin=json.dumps(files).encode())
        return set(out.stdout.splitlines())

    def ensure_running(self, secrets: dict[str, Secret]) -> bool:
        """Write the config, the keeper and the (0600, it holds secrets) launcher; start supervisord,
        or restart the program when its launcher (settings, environment) changed. True when the
        program was (re)started by this call."""
        launcher = f"{self.dir}/{self.settings.program}.run"
        changed = self._write({self.conf: self.render(), launcher: self.launcher(secrets),
                               f"{self.dir}/{KEEPER}": (Path(__file__).parent / KEEPER).read_text(encoding="utf-8")})
        relaunch = launcher in changed
        if self.running():
            if self.settings.program in self._ctl("update").stdout:  # "web: updated process group"
                return True
            if relaunch:
                self._ctl("restart", self.settings.program)
            return relaunch
        self.ops.transport.run(
            [self.python, "-m", "supervisor.supervisord", "-c", self.conf], timeout=self.timeout
        )
        deadline = time.monotonic() + self.timeout
        while not self.running():
            if time.monotonic() > deadline:
                raise StepFailed(self.host.name, "supervisor.start", f"supervisord did not answer on {self.socket}")
            time.sleep(0.1)
        return True

    def serve(self, secrets: dict[str, Secret]) -> str:
        """Serve `current` without refusing a request; returns how (for the step's output)."""
        program = self.settings.program
        runtime, recorded = self._runtime()
        if self.ensure_running(secrets):
            how = f"{program} started"
        elif self.status() != "RUNNING":
            self._ctl("start", program)
            how = f"{program} started"
        elif runtime != recorded:
            self._binary_upgrade()
            how = f"{program}: USR2 binary upgrade (the interpreter or the dependency env changed)"
        else:
            self._ctl("signal", "HUP", program, check=True)
            how = f"{program}: HUP, new workers on the new code"
        self._write({f"{self.dir}/{program}.runtime": runtime})
        running, seen = wait_until(lambda: ((state := self.status()) == "RUNNING", state), self.timeout, 0.2)
        if not running:  # supervisorctl's own words: FATAL, BACKOFF, EXITED...
            raise StepFailed(self.host.name, "restart", f"{program}: {seen} after {how}")
        return how

    def status(self) -> str:
        out = self._ctl("status", self.settings.program).stdout.split()
        return out[1] if len(out) > 1 else " ".join(out) or "unknown"

    def _runtime(self) -> tuple[str, str]:
        """(what serves the new release, what the running master was started with): the
        release's dependency env and the interpreter binary. A difference needs a new master."""
        layout, py = self.ops.layout, q(self.python)
        script = (f'readlink -f {q(layout.current)}/.deps; p=$(command -v {py}) && readlink -f "$p" && '
                  f'stat -L -c %d:%i:%Y:%s "$p"; echo ---; cat {q(self.dir)}/{q(self.settings.program)}.runtime 2>/dev/null')
        out = self.ops.transport.run(script, timeout=self.timeout, check=False).stdout
        runtime, _, recorded = out.partition("---\n")
        return runtime, recorded

    def _binary_upgrade(self) -> None:
        """USR2 through the keeper (see gunicorn_keeper.py), then wait for its verdict."""
        status = f"{self.dir}/{self.settings.program}.upgrade"
        self.ops.transport.run(["rm", "-f", status], timeout=self.timeout)
        self._ctl("signal", "USR2", self.settings.program, check=True)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            said = self.ops.transport.run(["cat", status], timeout=self.timeout, check=False).stdout.strip()
            if said:
                verdict = json.loads(said)
                if verdict.get("upgrade") != "ok":
                    raise StepFailed(self.host.name, "restart", f"binary upgrade failed: {verdict.get('detail')}")
                return
            time.sleep(0.2)
        raise StepFailed(self.host.name, "restart", f"binary upgrade gave no answer within {self.timeout:g}s")

    def stop_program(self) -> None:
        self._ctl("stop", self.settings.program)

    def shutdown(self) -> None:
        if self.running():
            self._ctl("shutdown")
