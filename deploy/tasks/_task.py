"""The task decorator every Shipyard task uses: any exception becomes one clean line on
stderr and a meaningful exit code (0 ok, 1 a step failed or something unexpected broke,
2 bad config or usage, 130 interrupted), never a traceback — unless SHIPYARD_DEBUG=1
(or invoke's --debug) asks for one, and then it is redacted too. A number option given
something else (`--lock-wait 1.5`) is a parse error naming the option."""

from __future__ import annotations

import functools
import logging
import os
import sys
import traceback
from typing import Any, Callable

from invoke import Exit, Task, task as invoke_task
from invoke.exceptions import ParseError
from invoke.parser import Argument


class CheckedArgument(Argument):
    """An invoke Argument whose INT value must be a whole number: a clear parse error, not
    int()'s traceback. (A class, not a patched method: invoke deep-copies its arguments.)"""

    def set_value(self, value: Any, cast: bool = True) -> None:
        if cast and self.kind is int and not str(value).strip().lstrip("+-").isdigit():
            raise ParseError(f"--{self.name.replace('_', '-')}: {value!r} is not a whole number")
        super().set_value(value, cast=cast)


class ShipyardTask(Task):
    """invoke's Task, with CheckedArgument for its options."""

    def get_arguments(self, *args: Any, **kwargs: Any) -> Any:
        arguments = super().get_arguments(*args, **kwargs)
        for argument in arguments:
            argument.__class__ = CheckedArgument
        return arguments


DEBUG_VAR = "SHIPYARD_DEBUG"


def exit_code_of(error: BaseException) -> int:
    from deploy.errors import ShipyardError  # imported when a task fails: `invoke --list` stays light

    if isinstance(error, ShipyardError):
        return error.exit_code
    if isinstance(error, KeyboardInterrupt):
        return 130
    return 1


def debugging() -> bool:
    return os.environ.get(DEBUG_VAR, "") not in ("", "0") or logging.getLogger().isEnabledFor(logging.DEBUG)


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


def shipyard_task(*dargs: Any, **dkwargs: Any) -> Any:
    """Same arguments as invoke's @task."""

    def decorate(body: Callable[..., Any]) -> Any:
        @functools.wraps(body)
        def run(c: Any, *args: Any, **kwargs: Any) -> Any:
            from deploy.secrets import redact  # imported when a task runs: `invoke --list` stays light

            try:
                return body(c, *args, **kwargs)
            except Exit:
                raise
            except KeyboardInterrupt:
                raise Exit("shipyard: interrupted", code=130) from None
            except Exception as e:  # noqa: BLE001 - the one place every failure turns into an exit
                if debugging():
                    sys.stderr.write(redact("".join(traceback.format_exception(e))))
                raise Exit(f"shipyard: {redact(message_of(e))}", code=exit_code_of(e)) from None

        return invoke_task(klass=ShipyardTask, **dkwargs)(run)

    if dargs and callable(dargs[0]) and not dkwargs:
        return decorate(dargs[0])
    return decorate
