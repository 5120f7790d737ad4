"""`shipyard` console script: invoke's Program with Shipyard's collection; `db.diff` takes a
lean path of its own when it can (deploy/cli_diff.py), with the same output."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["db.diff"]:
        from deploy.cli_diff import run

        code = run(sys.argv[2:])
        if code is not None:  # done: the output is flushed and nothing else is left to run or close
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)  # not freeing the two catalogs' ~100,000 objects one by one (~20 ms)
    from invoke import Program

    from deploy import __version__
    from deploy.tasks import ns

    Program(namespace=ns, version=__version__, name="Shipyard", binary="shipyard").run()
