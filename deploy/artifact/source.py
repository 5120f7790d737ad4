"""What goes into app/: the tree of app_dir at a revision (or, with --allow-dirty, the
working tree), and the hooks from shipyard.toml as it is at that same revision."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from deploy.config import Loaded, parse
from deploy.errors import ArtifactError, VcsError
from deploy.vcs import Vcs


def app_subdir(cfg: Loaded, vcs: Vcs) -> str:
    """project.app_dir (relative to project.repo) as a path relative to the VCS root."""
    app = (cfg.resolve(cfg.project.repo) / cfg.project.app_dir).resolve()
    try:
        return app.relative_to(vcs.root).as_posix() or "."
    except ValueError:
        raise VcsError(f"project.app_dir {app} is outside the {vcs.kind} working copy {vcs.root}") from None


def export_working_tree(vcs: Vcs, subdir: str, dest: Path) -> None:
    """Tracked and untracked-not-ignored files of `subdir` as they are on disk."""
    prefix = "" if subdir == "." else f"{subdir}/"
    dest.mkdir(parents=True, exist_ok=True)
    for name in vcs.working_files(subdir):
        target = dest / name[len(prefix):]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(vcs.root / name, target, follow_symlinks=False)


def export_source(vcs: Vcs, revision: str, subdir: str, dest: Path, *, dirty: bool) -> None:
    if dirty:
        export_working_tree(vcs, subdir, dest)
    else:
        vcs.export(revision, dest, subdir)
    if not (dest.is_dir() and any(dest.iterdir())):
        raise VcsError(f"{vcs.root}: {subdir} is empty or missing at {vcs.short(revision)}")
    refuse_escaping_symlinks(dest)


def refuse_escaping_symlinks(tree: Path) -> None:
    """A symlink out of app/ would be refused at deploy time; say so at build time instead."""
    root = tree.resolve()
    for link in (p for p in root.rglob("*") if p.is_symlink()):
        target = os.readlink(link)
        if os.path.isabs(target) or not (link.parent / target).resolve().is_relative_to(root):
            raise ArtifactError(f"app/{link.relative_to(root).as_posix()}: symlink to {target!r} leaves the app tree")


def hooks_at(cfg: Loaded, vcs: Vcs, revision: str, *, dirty: bool) -> dict[str, Any]:
    """The [hooks] table of shipyard.toml as committed at `revision`.

    Hooks run with the release they arrive in, so they must come from that
    revision, never from whatever the working copy holds now. A dirty build ships
    the working tree, so its hooks are the working copy's (the loaded config).
    """
    try:
        relpath = cfg.path.resolve().relative_to(vcs.root).as_posix()
    except ValueError:
        relpath = None
    text = None if dirty or relpath is None else vcs.read_file(revision, relpath)
    if text is None:
        return cfg.model.hooks.model_dump()
    return parse(text.decode("utf-8"), f"{relpath}@{vcs.short(revision)}").hooks.model_dump()
