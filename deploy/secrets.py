"""Secrets: named in shipyard.toml by environment variable, never stored there.

A `Secret` never prints its value. Every value ever loaded is registered, and
`scrub()`/`redact()` is the one choke point every sink goes through before it
writes: the event bus (terminal, --events, JUnit, HTML, webhook), the host
records (journal, release.json, lock), the run record and the CLI's error line.
A value is registered whole, line by line (a PEM key whose output is cut to its
last lines still vanishes) and in the escaped forms it takes inside JSON or a
Python repr.

The environment variable a secret is read from is withheld from this process's
environment once a deploy, rollback or any task that runs commands has read it
(`withhold`), so no child process (hook, tar, supervisord, the app) inherits it;
hooks and the app get the secret under its own name, on stdin or from a 0600 file.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
from typing import Any, Iterable

_KNOWN: set[str] = set()
_WITHHELD: dict[str, str] = {}
MASK = "********"
MIN_REDACTED = 4  # shorter values would mask ordinary words ("x" in "exit_code"); such secrets are refused


def _forms(value: str) -> set[str]:
    """The spellings of `value` that text may carry: whole, each line, JSON- and repr-escaped."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], repr(value)[1:-1]}
    for line in value.splitlines():  # \n, \r\n, \r and every other line boundary a terminal may honour
        forms |= {line, line.strip()}
    return {f for f in forms if len(f) >= MIN_REDACTED}


def register(value: str) -> None:
    _KNOWN.update(_forms(value))


class Secret:
    """A value that redacts itself in str(), repr() and f-strings."""

    __slots__ = ("_value", "name")

    def __init__(self, name: str, value: str):
        self.name = name
        self._value = value
        if len(value) >= MIN_REDACTED:
            register(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, {MASK!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return MASK


def withhold(env_vars: Iterable[str]) -> None:
    """Take these variables out of os.environ (keeping their values here), so that no child
    process inherits them."""
    for var in env_vars:
        if var in os.environ:
            _WITHHELD[var] = os.environ.pop(var)


def load_secret(name: str, env_var: str, environ: dict[str, str] | None = None) -> Secret | None:
    """None when the variable is unset; ConfigError when the value is too short to redact."""
    source = os.environ if environ is None else environ
    value = source.get(env_var)
    if value is None and environ is None:
        value = _WITHHELD.get(env_var)  # read once already, then withheld from children
    if value is not None and (len(value) < MIN_REDACTED or value in MASK):
        from deploy.errors import ConfigError

        why = "fewer than 4 characters: too short" if len(value) < MIN_REDACTED else "only asterisks: indistinguishable from the mask"
        raise ConfigError("environment", [f"secrets.{name}: environment variable {env_var} holds {why} to keep out of logs"])
    return None if value is None else Secret(name, value)


def redact(text: str) -> str:
    """Replace every known secret value in `text` (longest first, so prefixes don't leak)."""
    for value in sorted(_KNOWN, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


def scrub(value: Any) -> Any:
    """A JSON-ready copy of `value` with every string redacted (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))  # Path, Secret (already masks itself), exceptions...


def stdin_exports(secrets: dict[str, Secret]) -> tuple[str, bytes]:
    """A POSIX sh prologue that reads one base64 line per secret from stdin and exports it,
    with the bytes to feed it. Secrets travel on stdin, never on a command line, and arrive
    byte for byte (newlines, trailing newlines, any UTF-8) — `read` takes one line, base64 -d
    restores it, and the trailing `x` keeps $(...) from eating final newlines."""
    if not secrets:
        return "", b""
    names = " ".join(shlex.quote(n) for n in secrets)
    prologue = (
        f"for __n in {names}; do IFS= read -r __v; __v=$(printf '%s' \"$__v\" | base64 -d; printf x);"
        f" export \"$__n=${{__v%x}}\"; done; unset __n __v\n"
    )
    data = b"".join(base64.b64encode(s.reveal().encode("utf-8")) + b"\n" for s in secrets.values())
    return prologue, data


def env_file(values: dict[str, str]) -> str:
    """`export NAME='value'` lines a POSIX sh sources to get exactly these values (any bytes but NUL)."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in values.items())
