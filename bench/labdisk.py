"""The disk the farm benchmarks' lab lives on: by default a journaled ext4 of its own.

This machine's root ext4 has no journal. Without one, ext4 skips every inode freed in the
last minutes when it allocates a new one (`recently_deleted`, reading each skipped inode), so
unpacking a tree right after an `rm -rf` of a like tree costs up to ~4-16x the system time of
the same unpack on a journaled ext4 (measured 2 Dec 2026: 2.46 s vs 0.53-0.59 s of system time
for the vendored Django tree). The benches delete trees between cases (the floor's scratch
copies, `reset_hosts`), so on the root disk whichever command ran just after a deletion paid
for it. Real servers' ext4 has a journal; the lab gets one too, in a loop-mounted image, so
both the floor and Shipyard meet the disk a server would have. `--disk here` keeps the
directory's own filesystem, to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

DISKS = ("journaled", "here")
IMAGE_SIZE = "16G"  # sparse: only what the lab writes takes space


def add_disk_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--disk", choices=DISKS, default="journaled",
                        help="the lab's disk: a loop-mounted journaled ext4 (default) or /tmp's own filesystem")


def journal_of(mountpoint: Path) -> str | None:
    """The jbd2 journal of the ext4 mounted at `mountpoint` (None without one), as the kernel lists it."""
    source = subprocess.run(["findmnt", "-n", "-o", "SOURCE", "--target", str(mountpoint)],
                            capture_output=True, text=True, check=True).stdout.strip()
    name = Path(source).name
    return next((p.name for p in Path("/proc/fs/jbd2").glob(f"{name}-*")), None)


@contextlib.contextmanager
def lab_disk(base: Path, disk: str = "journaled") -> Iterator[str]:
    """Make `base` (created here) a fresh journaled ext4 for the context, and remove it after
    (unmounting is the whole clean-up: the image goes with everything on it); yield what it is."""
    if disk not in DISKS:
        raise ValueError(f"disk must be one of {DISKS}, not {disk!r}")
    base.mkdir(parents=True)
    if disk == "here":
        try:
            yield f"{base}'s own filesystem"
        finally:
            shutil.rmtree(base, ignore_errors=True)
        return
    image = base.with_name(f"{base.name}.ext4")
    subprocess.run(["truncate", "-s", IMAGE_SIZE, str(image)], check=True)
    try:
        subprocess.run(["mkfs.ext4", "-q", "-F", "-O", "has_journal", str(image)], check=True)
        subprocess.run(["mount", "-o", "loop", str(image), str(base)], check=True)
        try:
            yield f"journaled ext4 ({journal_of(base)}), loop-mounted from {image}"
        finally:
            subprocess.run(["umount", "--lazy", str(base)], check=False)
    finally:
        image.unlink(missing_ok=True)
        base.rmdir()
