"""Delta unpack: a host that already has a release receives only the files it lacks.

Files are content-addressed by the manifest's sha256. The new manifest travels as a
patch against the previous release's when possible; on the host, every file whose
sha256 a file of the previous release has (checked by hashing it there, not by
trusting its name) is hard-linked into the new release; a small tar.gz of the rest
(and of empty directories) is built here from the verified artifact, uploaded with
the transport's sha256 check, extracted and hashed, and the release is renamed into
place — the same end state `HostOps.unpack` leaves, so a redeploy of the same
revision ships almost nothing.
"""

from __future__ import annotations

import hashlib
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

# argv: previous release dir, staging dir. stdin: {"patch": {...}, "sha256": ...} (the new manifest
# as a change to the previous release's) or {"manifest": "<text>"}. Writes staging/manifest.json,
# hard-links every file whose content the previous release has, prints the paths still needed
# (or {"need_full": true} when the patched manifest does not reproduce the expected bytes).
PLAN = r"""
import hashlib, json, os, sys
prev, stage = sys.argv[1], sys.argv[2]
order = json.load(sys.stdin)
try:
    old = json.load(open(os.path.join(prev, "manifest.json")))
except (OSError, ValueError):
    old = {"files": {}}
if "patch" in order:
    new = {**order["patch"]["top"], "files": {**old.get("files", {}), **order["patch"]["set"]}}
    for path in order["patch"]["drop"]:
        new["files"].pop(path, None)
    text = json.dumps(new, indent=2, sort_keys=True) + "\n"
    if hashlib.sha256(text.encode()).hexdigest() != order["sha256"]:
        json.dump({"need_full": True}, sys.stdout)
        sys.exit(0)
else:
    text = order["manifest"]
    new = json.loads(text)
with open(os.path.join(stage, "manifest.json"), "w", encoding="utf-8") as f:
    f.write(text)
by_sha = {}
for path, meta in old.get("files", {}).items():
    by_sha.setdefault(meta["sha256"], path)
real_prev = os.path.realpath(prev) + os.sep
def digest(p):
    with open(p, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
missing = []
for path, meta in sorted(new["files"].items()):
    src = by_sha.get(meta["sha256"]) and os.path.join(prev, by_sha[meta["sha256"]])
    ok = src and os.path.realpath(src).startswith(real_prev) and os.path.isfile(src) \
        and not os.path.islink(src) and digest(src) == meta["sha256"]
    if not ok:
        missing.append(path)
        continue
    dest = os.path.join(stage, path)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    os.link(src, dest)
json.dump({"missing": missing}, sys.stdout)
"""

# argv: staging dir. stdin: JSON list of the paths that were extracted (the linked ones were
# hashed when linked). Exit 3 and the first bad paths when one differs from staging/manifest.json.
VERIFY = r"""
import hashlib, json, os, sys
stage = sys.argv[1]
files = json.load(open(os.path.join(stage, "manifest.json")))["files"]
bad = []
for path in json.load(sys.stdin):
    try:
        with open(os.path.join(stage, path), "rb") as f:
            ok = hashlib.file_digest(f, "sha256").hexdigest() == files[path]["sha256"]
    except OSError:
        ok = False
    if not ok:
        bad.append(path)
if bad:
    print(" ".join(bad[:10]))
    sys.exit(3)
"""


def manifest_patch(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new` as a change to `base`: top-level fields, changed or added files, removed paths."""
    old_files, new_files = base.get("files", {}), new["files"]
    return {
        "top": {k: v for k, v in new.items() if k != "files"},
        "set": {p: m for p, m in new_files.items() if old_files.get(p) != m},
        "drop": sorted(set(old_files) - set(new_files)),
    }


def artifact_manifest(artifact: Path) -> bytes:
    with tarfile.open(artifact, "r:gz") as tar:
        member = tar.extractfile("manifest.json")
        if member is None:
            raise ArtifactError(f"{artifact}: no manifest.json")
        return member.read()


def local_manifest(dist_dir: Path, sha256: str) -> dict[str, Any] | None:
    """The manifest of the artifact with this sha256, if it is still in the local dist dir."""
    from deploy.artifact.verify import sidecars

    for artifact, sidecar in sidecars(dist_dir):
        try:
            if sidecar["sha256"] == sha256:
                return json.loads(artifact_manifest(artifact))
        except (OSError, ValueError, tarfile.TarError, ArtifactError):
            continue
    return None


def build_delta(artifact: Path, files: set[str], reused: set[str], dest: Path) -> None:
    """A tar.gz of the artifact's members except manifest.json, the regular files the host linked,
    and directories that hold files (linking or extracting a file creates its directories)."""
    parents = {str(parent) for f in files for parent in Path(f).parents}
    with tarfile.open(artifact, "r:gz") as src, tarfile.open(dest, "w:gz", compresslevel=6) as out:
        for member in src:
            name = member.name.removeprefix("./").rstrip("/")
            if (member.isfile() and (name in reused or name == "manifest.json")) or (member.isdir() and name in parents):
                continue
            out.addfile(member, src.extractfile(member) if member.isfile() else None)


def _plan(ops: "HostOps", python: str, previous_release_id: str, stage: str, order: dict[str, Any]) -> tuple[dict, int]:
    stdin = json.dumps(order).encode()
    out = ops.transport.run(
        f"rm -rf {q(stage)} && mkdir -p {q(stage)} && {q(python)} -c {q(PLAN)} "
        f"{q(ops.layout.release(previous_release_id))} {q(stage)}",
        stdin=stdin, timeout=ops.timeout,
    )
    return json.loads(out.stdout), len(stdin)


def delta_unpack(ops: "HostOps", artifact: Path, manifest: dict[str, Any], previous_release_id: str,
                 release_id: str, info: dict[str, Any], python: str = "python3") -> int:
    """Unpack `artifact` as releases/<release_id> reusing `previous_release_id`'s files; return bytes sent.

    The manifest itself travels as a patch against the previous release's when that release's
    artifact is still in the local dist dir (else whole)."""
    layout, transport = ops.layout, ops.transport
    final, stage = layout.release(release_id), layout.release(f".{release_id}.tmp")
    text = artifact_manifest(artifact)
    prev = next((r for r in ops.releases() if r.id == previous_release_id), None)
    base = local_manifest(artifact.parent, prev.artifact_sha256) if prev and prev.artifact_sha256 else None
    sent = 0
    plan: dict[str, Any] = {"need_full": True}
    if base is not None:
        plan, sent = _plan(ops, python, previous_release_id, stage,
                           {"patch": manifest_patch(base, manifest), "sha256": hashlib.sha256(text).hexdigest()})
    if plan.get("need_full"):
        plan, more = _plan(ops, python, previous_release_id, stage, {"manifest": text.decode("utf-8")})
        sent += more
    reused = set(manifest["files"]) - set(plan["missing"])
    remote = f"{layout.meta}/artifacts/delta-{release_id}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="shipyard-delta-") as tmp:
        delta = Path(tmp) / "delta.tar.gz"
        build_delta(artifact, set(manifest["files"]), reused, delta)
        transport.put(delta, remote, sha256=sha256_file(delta))
        sent += delta.stat().st_size
    extracted = json.dumps(plan["missing"]).encode()
    sent += len(extracted)
    release_json = json.dumps({**info, "id": release_id, "status": PENDING})
    result = transport.run(
        f"tar -xzf {q(remote)} -C {q(stage)} --no-same-owner --no-same-permissions && rm -f {q(remote)}\n"
        f"{q(python)} -c {q(VERIFY)} {q(stage)} || exit $?\n"
        f"printf '%s\\n' {q(release_json)} > {q(stage)}/release.json\n"
        f"mv -T {q(stage)} {q(final)}",
        stdin=extracted, timeout=ops.timeout, check=False,
    )
    if result.rc == 3:
        raise ArtifactError(f"{ops.host}: release {release_id} differs from its manifest after delta unpack: {result.stdout.strip()}")
    transport._checked(result, True)
    return sent
