"""Disk-space preflight: every host must have room for the release before any host is touched.

What a release needs on a host: the artifact upload, the unpacked tree (each file
rounded up to whole 4 KiB blocks, as filesystems store it) and, unless the host
already has it, the dependency env installed from its wheelhouse, plus a margin
for release.json, journals and logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deploy.errors import ShipyardError

if TYPE_CHECKING:  # pragma: no cover
    from deploy.engine.context import RunContext

FS_BLOCK = 4096
WHEEL_EXPANSION = 8  # an installed Django takes about 7x its wheel (sources and compiled .pyc)
MARGIN = 4 << 20


class NotEnoughSpace(ShipyardError):
    """A host has less free disk than the release needs; nothing was written anywhere."""

    def __init__(self, host: str, free: int, needed: int, where: str):
        self.host, self.free, self.needed = host, free, needed
        super().__init__(f"{host}: not enough disk for the release under {where}: {free / 2**20:.1f} MiB free, "
                         f"{needed / 2**20:.1f} MiB needed (upload + unpacked + dependencies); "
                         f"free some space (old releases: `invoke releases`) and deploy again")


def blocks(size: int) -> int:
    return -(-size // FS_BLOCK) * FS_BLOCK


def needed_bytes(manifest: dict[str, Any], artifact_size: int, env_installed: bool) -> int:
    files = manifest.get("files", {})
    unpacked = sum(blocks(entry["size"]) + FS_BLOCK for entry in files.values())
    wheels = sum(entry["size"] for path, entry in files.items() if path.startswith("wheelhouse/"))
    return artifact_size + unpacked + (0 if env_installed else WHEEL_EXPANSION * wheels) + MARGIN


def check_space(ctx: "RunContext") -> None:
    """Ask every host (read-only) for its free space — and, in the same round trip where the host
    can, its dependency facts (deploy.engine.dependencies) — and raise for the first that is short."""
    from deploy.engine.dependencies import facts_keys

    assert ctx.artifact is not None
    size, key = ctx.artifact.stat().st_size, ctx.manifest.get("env_key", "default")
    answers = ctx.for_each(lambda t: t.ops.probe(key, ctx.python(t.host), facts_keys(ctx, t)))
    for t, (have, env_installed, facts) in zip(ctx.targets, answers):
        if facts is not None:
            t.facts = facts
        needed = needed_bytes(ctx.manifest, size, env_installed)
        if have < needed:
            raise NotEnoughSpace(t.name, have, needed, t.ops.layout.deploy_to)
