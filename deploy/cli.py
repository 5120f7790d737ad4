"""`shipyard` console script: invoke's Program with Shipyard's collection."""

from __future__ import annotations

from invoke import Program

from deploy import __version__


def main() -> None:
    from deploy.tasks import ns

    Program(namespace=ns, version=__version__, name="Shipyard", binary="shipyard").run()
