"""This repository's invoke tasks: Shipyard's collection, and an example of a project's own.

A project using Shipyard writes the same two lines, then adds its own tasks or
Python stage hooks, e.g.:

    from deploy.engine.stages import after

    @after("finishing")
    def announce(ctx):
        print(f"{ctx.env_name} is on {ctx.release_id}")
"""

from deploy.tasks import ns  # noqa: F401  (invoke looks for `ns`)
