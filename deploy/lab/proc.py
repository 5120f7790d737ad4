"""Small process helpers for the lab: run a command or fail with a LabError, wait for a
port, stop a daemon by pid (checking /proc status, since a reaped-late zombie still passes kill -0)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from deploy.lab import LabError


def sh(*argv: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise LabError(f"lab: `{' '.join(argv)}` exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return proc


def wait_port(address: str, port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise LabError(f"lab: nothing listens on {address}:{port} after {timeout:g}s") from None
            time.sleep(0.02)


def wait_file(path: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise LabError(f"lab: {path} did not appear within {timeout:g}s")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def stop_pid(pid: int, timeout: float = 5) -> None:
    """TERM, wait, then KILL: the daemon is gone when this returns."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not alive(pid):
            return


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
