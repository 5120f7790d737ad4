"""Secrets: named in shipyard.toml by environment variable, never stored there.

A `Secret` never prints its value; every value ever loaded is registered so
`redact()` can scrub it from any text bound for a log, journal, event or report.
"""

from __future__ import annotations

import os
import shlex

_KNOWN: set[str] = set()
MASK = "********"
MIN_REDACTED = 4  # shorter values would mask ordinary words ("x" in "exit_code"); such secrets are refused


class Secret:
    """A value that redacts itself in str(), repr() and f-strings."""

    __slots__ = ("_value", "name")

    def __init__(self, name: str, value: str):
        self.name = name
        self._value = value
        if len(value) >= MIN_REDACTED:
            _KNOWN.add(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, {MASK!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return MASK


def load_secret(name: str, env_var: str, environ: dict[str, str] | None = None) -> Secret | None:
    """None when the variable is unset; ConfigError when the value is too short to redact."""
    value = (os.environ if environ is None else environ).get(env_var)
    if value is not None and len(value) < MIN_REDACTED:
        from deploy.errors import ConfigError

        raise ConfigError("environment", [f"secrets.{name}: environment variable {env_var} holds fewer than "
                                          f"{MIN_REDACTED} characters: too short to keep out of logs"])
    return None if value is None else Secret(name, value)


def redact(text: str) -> str:
    """Replace every known secret value in `text` (longest first, so prefixes don't leak)."""
    for value in sorted(_KNOWN, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


def stdin_exports(secrets: dict[str, Secret]) -> tuple[str, bytes]:
    """A POSIX sh prologue that reads `NAME=value` lines from stdin and exports them,
    with the bytes to feed it. Secrets travel on stdin, never on a command line."""
    if not secrets:
        return "", b""
    names = " ".join(shlex.quote(n) for n in secrets)
    prologue = (
        f"for __n in {names}; do IFS= read -r __v; export \"$__n=$__v\"; done; unset __n __v\n"
    )
    data = "".join(s.reveal().replace("\n", " ") + "\n" for s in secrets.values()).encode()
    return prologue, data
