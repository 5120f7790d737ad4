"""`invoke build`: one artifact from an exact revision, its path and sha256 on the last two lines."""

from __future__ import annotations

from typing import Any

from deploy.tasks._task import shipyard_task


@shipyard_task(
    help={
        "rev": "branch, tag or commit to build (default: the working copy's revision)",
        "allow_dirty": "build the working tree even with uncommitted changes (the manifest says dirty)",
        "config": "path to shipyard.toml (default: found upward from the current directory)",
    }
)
def build(c: Any, rev: str | None = None, allow_dirty: bool = False, config: str | None = None) -> Any:
    """Build an artifact: exported tree, wheelhouse, static files, manifest."""
    from deploy.artifact import build_artifact
    from deploy.config import load

    result = build_artifact(load(config), rev=rev, allow_dirty=allow_dirty, log=lambda line: print(f"  {line}", flush=True))
    print(f"artifact: {result.path}")
    print(f"sha256: {result.sha256}")
    return result
