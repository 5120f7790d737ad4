"""Settings in shipyard.toml that would hurt, refused when the file loads: paths and placeholders.

(deploy.config calls these with its models; this module cannot import them back.)

A deploy_to is where Shipyard creates, prunes and deletes directories, so it must
be absolute on a remote host, never a filesystem root, never the project or one
of its ancestors, and never an ancestor of (or the same as) another environment's
or host's deploy_to on the same machine — retention in one would delete the
other's releases. linked_dirs/linked_files are replaced by links on every deploy
(`rm -rf app/<path>`), so each must name one plain path inside the app.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath
from string import Formatter
from typing import Any, Callable, Iterator


LOOPBACK = ("localhost", "::1")


def bad_character(text: str) -> str | None:
    """Why `text` cannot be a path in a config Shipyard renders (newline, control character)."""
    for ch in text:
        if ch == "\n":
            return "a newline"
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            return f"control character U+{ord(ch):04X}"
    return None


def linked_path_problem(path: str) -> str | None:
    """Why a linked_dirs/linked_files entry is unsafe, or None."""
    if not path:
        return "must not be empty"
    if why := bad_character(path):
        return f"contains {why}"
    if "\\" in path:
        return "use / between path parts, not a backslash"
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return "must be relative to the app"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "must be a plain relative path: no '.', '..', empty part or trailing '/'"
    return None


def overlapping(paths: list[str]) -> str | None:
    """Two entries where one is the other or lies inside it (one rm -rf would undo the other's link)."""
    for i, a in enumerate(paths):
        for b in paths[i + 1:]:
            if a == b or b.startswith(a + "/") or a.startswith(b + "/"):
                return f"{a!r} and {b!r} overlap"
    return None


def deploy_to_problem(path: str, windows: bool, local: bool) -> str | None:
    """Why one deploy_to is unsafe on its own (before it is resolved), or None."""
    if not path:
        return "must not be empty"
    if why := bad_character(path):
        return f"contains {why}"
    flavour = PureWindowsPath if windows else PurePosixPath
    p = flavour(path)
    if not local and not p.is_absolute():
        return f"must be an absolute path on the host, got {path!r}"
    if p.is_absolute() and p == flavour(p.anchor):
        return f"must not be the filesystem root {path!r}"
    return None


def machine(host: Any) -> str:
    """Hosts on one machine share a filesystem: this machine for local (and SSH to loopback)."""
    target = host.target
    if host.transport == "local" or target in LOOPBACK or target.startswith("127."):
        return "this machine"
    return f"{'windows' if host.is_windows else 'posix'}:{target.lower()}"


def contains(outer: str, inner: str, windows: bool) -> bool:
    if windows:
        outer, inner = outer.lower().replace("/", "\\").rstrip("\\"), inner.lower().replace("/", "\\").rstrip("\\")
        return inner == outer or inner.startswith(outer + "\\")
    outer, inner = os.path.normpath(outer), os.path.normpath(inner)
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


def roots(envs: dict[str, Any], resolve: Callable[[str], Any]) -> Iterator[tuple[str, str, str, bool]]:
    """(key path, machine, resolved deploy_to, windows) for every host of every environment."""
    for name, env in envs.items():
        for i, host in enumerate(env.hosts):
            raw = env.host_deploy_to(host)
            key = f"env.{name}.hosts[{i}].deploy_to" if host.deploy_to else f"env.{name}.deploy_to"
            where = str(resolve(raw)) if host.transport == "local" else raw
            yield key, machine(host), where, host.is_windows


def root_problems(envs: dict[str, Any], project_root: str, resolve: Callable[[str], Any]) -> list[str]:
    """Every deploy_to that is the project, holds it, or nests with another one on its machine."""
    found, problems = list(roots(envs, resolve)), []
    for key, where_machine, where, windows in found:
        if where_machine == "this machine" and not windows and contains(where, project_root, False):
            problems.append(f"{key}: {where} is the project directory or one of its parents")
    for i, (key_a, m_a, a, win) in enumerate(found):
        for key_b, m_b, b, _ in found[i + 1:]:
            if m_a == m_b and (contains(a, b, win) or contains(b, a, win)):
                how = "is the same directory as" if contains(a, b, win) and contains(b, a, win) else "nests with"
                problems.append(f"{key_b}: {b} {how} {key_a} ({a}) on {m_a}: each needs its own directory")
    return list(dict.fromkeys(problems))


HEALTH_PLACEHOLDERS = ("address", "app_port", "name")
SERVICE_PLACEHOLDERS = ("deploy_to", "current", "host", "address", "app_port")  # deploy.services.common.expand


def known_placeholders(text: str | None, allowed: tuple[str, ...]) -> str | None:
    """A templated setting may only name `allowed` placeholders, plainly (`{address}`, no
    attributes, indexes, conversions or format specs); `{{`/`}}` are literal braces."""
    if text is None:
        return None
    known = ", ".join("{" + a + "}" for a in allowed)
    try:
        fields = [(f, conv, spec) for _, f, spec, conv in Formatter().parse(text) if f is not None]
    except ValueError as e:
        raise ValueError(f"{e} in {text!r} (placeholders: {known}; write {{{{ and }}}} for literal braces)") from None
    for field, conversion, spec in fields:
        if field not in allowed or conversion or spec:
            shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(f"unknown placeholder {shown} (placeholders: {known}; write {{{{ and }}}} for literal braces)")
    return text


_LOCK_UNITS = {"": 1, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def lock_timeout_problem(text: str) -> str | None:
    """Why PostgreSQL's lock_timeout would refuse `text` (milliseconds, or a whole number with
    one of the server's units, at most INT_MAX ms), or None: checked before a script is made."""
    m = re.fullmatch(r"([0-9]{1,10})(ms|s|min|h|d)?", text)
    if m is None:
        return f"{text!r} is not a duration like 500ms, 5s or 1min"
    if int(m.group(1)) * _LOCK_UNITS[m.group(2) or ""] > 2**31 - 1:
        return f"{text!r} is longer than PostgreSQL's limit (2147483647ms, about 24 days)"
    return None
