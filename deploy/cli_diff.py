"""The console script's own `shipyard db.diff`: the same compare as the invoke task
(deploy/db/compare_cli.py), reached without importing invoke, the task collection or the
config models — about a third of the CPU of a whole diff. It takes only what it can parse
and load exactly as invoke and deploy.config would: long options of the task, a config with
nothing in it that db.diff reads (deploy/config_lean.py). For anything else (--help, a short
flag, an unknown option, a second task, a config with settings) `run` answers None before
doing anything and the caller hands argv to invoke's Program, which says what invoke says."""

from __future__ import annotations

import os
import sys
from typing import Any

# long option -> (keyword of the task's function, takes a value); a unit test checks these
# against the options invoke gives the db.diff task
OPTIONS = {
    "env": ("env", True), "from": ("from_", True), "to": ("to", True), "config": ("config", True),
    "rename": ("rename", True), "allow-destructive": ("allow_destructive", False),
    "with-privileges": ("with_privileges", False), "skip-destructive": ("skip_destructive", False),
    "concurrently": ("concurrently", False), "with-owners": ("with_owners", False),
    "lock-timeout": ("lock_timeout", True),
}
REPEATABLE = {"rename"}


def parse(args: list[str]) -> dict[str, Any] | None:
    """The task's keyword arguments from `args` (what follows `db.diff`), or None when they
    are not plainly the task's long options with their values."""
    values: dict[str, Any] = {}
    i = 0
    while i < len(args):
        name, eq, value = args[i].partition("=")
        option = OPTIONS.get(name[2:]) if name.startswith("--") else None
        if option is None:
            return None
        key, takes_value = option
        if not takes_value:
            if eq or key in values:
                return None
            values[key] = True
        else:
            if not eq:
                i += 1
                if i == len(args):
                    return None
                value = args[i]
            if not value or value.startswith("-"):
                return None
            if key in REPEATABLE:
                values.setdefault(key, []).append(value)
            elif key in values:
                return None
            else:
                values[key] = value
        i += 1
    return values


def run(args: list[str]) -> int | None:
    """db.diff's exit code, or None (nothing done) when invoke's Program should run `args`."""
    if os.environ.get("INVOKE_DEBUG"):  # invoke's own debug logging: only invoke prints it
        return None
    values = parse(args)
    if values is None:
        return None
    from deploy.config_lean import lean_config

    from_, to = values.get("from_", "live"), values.get("to")
    found = lean_config(values.get("config"), values.get("env", "local"), from_ != "live" and to not in (None, "live"))
    if found is None:
        return None
    values.pop("env", None)
    values.pop("config", None)
    try:
        from deploy.db.compare_cli import compare_cli

        compare_cli(*found, **values)
    except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - as the task decorator does (deploy/exits.py)
        from deploy.exits import failure

        message, code = failure(e)
        print(message, file=sys.stderr)
        return code
    return 0
