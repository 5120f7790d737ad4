"""Git: `rev^{commit}` so a tag resolves to its commit, `git archive <rev>:<dir>` to export."""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
from pathlib import Path

from deploy.errors import VcsError
from deploy.vcs.base import Vcs


class Git(Vcs):
    kind = "git"
    metadata_dir = ".git"
    short_length = 7
    program = "git"

    def env(self) -> dict[str, str]:
        identity = "shipyard", "shipyard@localhost.invalid"
        return {
            **super().env(),
            "GIT_AUTHOR_NAME": identity[0], "GIT_AUTHOR_EMAIL": identity[1],
            "GIT_COMMITTER_NAME": identity[0], "GIT_COMMITTER_EMAIL": identity[1],
            "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0",
        }

    def resolve(self, rev: str | None) -> str:
        name = "HEAD" if rev is None else self.check_rev(rev)
        proc = self.run("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", check=False)
        if proc.returncode != 0:
            raise VcsError(f"{self.root}: unknown revision {name!r} (not a branch, tag or commit in git)")
        return proc.stdout.decode().strip()

    def export(self, full_id: str, dest: Path, subdir: str = ".") -> None:
        sub = self.subdir_path(subdir)
        treeish = full_id if sub == "." else f"{full_id}:{sub}"
        data = self.run("archive", "--format=tar", treeish).stdout
        dest.mkdir(parents=True, exist_ok=True)
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
                extract_tree(tar, dest)
        except tarfile.TarError as e:  # e.g. a committed symlink pointing outside the tree
            raise VcsError(f"{self.root}: cannot export {sub} at {self.short(full_id)}: {e}") from None

    def changed_files(self, subdir: str = ".") -> list[str]:
        out = self.run("status", "--porcelain", "-z", "--untracked-files=all", "--", self.subdir_path(subdir)).stdout
        entries = iter(out.decode("utf-8", "surrogateescape").split("\0"))
        changed = []
        for entry in entries:  # "XY path"; a rename or copy is followed by its source path
            if entry:
                changed.append(entry[3:])
                if "R" in entry[:2] or "C" in entry[:2]:
                    next(entries, None)
        return changed

    def working_files(self, subdir: str = ".") -> list[str]:
        out = self.run("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", self.subdir_path(subdir)).stdout
        names = sorted({n for n in out.decode("utf-8", "surrogateescape").split("\0") if n})
        return [n for n in names if (self.root / n).is_symlink() or (self.root / n).is_file()]

    def read_file(self, full_id: str, path: str) -> bytes | None:
        spec = f"{full_id}:{self.subdir_path(path)}"
        if self.run("cat-file", "-e", spec, check=False).returncode != 0:
            return None
        return self.run("cat-file", "blob", spec).stdout

    def commit_time(self, full_id: str) -> int:
        return int(self.out("show", "-s", "--format=%ct", full_id))

    def describe(self, full_id: str) -> str:
        return self.out("describe", "--tags", "--always", "--abbrev=7", full_id)


def extract_tree(tar: tarfile.TarFile, dest: Path) -> None:
    """Extract `git archive` output, refusing what a git tree cannot hold and what would
    leave `dest`: absolute or `..` names, symlinks out of the tree, a name twice, a member
    under a symlink. Our own check, because tarfile's `filter="data"` needs Python 3.11.4+
    and Debian 12 ships 3.11.2; where the filter exists it runs as well."""
    members, seen, links = tar.getmembers(), set(), set()
    for member in members:
        name = posixpath.normpath(member.name)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname)) if member.issym() else name
        if any(p.startswith("/") or p == ".." or p.startswith("../") for p in (name, target)):
            raise tarfile.TarError(f"{member.name!r} points outside the tree ({member.linkname or member.name!r})")
        if any(part in ("", ".") for part in member.name.rstrip("/").split("/")):
            raise tarfile.TarError(f"{member.name!r}: not a name a git tree holds (an empty or '.' part)")
        if not (member.isfile() or member.isdir() or member.issym()) or name in seen or name == ".":
            raise tarfile.TarError(f"{member.name!r}: not one file, directory or symlink of a tree")
        parents = {"/".join(name.split("/")[:i]) for i in range(1, name.count("/") + 1)}
        if parents & links or (member.issym() and any(s.startswith(name + "/") for s in seen)):
            raise tarfile.TarError(f"{member.name!r}: a member under a symlink")
        seen.add(name)
        if member.issym():
            links.add(name)
    if hasattr(tarfile, "data_filter"):
        tar.extraction_filter = tarfile.data_filter
    tar.extractall(dest, members)
    root = dest.resolve()
    for name in sorted(links):  # a chain of links can leave the tree where each one alone does not
        if not Path(os.path.realpath(dest / name)).is_relative_to(root):
            (dest / name).unlink()
            raise tarfile.TarError(f"{name!r} points outside the tree (through another symlink)")
