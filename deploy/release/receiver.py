"""The host side of a POSIX release upload: one process that receives, unpacks and verifies.

Standard library only: posix.py sends this file's source, with that of the tree checks it
imports (tree_check.py) embedded ahead of it, as one `python3 -S -c` program
(host_program.py), so the host needs nothing installed. stdin is one JSON header line,
then the parts it declares, back to back. Each part (the release tarball, the dependency
bundle) is gunzipped (zlib) and piped into GNU `tar -x` as it arrives — nothing is staged on
disk first — and hashed on the way, so a truncated, padded or corrupted stream fails. Then the tree is
checked against the manifest (tree_check.verify_tree: files with size and mode; symlinks
with their targets; nothing extra), and with sha256 every file whose bytes the stream's
own sha256 does not already prove: a part marked `verified` is the very artifact (or
artifact less its wheelhouse) the controller checked member by member against the
manifest, so its files are not read again; the delta's files are.

Delta: the release part holds only the files the previous release lacks. Every other
file is hard-linked from the previous release after a cheap check against the stat
index written when that release was verified (size, mtime, inode): no host re-reads
the files it already has. A file the index does not vouch for is hashed; a path that
leads through a symlink is never used.

Output: one JSON line. Exit 0 done; 3 refused (the message says why; the staging dir
is removed); 4 the patched manifest did not reproduce the expected one (send it whole).
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zlib

from deploy.release.tree_check import CHUNK, Refused, verify_tree, vouched, written_by_python

INDEX = "verified.json"


class NeedFull(Exception):
    pass


class Input:
    """fd 0 read exactly: the header line, then each part by its declared size."""

    def __init__(self, fd=0):
        self.fd, self.pending, self.consumed = fd, b"", 0

    def header(self):
        while b"\n" not in self.pending:
            block = os.read(self.fd, CHUNK)
            if not block:
                raise Refused("stream ended before the header")
            self.pending += block
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def chunks(self, size):
        left = size
        if self.pending:
            head, self.pending = self.pending[:left], self.pending[left:]
            left -= len(head)
            self.consumed += len(head)
            yield head
        while left > 0:
            block = os.read(self.fd, min(CHUNK, left))
            if not block:
                raise Refused(f"stream ended {left} bytes early (connection dropped?)")
            left -= len(block)
            self.consumed += len(block)
            yield block

    def drain(self, total):
        """Read (and drop) the rest of the declared parts, so the sender finishes and hears why."""
        try:
            for _ in self.chunks(total - self.consumed):
                pass
        except Refused:
            pass


def untar(source, part, dest):
    """Gunzip `part["size"]` bytes here and pipe the tar into `tar -x` in `dest`; the bytes must hash
    to part["sha256"] and be one whole gzip member (zlib checks its CRC and length). Gunzipped here,
    not by `tar -z`: no gzip process and no second pipe, ~30% less CPU for the same checks."""
    errors = tempfile.TemporaryFile()
    tar = subprocess.Popen(["tar", "-xf", "-", "-C", dest, "--no-same-owner", "--no-same-permissions",
                            "--keep-old-files"], stdin=subprocess.PIPE, stderr=errors)
    digest, inflate, broken, bad = hashlib.sha256(), zlib.decompressobj(31), False, None
    for block in source.chunks(part["size"]):
        digest.update(block)
        if broken or bad:
            continue  # keep reading: the sender finishes, and the sha256 still judges the stream
        try:
            for out in gunzip(inflate, block):
                tar.stdin.write(out)
        except BrokenPipeError:
            broken = True  # the error that counts is tar's
        except (zlib.error, Refused) as e:
            bad = str(e)
    if not (broken or bad):
        try:
            tar.stdin.write(inflate.flush())
        except BrokenPipeError:
            broken = True
        except zlib.error as e:
            bad = str(e)
        if bad is None and not inflate.eof:
            bad = "it ends before its gzip trailer"
    try:
        tar.stdin.close()
    except BrokenPipeError:
        pass
    rc = tar.wait()
    errors.seek(0)
    said = errors.read().decode("utf-8", "replace").strip().splitlines()
    if bad is not None:  # first: tar, fed a cut-off archive, would only say that
        raise Refused(f"the {part['kind']} stream is not one whole gzip stream: {bad}")
    if rc != 0:
        raise Refused(f"tar exited {rc} unpacking the {part['kind']}: {' | '.join(said[-4:])}")
    if digest.hexdigest() != part["sha256"]:
        raise Refused(f"the {part['kind']} stream has sha256 {digest.hexdigest()}, expected {part['sha256']}")


def gunzip(inflate, block):
    """What `block` inflates to, at most CHUNK bytes at a time (a small block cannot balloon in
    memory); nothing may follow the gzip member."""
    while block:
        if inflate.eof:
            raise Refused("data after the end of the gzip stream")
        out = inflate.decompress(block, CHUNK)
        if out:
            yield out
        block = inflate.unconsumed_tail or inflate.unused_data
def parent_of(rel):
    """os.path.dirname of a clean relative path (the manifest's), without its generality's cost."""
    return rel.rpartition("/")[0]


class Dirs:
    """Directories under `root` known to be real (no symlink on the way), found or made once each."""

    def __init__(self, root):
        self.root, self.known = root, {""}

    def is_real(self, rel):
        if rel in self.known:
            return True
        try:
            real = self.is_real(parent_of(rel)) and stat.S_ISDIR(os.lstat(f"{self.root}/{rel}").st_mode)
        except OSError:
            real = False
        if real:
            self.known.add(rel)
        return real

    def make(self, rel):
        if rel in self.known:
            return
        self.make(parent_of(rel))
        try:
            os.mkdir(f"{self.root}/{rel}")
        except FileExistsError:
            if not self.is_real(rel):
                raise Refused(f"{rel}: not a directory in the staged release") from None
        self.known.add(rel)


def load_checked(path, sha256):
    """The JSON document at `path` if its bytes hash to `sha256`, else None: one read for both."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return json.loads(data) if hashlib.sha256(data).hexdigest() == sha256 else None


def load_json(path, default):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return default



def rebuild_manifest(order, old):
    """The new manifest (its text, and as data), from the patch against the previous release's `old`."""
    spec = order["manifest"]
    patch = spec["patch"]
    files = {**old.get("files", {}), **patch["set"]}
    for path in patch["drop"]:
        files.pop(path, None)
    manifest = {**patch["top"], "files": files}
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    if hashlib.sha256(text.encode()).hexdigest() != spec["sha256"]:
        raise NeedFull()
    return text, manifest


def link_previous(stage, previous, old_files, manifest, shipped):
    """Hard-link every file not shipped from a previous-release file with the same content and mode;
    returns the counts and, by path, the lstat of the inode each link now shares."""
    index = load_json(os.path.join(previous, INDEX), {}).get("files", {})
    old_dirs, new_dirs = Dirs(previous), Dirs(stage)
    by_content = {}
    for path, meta in old_files.items():
        by_content.setdefault((meta["sha256"], meta["mode"]), []).append(path)
    counts, linked = {"index": 0, "hash": 0}, {}
    for path, meta in manifest["files"].items():
        if path in shipped:
            continue
        for old in by_content.get((meta["sha256"], meta["mode"]), []):
            src = f"{previous}/{old}"
            found = old_dirs.is_real(parent_of(old)) and vouched(src, meta, index.get(old))
            if found:
                new_dirs.make(parent_of(path))
                place(src, f"{stage}/{path}")
                counts[found[0]] += 1
                linked[path] = found[1]
                break
        else:
            raise NeedFull()  # the previous release lost its copy: the controller sends everything
    return counts, linked


def place(src, dest):
    """A hard link (same inode: nothing copied); a copy where the filesystem refuses links."""
    try:
        os.link(src, dest, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dest, follow_symlinks=False)


def write_json(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(data if isinstance(data, str) else json.dumps(data, sort_keys=True) + "\n")


def wanted(manifest, order):
    """The manifest less what stays off this host (the wheelhouse, when it gets the dependency bundle)."""
    omit = tuple(order.get("omit") or ())
    if not omit:
        return manifest
    return {**manifest, "files": {p: m for p, m in manifest["files"].items() if not p.startswith(omit)}}


def receive_release(order, source):
    """Stage the release: the whole artifact unpacked, or the previous release's files linked and
    the delta unpacked beside them; then verified and indexed."""
    stage, previous, delta = order["stage"], order.get("previous"), order.get("ship") is not None
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    counts, linked = {"index": 0, "hash": 0}, {}
    if delta:
        old = load_json(os.path.join(previous, "manifest.json"), {"files": {}}) if previous else {"files": {}}
        text, manifest = rebuild_manifest(order, old)
        write_json(os.path.join(stage, "manifest.json"), text)
        manifest = wanted(manifest, order)
        counts, linked = link_previous(stage, previous, old.get("files", {}), manifest, set(order["ship"]))
    untar(source, order["parts"][0], stage)
    if not delta:
        manifest = load_checked(os.path.join(stage, "manifest.json"), order["manifest"]["sha256"])
        if manifest is None:
            raise Refused("manifest.json in the stream is not the manifest the controller verified")
        manifest = wanted(manifest, order)
    shipped = set(order["ship"]) if delta else set(manifest["files"])
    index = verify_tree(stage, manifest, set() if order["parts"][0].get("verified") else shipped, linked=linked)
    write_json(os.path.join(stage, INDEX), {"files": index})
    write_json(os.path.join(stage, "release.json"), order["release_json"], 0o600)
    return {"linked": counts["index"] + counts["hash"], "hashed_to_link": counts["hash"], "written": len(shipped)}


def receive_deps(order, source):
    """shared/envs/<key>: unpacked from the bundle when it travels, else the one there must match."""
    deps = order.get("deps")
    if not deps:
        return {}
    envdir = deps["dir"]
    if len(order["parts"]) > 1:
        tmp = envdir + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        untar(source, order["parts"][1], tmp)
        check_env(tmp, deps, fresh=True)
        shutil.rmtree(envdir, ignore_errors=True)
        os.rename(tmp, envdir)
    else:
        check_env(envdir, deps, fresh=False)
    os.symlink(envdir, os.path.join(order["stage"], ".deps"))
    return {"deps": "unpacked" if len(order["parts"]) > 1 else "shared"}


def check_env(envdir, deps, fresh):
    """The env matches its key: its manifest's sha256 is the one the artifact names, and its tree
    is that manifest's. Just unpacked, by sizes, modes and links only: its content came from a
    stream whose sha256 the artifact's (verified) manifest names, so hashing its thousands of
    files again on every host would prove nothing more. Reused, by the stat index."""
    manifest = load_checked(os.path.join(envdir, "deps-manifest.json"), deps["manifest_sha256"])
    if manifest is None:
        raise Refused(f"{envdir}: does not match its key {os.path.basename(envdir)} (deps-manifest.json differs); "
                      "remove it and deploy again")
    if fresh:
        index = verify_tree(envdir, manifest, set(), extra=("deps-manifest.json",))
        write_json(os.path.join(envdir, INDEX), {"files": index})
        return
    try:
        now = verify_tree(envdir, manifest, set(), extra=("deps-manifest.json", INDEX),
                          bytecode=written_by_python(manifest))
    except Refused as e:
        raise Refused(f"{envdir}: {e}; remove it and deploy again") from None
    index = load_json(os.path.join(envdir, INDEX), {}).get("files", {})
    changed = sorted(p for p in manifest["files"] if index.get(p) != now.get(p))
    if changed:
        raise Refused(f"{envdir}: {changed[0]} changed since it was verified; remove {envdir} and deploy again")


def main():
    os.umask(0o022)
    source = Input()
    order = source.header()
    total = sum(p["size"] for p in order["parts"])
    try:
        result = receive_release(order, source)
        result.update(receive_deps(order, source))
    except NeedFull:
        source.drain(total)
        shutil.rmtree(order["stage"], ignore_errors=True)
        print(json.dumps({"need_full": True}))
        return 4
    except (Refused, OSError, ValueError, KeyError, TypeError) as e:
        source.drain(total)
        shutil.rmtree(order["stage"], ignore_errors=True)
        if order.get("deps"):
            shutil.rmtree(order["deps"]["dir"] + ".tmp", ignore_errors=True)
        print(json.dumps({"error": str(e) or type(e).__name__}))
        return 3
    result["cpu"] = round(sum(os.times()[:4]), 3)  # this process and its tars: what the update cost the host
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
