"""Host CPU of one POSIX update, on this machine, no lab: the receiver (deploy/release/receiver.py,
run as the host runs it, through LocalTransport) beside its floor, `tar xzf` of the same artifact.

Cases, interleaved round by round so load drifts hit them alike: `tar xzf` into an empty dir; a
first deploy of the whole artifact; a redeploy after a 10-file change (the delta). CPU is user+sys
of the child processes (the shell, python, tar), read with RUSAGE_CHILDREN around each case; the
receiver's own figure (`cpu` in its answer: python + its tars) is printed beside it.

    flock /tmp/shipyard-bench.lock python bench/receiver_cpu.py [--rounds 7] [--requirements]

SETTLE: on ext4 without a journal (this machine's), allocating an inode skips every inode of its
group deleted in the last 60-300 s, each skip a block lookup (ext4 find_inode_bit ->
recently_deleted): unpacking right after an `rm -rf` of a like-sized tree costs 4.1 s of system
time instead of 0.25 s. So the bench deletes nothing between measured cases, and waits once
after setting up (its build deletes a staging tree). Other processes' deletions still count.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from farm_common import make_repo, Project  # noqa: I001 - farm_common puts the project on sys.path

from deploy.artifact.bundle import native_platform
from deploy.artifact.verify import check_part, read_sidecar, verify_artifact
from deploy.config import HostConfig, load
from deploy.release.delta import Part, Shipments
from deploy.release.layout import Layout
from deploy.release.posix import PosixHostOps
from deploy.release.upload import DepsUpload, ReleaseUpload, send_release
from deploy.transport.local import LocalTransport


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(fn: Callable[[], Any]) -> tuple[float, Any]:
    before = children_cpu()
    out = fn()
    return children_cpu() - before, out


def host(root: Path) -> PosixHostOps:
    ops = PosixHostOps(LocalTransport(HostConfig(name="here", transport="local")), Layout(str(root)), 600)
    ops.prepare([], [])
    return ops


def shipments(artifact: Path) -> Shipments:
    """What a deploy ships, from the artifact as the controller verifies it (deploy.engine.context)."""
    side = read_sidecar(artifact)
    return Shipments(artifact, side["sha256"], verify_artifact(artifact, side["sha256"]), side.get("payload"), check_part)


def deps_of(ship: Shipments, has_env: bool = False) -> DepsUpload | None:
    """This machine's dependency bundle, as deploy.engine.dependencies.deps_upload picks it: sent to
    a host that lacks the env (a first deploy: each round starts from an empty site), not to one
    that has it (the redeploy)."""
    found = (ship.manifest.get("deps") or {}).get(native_platform())
    if found is None:
        return None
    part = Part("deps", found["sha256"], found["size"], path=ship.artifact.parent / found["bundle"])
    return DepsUpload(found["key"], found["manifest_sha256"], None if has_env else part)


def deploy(ops: PosixHostOps, ship: Shipments, rid: str, previous: str | None = None,
           previous_sha: str = "") -> dict[str, Any]:
    """The flow's `receive`: the bundle when the artifact has one, else its empty env in the same command."""
    deps = deps_of(ship, has_env=previous is not None)
    install = None if deps else (ship.manifest.get("env_key", "default"), "requirements.txt")
    upload = ReleaseUpload(rid, {"revision": rid}, sys.executable, previous, ship.full, [], [], deps, install)
    return send_release(ops, ship, upload, previous_sha)


def floor(parts: list[Path], into: Path) -> float:
    """CPU of `tar xzf` of each part into its own empty dir: what a host must do anyway."""
    total = 0.0
    for n, part in enumerate(parts):
        (into / str(n)).mkdir(parents=True)
        total += measured(lambda: subprocess.run(["tar", "xzf", str(part), "-C", str(into / str(n))], check=True))[0]
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--settle", type=float, default=90.0, help="seconds to wait after setting up (see SETTLE)")
    parser.add_argument("--requirements", action="store_true",
                        help="keep the site's requirements: a wheelhouse, and the dependency bundle for this machine")
    args = parser.parse_args()
    base = Path(f"/tmp/sybench-recv-{uuid.uuid4().hex[:6]}")
    try:
        repo = make_repo(base, vendor=True)
        project = Project(repo, load(repo / "shipyard.toml"))
        if not args.requirements:
            project.without_requirements()  # a wheelless artifact: its empty env comes with the stream
        v1 = project.first_build()
        s1 = shipments(v1)
        project.change_files(10)
        s2 = shipments(project.commit_and_build("bench: 10 files changed"))
        deps = deps_of(s1)
        parts = [s1.whole(deps is not None).part, *([deps.bundle] if deps and deps.bundle else [])]
        print(f"artifact {v1.stat().st_size / 1e6:.1f} MB, {len(s1.manifest['files'])} files; first deploy ships "
              f"{sum(p.size for p in parts) / 1e6:.1f} MB ({' + '.join(p.kind for p in parts)}); delta "
              f"{s2.for_previous(s1.full.part.sha256, dict, deps is not None).part.size} B")
        cpu: dict[str, list[float]] = {"tar xzf": [], "first deploy": [], "redeploy, 10 files": []}
        own: dict[str, list[float]] = {k: [] for k in cpu}
        os.sync()
        time.sleep(args.settle)
        print(f"load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for n in range(args.rounds):  # nothing is deleted until the end (SETTLE); the floor alternates first/last
            run = base / "runs" / str(n)
            ops = host(run / "site")
            if n % 2 == 0:
                cpu["tar xzf"].append(floor([p.path for p in parts], run / "tar"))
            took, answer = measured(lambda: deploy(ops, s1, "20260101-000001-aaaaaaa"))
            cpu["first deploy"].append(took)
            own["first deploy"].append(answer["cpu"])
            took, answer = measured(lambda: deploy(ops, s2, "20260101-000002-bbbbbbb", "20260101-000001-aaaaaaa",
                                                   s1.full.part.sha256))
            assert answer["written"] < 50, answer
            cpu["redeploy, 10 files"].append(took)
            own["redeploy, 10 files"].append(answer["cpu"])
            if n % 2:
                cpu["tar xzf"].append(floor([p.path for p in parts], run / "tar"))
        floor_s = statistics.median(cpu["tar xzf"])
        print(f"{'case':<20} {'CPU s (median)':>14} {'min':>6} {'max':>6} {'own':>6} {'/tar':>6}   (rounds {args.rounds})")
        for case, xs in cpu.items():
            mine = f"{statistics.median(own[case]):6.3f}" if own[case] else f"{'':>6}"
            print(f"{case:<20} {statistics.median(xs):14.3f} {min(xs):6.3f} {max(xs):6.3f} {mine} "
                  f"{statistics.median(xs) / floor_s:6.2f}")
        print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
