"""Keeps one gunicorn serving under supervisord through graceful restarts: standard
library only, copied to each host beside the managed supervisord config and run as its
program (`python gunicorn_keeper.py PIDFILE STATUS -- GUNICORN ARGS`).

Why a keeper: gunicorn's binary upgrade (USR2) forks a new master from the old one, and
once the old master exits, supervisord — which only knows the old pid — would call the
program dead and start a second gunicorn on a port already taken. The keeper is what
supervisord watches instead: a child subreaper, so the new master is re-parented to it,
and it forwards every other signal to whichever master is current.

Signals it takes (`supervisorctl signal SIG web`):
  HUP   gunicorn re-reads its config and starts new workers on the new code; the old
        ones finish their requests and exit. Same interpreter, same dependencies.
  USR2  binary upgrade for a new interpreter or dependency env: USR2 to the master (a
        new master starts on the same listening socket), then WINCH and TERM to the old
        one. gunicorn ignores WINCH unless daemonized, and its QUIT is the *fast*
        shutdown, so TERM (graceful: in-flight requests finish) ends the old master.
        Nothing is refused meanwhile: the socket stays open in the new master.
        The outcome is written to STATUS as one JSON line.
  TERM, INT, QUIT, TTIN, TTOU, USR1: passed to the current master.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time

GUNICORN_MODE = "SHIPYARD_KEEPER_GUNICORN"  # set for the child: this file then *is* gunicorn
PR_SET_CHILD_SUBREAPER = 36
UPGRADE_TIMEOUT = 120.0
FORWARDED = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGTTIN, signal.SIGTTOU, signal.SIGUSR1)


def run_gunicorn() -> None:
    """gunicorn's own entry point. A USR2 re-exec runs this same file with the same argv,
    so no package directory lands on sys.path (as `python -m gunicorn`'s re-exec would)."""
    args = sys.argv[1:]
    if "--" in args:
        args = args[args.index("--") + 1:]
    sys.argv = [sys.argv[0], *args]
    from gunicorn.app.wsgiapp import WSGIApplication

    class KeptApplication(WSGIApplication):
        def load_config(self) -> None:  # on start and on every HUP: the hook survives reloads
            super().load_config()
            if self.cfg.preload_app:
                self.cfg.set("pre_fork", freezing(self.cfg.pre_fork))

    KeptApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()


def freezing(pre_fork):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """A preloaded app's pre_fork hook: gc.freeze() before each fork, Python's own advice for a
    fork without exec. The import the workers share is then never traversed by their garbage
    collections, nor by the final one of their exit, so it is not copied page by page into
    each of them (an exiting worker of the example site: ~0.11 CPU-s, 0.03 frozen); the app's
    own pre_fork (a gunicorn.conf.py) still runs after it."""
    def hook(server, worker):  # noqa: ANN001, ANN202
        gc.freeze()
        pre_fork(server, worker)

    return hook


def read_pid(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" not in f.read()
    except OSError:
        return False


def children(pid: int) -> set[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return {int(p) for p in f.read().split()}
    except OSError:
        return set()


class NewMaster:
    """The master an old one forks and execs on USR2, from the signal until it serves (its
    pidfile.2 names it): it loads the app before that when the app is preloaded, so a release
    that cannot even be imported ends it there — seen here at once, not after the timeout."""

    def __init__(self, old: int, pidfile: str):
        self.old, self.pidfile, self.before, self.seen = old, pidfile, children(old), None

    def serving(self) -> int | None:
        pid = read_pid(f"{self.pidfile}.2")
        if pid and pid != self.old and alive(pid):
            return pid
        self.seen = self.seen or self.exec_child()
        if self.seen and not alive(self.seen):
            raise RuntimeError(f"the new master (pid {self.seen}) exited while starting: see the program's log")
        return None

    def exec_child(self) -> int | None:
        """The old master's new child whose environment names the old master as GUNICORN_PID
        (gunicorn sets it for the exec; a worker carries the old master's own environment)."""
        mark = f"GUNICORN_PID={self.old}".encode()
        for pid in children(self.old) - self.before:
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if mark in f.read().split(b"\0"):
                        return pid
            except OSError:
                continue
        return None


class Keeper:
    def __init__(self, pidfile: str, status: str, gunicorn_args: list[str]):
        self.pidfile, self.status = pidfile, status
        env = {**os.environ, GUNICORN_MODE: "1"}
        self.master = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--", *gunicorn_args], env=env).pid
        self.upgrading = threading.Lock()

    def forward(self, signum: int, _frame: object) -> None:
        if signum == signal.SIGUSR2:
            if self.upgrading.acquire(blocking=False):
                threading.Thread(target=self.upgrade, daemon=True).start()
            return
        try:
            os.kill(self.master, signum)
        except ProcessLookupError:
            pass

    def report(self, **fields: object) -> None:
        tmp = f"{self.status}.tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps({"at": time.time(), **fields}) + "\n")
        os.replace(tmp, self.status)

    def upgrade(self) -> None:
        old = self.master
        try:
            if not self.until(lambda: read_pid(self.pidfile) == old or None):  # a master from the last upgrade
                raise RuntimeError(f"master {old} never took over {self.pidfile}")  # is promoted once its parent ends
            watch = NewMaster(old, self.pidfile)
            os.kill(old, signal.SIGUSR2)
            new = self.until(watch.serving)
            if new is None:
                raise RuntimeError(f"no new master wrote {self.pidfile}.2 within {UPGRADE_TIMEOUT:g}s")
            self.master = new
            os.kill(old, signal.SIGWINCH)
            os.kill(old, signal.SIGTERM)
            self.report(upgrade="ok", master=new, old=old)
        except (OSError, RuntimeError) as e:
            self.report(upgrade="failed", master=self.master, detail=f"{e}; the old master keeps serving")
        finally:
            self.upgrading.release()

    def until(self, found):  # noqa: ANN001, ANN201 - a poll: found() -> value or a false one
        deadline = time.monotonic() + UPGRADE_TIMEOUT
        while time.monotonic() < deadline and alive(self.master):
            value = found()
            if value:
                return value
            time.sleep(0.05)
        return None

    def wait(self) -> int:
        """Reap children (ours and the re-parented); leave with the current master's code."""
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                return 1
            if pid == self.master and not self.upgrading.locked():
                return os.waitstatus_to_exitcode(status)


def keep(argv: list[str]) -> int:
    if len(argv) < 3 or argv[2] != "--":
        print("usage: gunicorn_keeper.py PIDFILE STATUS -- GUNICORN-ARGS...", file=sys.stderr)
        return 2
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    keeper = Keeper(argv[0], argv[1], argv[3:])
    for signum in (*FORWARDED, signal.SIGUSR2):
        signal.signal(signum, keeper.forward)
    return keeper.wait()


if __name__ == "__main__":
    if os.environ.get(GUNICORN_MODE):
        run_gunicorn()
    else:
        sys.exit(keep(sys.argv[1:]))
