"""A hand-written stand-in for `pypsexec.client.Client` (the one mocked boundary, see
docs/windows.md): it records every call and hands the command to a responder, usually
the scripts' contract model."""

from __future__ import annotations

import inspect

from pypsexec.client import Client


class StandInClient:
    """Records every call; `fail` maps a method name to the exception it raises."""

    def __init__(self, responder, fail=None, calls=None):
        self.responder, self.fail, self.calls = responder, fail or {}, calls if calls is not None else []

    def __call__(self, server, **kwargs):
        inspect.signature(Client).bind(server, **kwargs)  # the real constructor must accept the call
        self.calls.append(("Client", server, kwargs.get("username"), kwargs.get("port", 445), kwargs.get("encrypt", True)))
        return self

    def _step(self, name, *args):
        self.calls.append((name, *args))
        if name in self.fail:
            raise self.fail[name]

    def connect(self, timeout=60):
        self._step("connect", timeout)

    def create_service(self):
        self._step("create_service")

    def run_executable(self, executable, arguments=None, stdin=None, timeout_seconds=0, **kwargs):
        unknown = set(kwargs) - set(inspect.signature(Client.run_executable).parameters)
        assert not unknown, f"pypsexec's run_executable has no parameter(s) {unknown}"
        # pypsexec's contract: bytes, or a generator *function* it calls (`for d in stdin():`)
        pieces = [] if stdin is None else [stdin] if isinstance(stdin, bytes) else list(stdin())
        self.stdin_pieces = [len(p) for p in pieces]
        data = b"".join(pieces)
        self._step("run_executable", executable, timeout_seconds, tuple(sorted(kwargs)))
        return self.responder(f"{executable} {arguments}", data)

    def remove_service(self):
        self._step("remove_service")

    def disconnect(self):
        self._step("disconnect")
