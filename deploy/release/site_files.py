"""Files the deploy writes into a release beside the artifact: server configurations
rendered from the site model (validated by the real tools) and the app's settings
files with the environment's variables substituted. All of it is worked out on the
controller before any host is touched, so a bad config or a missing variable stops
the deploy while every host is still on its old release."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from deploy.errors import ArtifactError

if TYPE_CHECKING:  # pragma: no cover
    from deploy.engine.context import RunContext


def substituted_files(ctx: "RunContext", artifact: Path) -> dict[str, str]:
    """{"app/<path>": text} for every file the site model lists in `substitute`."""
    site = ctx.env.site
    if site is None or not site.substitute:
        return {}
    from deploy.siteconfig import substitute_text

    variables = {**site.variables, **ctx.secrets}
    out: dict[str, str] = {}
    with tarfile.open(artifact, "r:gz") as tar:
        for relative in site.substitute:
            member = f"app/{relative}"
            try:
                data = tar.extractfile(member)
            except KeyError:
                data = None
            if data is None:
                raise ArtifactError(f"site.substitute: {relative} is not a file in the artifact")
            out[member] = substitute_text(data.read().decode("utf-8"), variables, relative)
    return out


def files_per_host(ctx: "RunContext", artifact: Path) -> dict[str, dict[str, str]]:
    """{host name: {path in release: text}}; raises before anything is written anywhere."""
    common = substituted_files(ctx, artifact)
    if ctx.env.site is None:
        return {t.name: dict(common) for t in ctx.targets}
    from deploy.siteconfig import release_files, validate_files

    out = {}
    for t in ctx.targets:
        rendered = release_files(ctx.loaded, ctx.env, t.host, ctx.release_id)
        if rendered:
            validate_files(rendered)
        out[t.name] = {**common, **rendered}
    return out


def host_dirs(ctx: "RunContext", target) -> list[str]:
    if ctx.env.site is None:
        return []
    from deploy.siteconfig import host_dirs as dirs

    return dirs(ctx.env, target.host)
