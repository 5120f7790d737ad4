"""Dependency bundles in a deploy: which one each host needs, checked before any host is touched.

Each host reports its Python's platform tag (read-only, first thing in `starting`: sh on a
POSIX host, facts.ps1 on a Windows one) and, on POSIX, the magic number of the bytecode it reads
(the Linux bundle carries .pyc: a Python of the same tag that read others would recompile the
shared env in place); the artifact must carry a bundle for both
(deploy.artifact.bundle, deploy.artifact.windeps), and the bundle in dist/deps/ must be the one
the manifest names. Built without any Windows bundle (build.windows_bundles = false), a Windows
host installs from the wheelhouse, so every wheel there must be for any platform or for Windows.
A mismatch stops the deploy while every host is still untouched.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy.errors import ArtifactError
from deploy.transport.base import sha256_file

if TYPE_CHECKING:  # pragma: no cover
    from deploy.engine.context import RunContext, Target
    from deploy.release.upload import DepsUpload


def bundles(ctx: "RunContext") -> dict[str, dict[str, Any]]:
    return ctx.manifest.get("deps") or {}


def windows_bundles(ctx: "RunContext") -> dict[str, dict[str, Any]]:
    return {platform: b for platform, b in bundles(ctx).items() if platform.startswith("win-")}


def facts_keys(ctx: "RunContext", t: "Target") -> list[str] | None:
    """The env keys a POSIX host is asked about with its disk check (HostOps.probe), or None."""
    return None if t.host.is_windows or not bundles(ctx) else _keys(ctx)


def _keys(ctx: "RunContext") -> list[str]:
    return sorted({b["key"] for b in bundles(ctx).values()})


def probe(ctx: "RunContext", t: "Target") -> None:
    """The host's facts, unless its disk check brought them already."""
    keys = _keys(ctx)
    if t.host.is_windows and windows_bundles(ctx):
        t.facts = t.ops.dependency_facts(ctx.python(t.host), keys)
    elif bundles(ctx) and not t.host.is_windows and not t.facts:
        t.facts = t.ops.facts(ctx.python(t.host), keys)


def check_platforms(ctx: "RunContext") -> None:
    for t in ctx.targets:
        if t.host.is_windows and not windows_bundles(ctx):
            check_windows_wheels(t, ctx.manifest)
        elif bundles(ctx):
            verified_bundle(ctx.artifact.parent, **_file_of(bundle_for(ctx, t)))


def bundle_for(ctx: "RunContext", t: "Target") -> dict[str, Any]:
    if t.facts.get("python_error"):
        raise ArtifactError(f"{t.name}: its Python ({ctx.python(t.host)}) did not run: {t.facts['python_error']}; "
                            f"set `python` for the host (no host was changed)")
    platform = t.facts.get("platform", "unknown")
    found = bundles(ctx).get(platform)
    if found is None:
        raise ArtifactError(f"{t.name}: runs Python for {platform}, the artifact's dependencies are built for "
                            f"{', '.join(sorted(bundles(ctx)))}: {_how_to_match(t, platform)} (no host was changed)")
    reads = t.facts.get("bytecode")
    if found.get("bytecode") and reads and reads != found["bytecode"]:
        raise ArtifactError(f"{t.name}: its Python ({ctx.python(t.host)}) reads bytecode {reads}, the dependency "
                            f"bundle's .pyc are compiled for {found['bytecode']} ({platform}): build on a machine "
                            f"with the hosts' Python (no host was changed)")
    return found


def _how_to_match(t: "Target", platform: str) -> str:
    digits = platform.rsplit("-cpython-", 1)[-1]
    if t.host.is_windows and platform.startswith("win-amd64-cpython-") and digits.isdigit():
        return f'set python_version = "{digits[0]}.{digits[1:]}" on {t.name} and build again'
    return "build on a machine with the hosts' Python"


def _file_of(bundle: dict[str, Any]) -> dict[str, str]:
    return {"relative": bundle["bundle"], "sha256": bundle["sha256"]}


@functools.cache
def verified_bundle(dist: Path, relative: str, sha256: str) -> Path:
    """The bundle file, once its sha256 is the one the (verified) manifest names; once per run."""
    path = dist / relative
    if not path.is_file():
        raise ArtifactError(f"{path}: the dependency bundle the artifact needs is missing (rebuild with `invoke build`)")
    if sha256_file(path) != sha256:
        raise ArtifactError(f"{path}: sha256 differs from the artifact's manifest: refusing a bundle that does not "
                            f"match its key")
    return path


def check_windows_wheels(t: "Target", manifest: dict[str, Any]) -> None:
    wrong = [p.rsplit("/", 1)[-1] for p in manifest.get("files", {}) if p.startswith("wheelhouse/") and p.endswith(".whl")
             and not _windows_ok(p)]
    if wrong:
        raise ArtifactError(f"{t.name}: a Windows host cannot install the wheelhouse's {', '.join(wrong[:3])} "
                            f"(built for another platform); no host was changed")


def has_wheels(manifest: dict[str, Any]) -> bool:
    return any(p.startswith("wheelhouse/") and p.endswith(".whl") for p in manifest.get("files", {}))


def _windows_ok(wheel: str) -> bool:
    platform = wheel[: -len(".whl")].rsplit("-", 1)[-1]
    return platform == "any" or platform.startswith("win")


def deps_upload(ctx: "RunContext", t: "Target") -> "DepsUpload | None":
    from deploy.release.delta import Part
    from deploy.release.upload import DepsUpload

    if not bundles(ctx):
        return None
    found = bundle_for(ctx, t)
    if found["key"] in t.facts.get("envs", ()):
        return DepsUpload(found["key"], found["manifest_sha256"], None)
    path = verified_bundle(ctx.artifact.parent, **_file_of(found))
    return DepsUpload(found["key"], found["manifest_sha256"], Part("deps", found["sha256"], found["size"], path=path))


def windows_bundle(ctx: "RunContext", t: "Target") -> "tuple[dict[str, Any], Path | None] | None":
    """The bundle a Windows host gets and the file to send (None when the host has the env), or
    None when the artifact has no Windows bundles (the host installs its wheelhouse)."""
    if not windows_bundles(ctx):
        return None
    found = bundle_for(ctx, t)
    if found["key"] in t.facts.get("envs", ()):
        return found, None
    return found, verified_bundle(ctx.artifact.parent, **_file_of(found))
