"""Mercurial: HGPLAIN output, `hg archive` without .hg_archival.txt or .hgtags."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from deploy.errors import VcsError
from deploy.vcs.base import Vcs

NULL_ID = "0" * 40


class Hg(Vcs):
    kind = "hg"
    metadata_dir = ".hg"
    short_length = 12
    program = "hg"

    def env(self) -> dict[str, str]:
        return {**super().env(), "HGPLAIN": "1", "HGUSER": "shipyard <shipyard@localhost.invalid>", "HGENCODING": "utf-8"}

    def resolve(self, rev: str | None) -> str:
        name = "." if rev is None else self.check_rev(rev)
        proc = self.run("log", "-r", name, "-T", "{node}\n", check=False)
        nodes = proc.stdout.decode().split()
        if proc.returncode != 0 or len(nodes) != 1 or nodes[0] == NULL_ID:
            raise VcsError(f"{self.root}: unknown revision {name!r} (not a branch, tag or changeset in hg)")
        return nodes[0]

    def export(self, full_id: str, dest: Path, subdir: str = ".") -> None:
        sub = self.subdir_path(subdir)
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="shipyard-hg-") as tmp:
            out = Path(tmp) / "tree"
            pattern = ["-X", "path:.hgtags"] if sub == "." else ["-I", f"path:{sub}"]
            self.run("archive", "-r", full_id, "--config", "ui.archivemeta=False", "-t", "files", *pattern, str(out))
            top = out if sub == "." else out / sub
            if not top.is_dir():
                raise VcsError(f"{self.root}: {sub} does not exist at {self.short(full_id)}")
            for child in top.iterdir():
                shutil.move(str(child), dest / child.name)

    def changed_files(self, subdir: str = ".") -> list[str]:
        out = self.run("status", "-n", "-0", "--", self._pattern(subdir)).stdout
        return [n for n in out.decode("utf-8", "surrogateescape").split("\0") if n]

    def working_files(self, subdir: str = ".") -> list[str]:
        out = self.run("status", "-macu", "-n", "-0", "--", self._pattern(subdir)).stdout
        return sorted({n for n in out.decode("utf-8", "surrogateescape").split("\0") if n})

    def read_file(self, full_id: str, path: str) -> bytes | None:
        proc = self.run("cat", "-r", full_id, "--", f"path:{self.subdir_path(path)}", ok_codes=(0, 1))
        return proc.stdout if proc.returncode == 0 else None

    def commit_time(self, full_id: str) -> int:
        return int(self.out("log", "-r", full_id, "-T", "{date|hgdate}").split()[0])

    def describe(self, full_id: str) -> str:
        tag, distance = self.out("log", "-r", full_id, "-T", "{latesttag}\n{latesttagdistance}").split("\n")
        if tag == "null":
            return self.short(full_id)
        return tag if distance == "0" else f"{tag}-{distance}-h{self.short(full_id)}"

    def _pattern(self, subdir: str) -> str:
        return f"path:{self.subdir_path(subdir)}"
