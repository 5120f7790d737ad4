"""The host side of the managed supervisord: standard library only, sent as `python -I -S -c`
with one JSON request on stdin, answering one JSON line on stdout.

Why one script: each `supervisorctl` call is a Python start that imports supervisor
(~0.1 CPU-s), and a restart used to make one per poll of the program's state — on a
16-host farm sharing two cores that polling alone kept the CPU busy. Here one process
writes the changed files, starts supervisord or talks to it over its unix socket
(XML-RPC, what supervisorctl itself speaks), signals or (re)starts the program and
waits for it, polling in-process.

Requests (`op`): `serve` (see serve()), `stop` (the program), `shutdown` (supervisord).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import xmlrpc.client

POLL = 0.05


class Refused(Exception):
    """A step the request cannot complete: the answer's `error`."""


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: str, timeout: float):
        super().__init__()
        self.unix_path, self.io_timeout = path, timeout

    def make_connection(self, host):  # noqa: ANN001, ANN201 - xmlrpc.client's signature
        return UnixConnection(self.unix_path, self.io_timeout)


def rpc(req: dict):  # noqa: ANN201 - the supervisor namespace of an xmlrpc ServerProxy
    proxy = xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=UnixTransport(req["socket"], req["timeout"]))
    return proxy.supervisor


def answering(req: dict) -> bool:
    try:
        rpc(req).getPID()
        return True
    except (OSError, xmlrpc.client.Error):
        return False


def state(req: dict) -> str:
    try:
        return rpc(req).getProcessInfo(req["program"])["statename"]
    except xmlrpc.client.Fault as e:
        return e.faultString.split(":")[0]


def write_changed(directory: str, files: dict) -> set:
    """Each file (0600) that does not already hold its text; returns the paths written."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    changed = set()
    for path, text in files.items():
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
        changed.add(path)
    return changed


PRELOADED = "preloaded "


def runtime(req: dict) -> str:
    """What serves the new release: its dependency env and the interpreter binary (the text
    `readlink -f` and `stat -L -c %d:%i:%Y:%s` printed in earlier versions, so a host they
    deployed compares equal) and, when the app is preloaded (gunicorn `--preload`: the master
    imported it, a HUP only forks new workers from that import), the release itself."""
    lines = [os.path.realpath(req["current"] + "/.deps")]
    found = shutil.which(req["python"])
    if found:
        st = os.stat(found)
        lines += [os.path.realpath(found), f"{st.st_dev}:{st.st_ino}:{int(st.st_mtime)}:{st.st_size}"]
    if req.get("preload"):
        lines.append(PRELOADED + os.path.realpath(req["current"]))
    return "".join(line + "\n" for line in lines)


def without_release(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(PRELOADED)]


def upgrade_reason(now: str, before: str) -> str | None:
    """Why the running master cannot serve `now` and a new one must (USR2); None when new
    workers of the running master will do (HUP)."""
    if now == before:
        return None
    if without_release(now) == without_release(before):
        return "the app is preloaded: a new master imports the new release"
    return "the interpreter or the dependency env changed"


def recorded(req: dict) -> str:
    try:
        with open(req["runtime_file"]) as f:
            return f.read()
    except OSError:
        return ""


def start_supervisord(req: dict) -> None:
    said = subprocess.run([req["python"], "-m", "supervisor.supervisord", "-c", req["conf"]],
                          capture_output=True, text=True, timeout=req["timeout"])
    deadline = time.monotonic() + req["timeout"]
    while not answering(req):
        if time.monotonic() > deadline:
            detail = (said.stdout + said.stderr).strip()[-500:]
            raise Refused(f"supervisord did not answer on {req['socket']}" + (f": {detail}" if detail else ""))
        time.sleep(POLL)


def update(req: dict) -> bool:
    """`supervisorctl update` for the program's group: True when it was added or changed (so started anew)."""
    sv, name = rpc(req), req["program"]
    added, changed, removed = sv.reloadConfig()[0]
    for group in removed + changed:
        sv.stopProcessGroup(group)
        sv.removeProcessGroup(group)
    for group in changed + added:
        sv.addProcessGroup(group)
    return name in added or name in changed


def tolerating(fault: str, call, *args):  # noqa: ANN001, ANN201 - an RPC whose one harmless fault is not an error
    try:
        return call(*args)
    except xmlrpc.client.Fault as e:
        if fault not in e.faultString:
            raise
        return None


def restart_program(req: dict) -> None:
    sv = rpc(req)
    tolerating("NOT_RUNNING", sv.stopProcess, req["program"])
    tolerating("ALREADY_STARTED", sv.startProcess, req["program"], False)


def settled_state(req: dict) -> str:
    """The program's state once it is past STARTING (a deploy right after another may find it
    still inside supervisord's `startsecs`): what it runs then is what the choice is about."""
    deadline = time.monotonic() + req["timeout"]
    while (seen := state(req)) == "STARTING" and time.monotonic() < deadline:
        time.sleep(POLL)
    return seen


def binary_upgrade(req: dict) -> None:
    """USR2 through the keeper (gunicorn_keeper.py), then wait for its verdict."""
    status = req["upgrade_status"]
    try:
        os.remove(status)
    except FileNotFoundError:
        pass
    rpc(req).signalProcess(req["program"], "USR2")
    deadline = time.monotonic() + req["timeout"]
    while time.monotonic() < deadline:
        try:
            with open(status) as f:
                said = f.read().strip()
        except OSError:
            said = ""
        if said:
            verdict = json.loads(said)
            if verdict.get("upgrade") != "ok":
                raise Refused(f"binary upgrade failed: {verdict.get('detail')}{last_logged(req)}")
            return
        time.sleep(POLL)
    raise Refused(f"binary upgrade gave no answer within {req['timeout']:g}s")


def last_logged(req: dict) -> str:
    """The program log's last line (an import error's own words), to name why it failed."""
    try:
        with open(f"{req['dir']}/{req['program']}.log", "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
            lines = [line.strip() for line in f.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return f" (last line of {req['program']}.log: {lines[-1][:300]})" if lines else ""


def listening(req: dict) -> bool:
    try:
        with socket.create_connection(tuple(req["bind"]), timeout=1.0):
            return True
    except OSError:
        return False


def wait_up(req: dict, how: str) -> str:
    """RUNNING; or, when a health check follows (`ready = "listening"`), STARTING with the app's
    port accepting connections (supervisord calls it RUNNING only `startsecs` after the spawn:
    the health check is the real gate, this only catches a program that never comes up)."""
    deadline = time.monotonic() + req["timeout"]
    while True:
        seen = state(req)
        if seen == "RUNNING" or (seen == "STARTING" and req["ready"] == "listening" and listening(req)):
            return seen
        if seen == "FATAL" or time.monotonic() > deadline:  # FATAL: supervisord gave up retrying
            raise Refused(f"{req['program']}: {seen} after {how}")
        time.sleep(POLL)


def serve(req: dict) -> dict:
    """Serve `current` without refusing a request: start supervisord (or the program) when it
    is not running, apply a changed program section, restart after a changed launcher, USR2
    when the dependency env or interpreter changed or the app is preloaded and the release
    changed, else HUP (new workers on the new code)."""
    program, now, before = req["program"], runtime(req), recorded(req)
    changed = write_changed(req["dir"], req["files"])
    if not answering(req):
        start_supervisord(req)
        how = f"{program} started"
    elif update(req):
        how = f"{program} started"
    elif req["launcher"] in changed:
        restart_program(req)
        how = f"{program} started"
    elif settled_state(req) != "RUNNING":
        tolerating("ALREADY_STARTED", rpc(req).startProcess, program, False)
        how = f"{program} started"
    elif (reason := upgrade_reason(now, before)) is not None:
        binary_upgrade(req)
        how = f"{program}: USR2 binary upgrade ({reason})"
    else:
        rpc(req).signalProcess(program, "HUP")
        how = f"{program}: HUP, new workers on the new code"
    write_changed(req["dir"], {req["runtime_file"]: now})
    return {"how": how, "state": wait_up(req, how)}


def stop(req: dict) -> dict:
    if answering(req):
        tolerating("NOT_RUNNING", rpc(req).stopProcess, req["program"])
    return {"how": f"{req['program']} stopped"}


def shutdown(req: dict) -> dict:
    if answering(req):
        rpc(req).shutdown()
    return {"how": "supervisord stopped"}


def main() -> int:
    req = json.load(sys.stdin)
    try:
        answer = {"ok": True, **{"serve": serve, "stop": stop, "shutdown": shutdown}[req["op"]](req)}
    except Refused as e:
        answer = {"ok": False, "error": str(e)}
    except xmlrpc.client.Fault as e:
        answer = {"ok": False, "error": f"supervisord: {e.faultString}"}
    except (OSError, subprocess.SubprocessError, xmlrpc.client.Error) as e:
        answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    print(json.dumps(answer), flush=True)
    return 0 if answer["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
