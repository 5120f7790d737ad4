"""The task decorator every Shipyard task uses: any exception becomes one clean line on
stderr and a meaningful exit code (deploy/exits.py). A number option given
something else (`--lock-wait 1.5`) is a parse error naming the option."""

from __future__ import annotations

import functools
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


def shipyard_task(*dargs: Any, **dkwargs: Any) -> Any:
    """Same arguments as invoke's @task."""

    def decorate(body: Callable[..., Any]) -> Any:
        @functools.wraps(body)
        def run(c: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return body(c, *args, **kwargs)
            except Exit:
                raise
            except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - the one place every failure turns into an exit
                from deploy.exits import failure  # imported when a task fails: `invoke --list` stays light

                message, code = failure(e)
                raise Exit(message, code=code) from None

        return invoke_task(klass=ShipyardTask, **dkwargs)(run)

    if dargs and callable(dargs[0]) and not dkwargs:
        return decorate(dargs[0])
    return decorate
