"""The task decorator every Shipyard task uses: ShipyardError becomes a clean
message on stderr and a meaningful exit code (0 ok, 1 a step failed, 2 bad
config or usage, 130 interrupted), never a traceback."""

from __future__ import annotations

import functools
from typing import Any, Callable

from invoke import Exit, task as invoke_task


def shipyard_task(*dargs: Any, **dkwargs: Any) -> Any:
    """Same arguments as invoke's @task."""

    def decorate(body: Callable[..., Any]) -> Any:
        @functools.wraps(body)
        def run(c: Any, *args: Any, **kwargs: Any) -> Any:
            from deploy.errors import ShipyardError  # imported when a task runs: `invoke --list` stays light
            from deploy.secrets import redact

            try:
                return body(c, *args, **kwargs)
            except ShipyardError as e:
                raise Exit(f"shipyard: {redact(str(e))}", code=e.exit_code) from None
            except KeyboardInterrupt:
                raise Exit("shipyard: interrupted", code=130) from None

        return invoke_task(**dkwargs)(run)

    if dargs and callable(dargs[0]) and not dkwargs:
        return decorate(dargs[0])
    return decorate
