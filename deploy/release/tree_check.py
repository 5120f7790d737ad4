"""The tree checks of the host-side receiver (deploy/release/receiver.py): is this directory
exactly this manifest, and may a previous release's file stand in for a new one.

Standard library only, and no import of Shipyard: receiver_source() sends this file's source
inside the receiver's one `python3 -S -c` program (deploy/release/host_program.py). Read-only:
it lists, stats and hashes, and says why it refuses; making and linking is the receiver's.
"""

import hashlib
import os
import stat

CHUNK = 1 << 18


class Refused(Exception):
    pass


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def entries(root):
    """(relative path, DirEntry) of everything under `root`, reached without following a symlink:
    one scandir per directory, the kind from the listing itself (d_type: no stat per entry), paths
    built by hand (os.walk + relpath cost more than the syscalls)."""
    pending = [("", root)]
    while pending:
        rel, full = pending.pop()
        with os.scandir(full) as listing:
            for entry in listing:
                path = f"{rel}/{entry.name}" if rel else entry.name
                yield path, entry
                if entry.is_dir(follow_symlinks=False):
                    pending.append((path, entry.path))


def stat_key(st):
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def vouched(src, meta, index_entry):
    """("index", its lstat) when the stat index vouches that `src` still holds `meta`'s content,
    ("hash", lstat) when hashing it had to, None when it does not (or is not a regular file)."""
    try:
        st = os.lstat(src)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size != meta["size"] or stat.S_IMODE(st.st_mode) != int(meta["mode"], 8):
        return None
    if index_entry == stat_key(st):
        return "index", st
    return ("hash", st) if sha256_of(src) == meta["sha256"] else None


def verify_tree(stage, manifest, hash_paths, extra=("manifest.json",), bytecode=None, linked=None):
    """The unpacked tree is exactly the manifest: files (sha256 for `hash_paths`, size and mode for
    all), symlinks and their targets, nothing else (but the unlisted __pycache__/*.pyc the
    `bytecode` test accepts: what Python writes beside the sources it imports); returns the stat
    index of the files. A file in `linked` (path: the lstat vouched for before linking it) that is
    still that very inode, by the listing's own inode number and type, is judged by that lstat: no
    second stat of the same inode."""
    files, links, linked = manifest["files"], manifest.get("links"), linked or {}
    index, seen = {}, set()
    for rel, entry in entries(stage):
        seen.add(rel)
        if entry.is_symlink():
            check_link(stage, rel, entry.path, links)
        elif entry.is_dir(follow_symlinks=False):
            continue  # a directory carries no content; whatever it holds is checked on its own
        elif rel in files:
            known = linked.get(rel)
            same = known is not None and entry.inode() == known.st_ino and entry.is_file(follow_symlinks=False)
            st = known if same else entry.stat(follow_symlinks=False)
            check_file(rel, entry.path, st, files[rel], rel in hash_paths)
            index[rel] = stat_key(st)
        elif rel not in extra and not (bytecode and bytecode(rel)):
            raise Refused(f"{rel}: not in the manifest")
    missing = sorted(set(files) - seen) + sorted(set(links or ()) - seen)
    if missing:
        raise Refused(f"{missing[0]}: in the manifest but not unpacked ({len(missing)} missing)")
    return index


def is_bytecode(rel):
    parent = os.path.dirname(rel)
    return os.path.basename(parent) == "__pycache__" and rel.endswith(".pyc")


def is_optimized_bytecode(rel):
    return is_bytecode(rel) and ".opt-" in os.path.basename(rel)


def written_by_python(manifest):
    """What importing an env may have added to it: any bytecode when the env ships none; when it
    ships its own (compiled for the host's Python, loaded unchecked), only `python -O`'s variants —
    a plain .pyc it does not list would be loaded in place of its source."""
    return is_optimized_bytecode if manifest.get("bytecode") else is_bytecode


def check_file(rel, full, st, meta, hash_it):
    if not stat.S_ISREG(st.st_mode):
        raise Refused(f"{rel}: not a regular file")
    if st.st_size != meta["size"] or stat.S_IMODE(st.st_mode) != int(meta["mode"], 8):
        raise Refused(f"{rel}: size {st.st_size} mode {stat.S_IMODE(st.st_mode):04o}, the manifest says "
                      f"{meta['size']} {meta['mode']}")
    if hash_it and sha256_of(full) != meta["sha256"]:
        raise Refused(f"{rel}: content differs from the manifest (sha256)")


def check_link(stage, rel, full, links):
    """Listed with this target (when the manifest lists links), and resolving inside the tree."""
    target = os.readlink(full)
    if links is not None and links.get(rel) != target:
        raise Refused(f"{rel}: symlink to {target!r}, the manifest says {links.get(rel)!r}")
    root = os.path.realpath(stage)
    if not (os.path.realpath(full) + os.sep).startswith(root + os.sep):
        raise Refused(f"{rel}: symlink to {target!r} leaves the release")
