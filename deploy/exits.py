"""How a failure reaches the operator, whichever front end ran the work (an invoke task, or
the console script's own db.diff path, which never imports invoke): one clean line and a
meaningful exit code (0 ok, 1 a step failed or something unexpected broke, 2 bad config or
usage, 130 interrupted), never a traceback — unless SHIPYARD_DEBUG=1 (or invoke's --debug)
asks for one, and then it is redacted too."""

from __future__ import annotations

import os
import sys
import traceback

DEBUG_VAR = "SHIPYARD_DEBUG"


def exit_code_of(error: BaseException) -> int:
    from deploy.errors import ShipyardError  # imported when a task fails: `invoke --list` stays light

    if isinstance(error, ShipyardError):
        return error.exit_code
    if isinstance(error, KeyboardInterrupt):
        return 130
    return 1


def debugging() -> bool:
    logging = sys.modules.get("logging")  # never imported: nobody turned debug logging on
    return os.environ.get(DEBUG_VAR, "") not in ("", "0") or (
        logging is not None and logging.getLogger().isEnabledFor(logging.DEBUG))


def message_of(error: BaseException) -> str:
    """What the operator reads, on one line: the error's own text (a command's output tail joined
    with ` | `), or for an unexpected exception its type and first line (the traceback is for
    SHIPYARD_DEBUG=1). A config error keeps one line per bad key."""
    from deploy.errors import ConfigError, ShipyardError, one_line

    if isinstance(error, ConfigError):
        return str(error)
    if isinstance(error, ShipyardError):
        return " | ".join(line.strip() for line in str(error).splitlines() if line.strip())
    hint = "" if debugging() else f" (set {DEBUG_VAR}=1 for the traceback)"
    return f"unexpected {one_line(error)}{hint}"


def failure(error: BaseException) -> tuple[str, int]:
    """The line to print on stderr and the exit code for `error` (KeyboardInterrupt included);
    with debugging on, the redacted traceback is written to stderr first."""
    from deploy.secrets import redact

    if isinstance(error, KeyboardInterrupt):
        return "shipyard: interrupted", 130
    if debugging():
        sys.stderr.write(redact("".join(traceback.format_exception(error))))
    return f"shipyard: {redact(message_of(error))}", exit_code_of(error)
