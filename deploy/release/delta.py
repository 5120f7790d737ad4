"""Delta unpack: a host that already has a release receives only the files it lacks.

Files are content-addressed by the manifest's sha256. On the host, every file of
the new manifest whose sha256 a file of the previous release has (checked by
hashing it there, not by trusting its name) is hard-linked from that release into
the new one; a small tar.gz of the rest (plus the artifact's directories, symlinks
and manifest.json) is built here from the verified artifact, uploaded with the
transport's sha256 check, extracted, and the whole release is verified against the
manifest before it is renamed into place — the same end state `HostOps.unpack`
leaves, so a redeploy of the same revision ships almost nothing.
"""

from __future__ import annotations

import json
import shlex
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy.errors import ArtifactError
from deploy.release.hostops import PENDING
from deploy.transport.base import sha256_file

if TYPE_CHECKING:  # pragma: no cover
    from deploy.release.hostops import HostOps

q = shlex.quote

# argv: previous release dir, staging dir. stdin: {path: sha256}. stdout: JSON list of paths to send.
PLAN = r"""
import hashlib, json, os, sys
prev, stage = sys.argv[1], sys.argv[2]
wanted = json.load(sys.stdin)
try:
    old = json.load(open(os.path.join(prev, "manifest.json")))["files"]
except (OSError, ValueError, KeyError):
    old = {}
by_sha = {}
for path, meta in old.items():
    by_sha.setdefault(meta["sha256"], path)
real_prev = os.path.realpath(prev) + os.sep
def digest(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
missing = []
for path, sha in sorted(wanted.items()):
    src = by_sha.get(sha) and os.path.join(prev, by_sha[sha])
    ok = src and os.path.realpath(src).startswith(real_prev) and os.path.isfile(src) \
        and not os.path.islink(src) and digest(src) == sha
    if not ok:
        missing.append(path)
        continue
    dest = os.path.join(stage, path)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    os.link(src, dest)
json.dump(missing, sys.stdout)
"""

# argv: staging dir. stdin: {path: sha256}. Exit 3 and the bad paths when anything differs.
VERIFY = r"""
import hashlib, json, os, sys
stage = sys.argv[1]
bad = []
for path, sha in json.load(sys.stdin).items():
    try:
        with open(os.path.join(stage, path), "rb") as f:
            ok = hashlib.file_digest(f, "sha256").hexdigest() == sha
    except OSError:
        ok = False
    if not ok:
        bad.append(path)
if bad:
    print(" ".join(bad[:10]))
    sys.exit(3)
"""


def wanted_files(manifest: dict[str, Any]) -> dict[str, str]:
    return {path: meta["sha256"] for path, meta in manifest["files"].items()}


def build_delta(artifact: Path, reused: set[str], dest: Path) -> None:
    """A tar.gz of the artifact's members except the regular files the host already linked."""
    with tarfile.open(artifact, "r:gz") as src, tarfile.open(dest, "w:gz", compresslevel=6) as out:
        for member in src:
            name = member.name.removeprefix("./")
            if member.isfile() and name in reused:
                continue
            out.addfile(member, src.extractfile(member) if member.isfile() else None)


def delta_unpack(ops: "HostOps", artifact: Path, manifest: dict[str, Any], previous_release_id: str,
                 release_id: str, info: dict[str, Any], python: str = "python3") -> int:
    """Unpack `artifact` as releases/<release_id> reusing `previous_release_id`'s files; return bytes sent."""
    layout, transport, timeout = ops.layout, ops.transport, ops.timeout
    final, stage = layout.release(release_id), layout.release(f".{release_id}.tmp")
    wanted = json.dumps(wanted_files(manifest)).encode()
    plan = transport.run(
        f"rm -rf {q(stage)} && mkdir -p {q(stage)} && {q(python)} -c {q(PLAN)} "
        f"{q(layout.release(previous_release_id))} {q(stage)}",
        stdin=wanted, timeout=timeout,
    )
    reused = set(wanted_files(manifest)) - set(json.loads(plan.stdout))
    remote = f"{layout.meta}/artifacts/delta-{release_id}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="shipyard-delta-") as tmp:
        delta = Path(tmp) / "delta.tar.gz"
        build_delta(artifact, reused, delta)
        transport.put(delta, remote, sha256=sha256_file(delta))
        sent = delta.stat().st_size
    release_json = json.dumps({**info, "id": release_id, "status": PENDING})
    result = transport.run(
        f"tar -xzf {q(remote)} -C {q(stage)} --no-same-owner --no-same-permissions && rm -f {q(remote)}\n"
        f"{q(python)} -c {q(VERIFY)} {q(stage)} || exit $?\n"
        f"printf '%s\\n' {q(release_json)} > {q(stage)}/release.json\n"
        f"mv -T {q(stage)} {q(final)}",
        stdin=wanted, timeout=timeout, check=False,
    )
    if result.rc == 3:
        raise ArtifactError(f"{ops.host}: release {release_id} differs from its manifest after delta unpack: {result.stdout.strip()}")
    transport._checked(result, True)
    return sent
