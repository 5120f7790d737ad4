"""HAProxy's runtime API (the admin socket): `set server B/S state drain|ready` and `show stat`.

HAProxy answers errors as text, not exit codes: any answer to a `set` other than a
bare newline is a failure. One command per connection (HAProxy closes after answering).
"""

from __future__ import annotations

import csv
import io
import socket
import threading
import time
from typing import TYPE_CHECKING

from deploy.loadbalancer.base import BalancerError, LoadBalancer, ServerState

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import HaproxyConfig, HostConfig

POLL_SECONDS = 0.1


class HaproxyBalancer(LoadBalancer):
    def __init__(self, config: "HaproxyConfig", io_timeout: float = 5.0):
        self.config = config
        self.io_timeout = io_timeout

    def server(self, host: "HostConfig") -> str:
        return host.haproxy_server or host.name

    def where(self, host: "HostConfig") -> dict[str, str]:
        return {"backend": self.config.backend, "server": self.server(host)}

    def command(self, line: str, host: str = "haproxy") -> str:
        """Send one command; return HAProxy's whole answer. The admin socket takes one command per
        connection and has a short listen queue, so a fleet's commands go one at a time (per
        socket, in this process) and a full queue (EAGAIN) is retried briefly."""
        family, address = _address(self.config.socket)
        with _socket_lock(self.config.socket):
            for attempt in range(CONNECT_ATTEMPTS):
                try:
                    return self._exchange(family, address, line)
                except BlockingIOError:
                    if attempt + 1 == CONNECT_ATTEMPTS:
                        raise BalancerError(host, line, f"admin socket {self.config.socket}: busy") from None
                    time.sleep(0.02 * (attempt + 1))
                except OSError as e:
                    raise BalancerError(host, line, f"admin socket {self.config.socket}: {e}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, family: int, address, line: str) -> str:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(self.io_timeout)
            s.connect(address)
            s.sendall(line.encode() + b"\n")
            return b"".join(iter(lambda: s.recv(65536), b"")).decode("utf-8", "replace")

    def _set_state(self, host: "HostConfig", state: str) -> None:
        line = f"set server {self.config.backend}/{self.server(host)} state {state}"
        answer = self.command(line, host.name)
        if answer.strip():
            raise BalancerError(host.name, line, answer.strip())

    def state(self, host: "HostConfig") -> ServerState:
        server = self.server(host)
        rows = csv.DictReader(io.StringIO(self.command("show stat", host.name).lstrip("# ")))
        for row in rows:
            if row.get("pxname") == self.config.backend and row.get("svname") == server:
                return ServerState(server, row.get("status", ""), int(row.get("scur") or 0) + int(row.get("qcur") or 0))
        raise BalancerError(host.name, "show stat", f"no server {server!r} in backend {self.config.backend!r}")

    def drain(self, host: "HostConfig", timeout: float | None = None) -> bool:
        self._set_state(host, "drain")
        deadline = time.monotonic() + (self.config.drain_timeout if timeout is None else timeout)
        while self.state(host).sessions > 0:
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)
        return True

    def ready(self, host: "HostConfig", timeout: float | None = None, wait: bool = True) -> None:
        self._set_state(host, "ready")
        if not wait:
            return
        limit = self.config.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while not (current := self.state(host)).up:
            if time.monotonic() >= deadline:
                raise BalancerError(host.name, "ready", f"server is {current.status}, not UP, after {limit:g}s")
            time.sleep(POLL_SECONDS)


CONNECT_ATTEMPTS = 10
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _socket_lock(spec: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(spec, threading.Lock())


def _address(spec: str) -> tuple[int, object]:
    """`/path/admin.sock` or `unix:///path` -> AF_UNIX; `tcp://host:port` -> AF_INET."""
    if spec.startswith("tcp://"):
        host, _, port = spec[len("tcp://"):].rpartition(":")
        return socket.AF_INET, (host, int(port))
    return socket.AF_UNIX, spec.removeprefix("unix://")
