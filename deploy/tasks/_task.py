"""The task decorator every Shipyard task uses: ShipyardError becomes a clean
message on stderr and a meaningful exit code (0 ok, 1 a step failed, 2 bad
config or usage, 130 interrupted), never a traceback. A number option given
something else (`--lock-wait 1.5`) is a parse error naming the option."""

from __future__ import annotations

import functools
from typing import Any, Callable

from invoke import Exit, Task, task as invoke_task
from invoke.exceptions import ParseError

from deploy.errors import ShipyardError
from deploy.secrets import redact


class ShipyardTask(Task):
    """invoke's Task, whose INT options refuse a non-number with a message instead of a traceback."""

    def get_arguments(self, *args: Any, **kwargs: Any) -> Any:
        arguments = super().get_arguments(*args, **kwargs)
        for argument in arguments:
            if argument.kind is int:
                argument.set_value = _whole_number(argument)
        return arguments


def _whole_number(argument: Any) -> Callable[..., None]:
    parse = argument.set_value

    def set_value(value: Any, cast: bool = True) -> None:
        if cast and not str(value).strip().lstrip("+-").isdigit():
            raise ParseError(f"--{argument.name.replace('_', '-')}: {value!r} is not a whole number")
        parse(value, cast=cast)

    return set_value


def shipyard_task(*dargs: Any, **dkwargs: Any) -> Any:
    """Same arguments as invoke's @task."""

    def decorate(body: Callable[..., Any]) -> Any:
        @functools.wraps(body)
        def run(c: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return body(c, *args, **kwargs)
            except ShipyardError as e:
                raise Exit(f"shipyard: {redact(str(e))}", code=e.exit_code) from None
            except KeyboardInterrupt:
                raise Exit("shipyard: interrupted", code=130) from None

        return invoke_task(klass=ShipyardTask, **dkwargs)(run)

    if dargs and callable(dargs[0]) and not dkwargs:
        return decorate(dargs[0])
    return decorate
