"""Is the run that holds a lock (or left a run record) provably gone?

Only on the machine it ran on can we know: its record names the machine, the
kernel's boot id, the pid and that process's start time. A different boot id
means the machine rebooted; a pid that is not running, or runs a process that
started at another time (a reused pid), means the holder is dead. Anywhere else,
nothing is proven and the lock stands until its TTL.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return ""


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat from field 3 on (the command name, field 2, may hold spaces), [] if unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return []


def start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), "" if unknown."""
    fields = _stat_fields(pid)
    return fields[19] if len(fields) > 19 else ""


def parent_of(pid: int) -> int:
    """The parent's pid (/proc/<pid>/stat field 4), 0 if unknown."""
    fields = _stat_fields(pid)
    return int(fields[1]) if len(fields) > 1 else 0


def identity() -> dict[str, Any]:
    """What a lock or run record says about the process that wrote it."""
    pid = os.getpid()
    return {"machine": socket.gethostname(), "pid": pid, "boot_id": boot_id(), "pid_started": start_time(pid)}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def started_us(record: dict[str, Any]) -> bool:
    """Whether the writer of `record` is provably this process or one of its ancestors (the run
    whose hook started us): same machine and boot, a pid on our chain of parents, started when
    the record says. A token in the environment alone proves nothing: it leaks into shells, CI
    steps and test runners that no hook started."""
    if record.get("machine") != socket.gethostname() or not record.get("boot_id") or record["boot_id"] != boot_id():
        return False
    try:
        pid = int(record["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    current, seen = os.getpid(), set()
    while current > 0 and current not in seen:
        if current == pid:
            return start_time(pid) == record.get("pid_started")
        seen.add(current)
        current = parent_of(current)
    return False


def stale_reason(record: dict[str, Any]) -> str | None:
    """Why the writer of `record` is provably gone, or None when that cannot be proven from here."""
    machine = record.get("machine")
    if not machine or machine != socket.gethostname():
        return None
    if record.get("boot_id") and boot_id() and record["boot_id"] != boot_id():
        return f"{machine} has rebooted since the lock was taken"
    try:
        pid = int(record["pid"])
    except (KeyError, TypeError, ValueError):
        return None
    if pid == os.getpid():
        return None
    if not alive(pid):
        return f"pid {pid} is no longer running on {machine}"
    if record.get("pid_started") and start_time(pid) not in ("", record["pid_started"]):
        return f"pid {pid} on {machine} is now another process"
    return None
