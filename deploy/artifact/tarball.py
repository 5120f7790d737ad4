"""A byte-reproducible .tar.gz of a directory: the same tree and mtime give the same bytes.

Entries are sorted, directories included; every member has the commit time as
mtime, owner 0/0 with empty names and a mode of 0644 or 0755 (the executable
bit survives, nothing else); the gzip header has mtime 0 and no file name.
"""

from __future__ import annotations

import gzip
import os
import stat
import tarfile
from pathlib import Path

COMPRESS_LEVEL = 6


def normal_mode(st_mode: int) -> int:
    """0755 for directories and anything executable by its owner, 0644 otherwise."""
    if stat.S_ISDIR(st_mode) or st_mode & stat.S_IXUSR:
        return 0o755
    return 0o644


def sorted_entries(root: Path) -> list[Path]:
    """Every path under `root`, sorted by its POSIX relative name (walk order is not stable)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        found.extend(base / n for n in dirnames + filenames)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def tar_member(root: Path, path: Path, mtime: int) -> tarfile.TarInfo:
    st = path.lstat()
    info = tarfile.TarInfo(path.relative_to(root).as_posix())
    info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
    if stat.S_ISLNK(st.st_mode):
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, os.readlink(path), 0o777
    elif stat.S_ISDIR(st.st_mode):
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    elif stat.S_ISREG(st.st_mode):
        info.type, info.size, info.mode = tarfile.REGTYPE, st.st_size, normal_mode(st.st_mode)
    else:
        raise ValueError(f"{path}: not a file, directory or symlink")
    return info


def write_tarball(root: Path, dest: Path, mtime: int) -> None:
    """Write `root`'s contents (not `root` itself) to `dest` as a reproducible .tar.gz."""
    with open(dest, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="", compresslevel=COMPRESS_LEVEL) as gz:
        with tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted_entries(root):
                info = tar_member(root, path, mtime)
                if info.isreg():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
