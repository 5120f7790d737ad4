"""Version control behind one interface: `open_vcs(repo)` finds the working copy and its kind."""

from __future__ import annotations

from pathlib import Path

from deploy.errors import VcsError
from deploy.vcs.base import Vcs, VcsCommandFailed
from deploy.vcs.git import Git
from deploy.vcs.hg import Hg

REGISTRY: dict[str, type[Vcs]] = {}


def register(cls: type[Vcs]) -> type[Vcs]:
    REGISTRY[cls.kind] = cls
    return cls


for _cls in (Git, Hg):
    register(_cls)


def find_root(start: Path, kinds: list[str]) -> tuple[str, Path] | None:
    """The nearest directory at or above `start` holding one of `kinds`' metadata dirs."""
    here = start.resolve()
    for d in (here, *here.parents):
        for kind in kinds:
            if (d / REGISTRY[kind].metadata_dir).exists():
                return kind, d
    return None


def open_vcs(repo: Path, kind: str = "auto") -> Vcs:
    if kind != "auto" and kind not in REGISTRY:
        raise VcsError(f"unknown vcs {kind!r} (known: {', '.join(sorted(REGISTRY))})")
    kinds = sorted(REGISTRY) if kind == "auto" else [kind]
    found = find_root(Path(repo), kinds)
    if found is None:
        wanted = " or ".join(REGISTRY[k].metadata_dir for k in kinds)
        raise VcsError(f"{repo}: not inside a {wanted} working copy")
    found_kind, root = found
    return REGISTRY[found_kind](root)


__all__ = ["Vcs", "VcsCommandFailed", "VcsError", "open_vcs", "register", "REGISTRY", "Git", "Hg"]
