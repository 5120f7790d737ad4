"""Build one artifact from an exact revision:

    resolve rev -> refuse a dirty tree -> export app/ -> wheelhouse/ -> static/
    -> manifest.json -> reproducible .tar.gz (temp file, then rename) -> sidecar .json
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from deploy.artifact import bundle, deps, windeps
from deploy.artifact.manifest import env_key, make_manifest
from deploy.artifact.source import app_subdir, export_source, hooks_at
from deploy.artifact.tarball import write_tarball
from deploy.config import Loaded
from deploy.errors import VcsError
from deploy.transport.base import sha256_file
from deploy.vcs import Vcs, open_vcs

Log = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    path: Path
    sha256: str
    manifest: dict[str, Any]
    sidecar: Path


def artifact_name(project: str, short: str, dirty: bool) -> str:
    return f"{project}-{short}{'-dirty' if dirty else ''}.tar.gz"


def sidecar_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + ".json")


def wheel_cache_dir(cfg: Loaded) -> Path:
    override = os.environ.get("SHIPYARD_WHEEL_CACHE")
    return Path(override).resolve() if override else cfg.resolve(cfg.build.wheel_cache)


def build_artifact(cfg: Loaded, rev: str | None = None, allow_dirty: bool = False, log: Log = print) -> BuildResult:
    vcs = open_vcs(cfg.resolve(cfg.project.repo), cfg.project.vcs)
    revision = vcs.resolve(rev)
    subdir = app_subdir(cfg, vcs)
    log(f"resolve: {rev or 'working copy'} -> {revision} ({vcs.kind})")
    dirty = is_dirty_build(vcs, subdir, rev, revision, allow_dirty)
    hooks = hooks_at(cfg, vcs, revision, dirty=dirty)  # a bad committed config fails before any slow step
    with tempfile.TemporaryDirectory(prefix="shipyard-build-") as tmp:
        staging = Path(tmp) / "root"
        export_source(vcs, revision, subdir, staging / "app", dirty=dirty)
        log(f"export: {subdir} at {vcs.short(revision)}{' (dirty working tree)' if dirty else ''} -> app/")
        requirements_sha256, bundles, made = stage_dependencies(cfg, staging, log)
        source = {
            "project": cfg.project.name, "vcs": vcs.kind, "revision": revision, "short": vcs.short(revision),
            "describe": vcs.describe(revision), "dirty": dirty, "commit_time": vcs.commit_time(revision),
        }
        manifest = make_manifest(staging, source=source, requirements_sha256=requirements_sha256, hooks=hooks)
        if bundles:
            manifest["deps"] = bundles
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        log(f"manifest: {len(manifest['files'])} files, env_key {manifest['env_key'][:12]}")
        dist = cfg.resolve(cfg.build.dist_dir)
        path = dist / artifact_name(cfg.project.name, source["short"], dirty)
        sha256 = publish(staging, path, source["commit_time"])
        payload = publish_payload(staging, path, source["commit_time"]) if bundles else None
        for bundle_file in made:
            bundle.publish_bundle(bundle_file, dist)
    sidecar = write_sidecar(path, sha256, manifest, payload)
    log(f"artifact: {path.name} sha256 {sha256}")
    return BuildResult(path=path, sha256=sha256, manifest=manifest, sidecar=sidecar)


def is_dirty_build(vcs: Vcs, subdir: str, rev: str | None, revision: str, allow_dirty: bool) -> bool:
    """A dirty app_dir is refused unless allowed; allowed, the working tree is what ships.

    Only a build of the working copy's own revision can be dirty: building another
    revision exports that revision exactly, whatever the working tree holds.
    """
    if rev is not None and revision != vcs.resolve(None):
        return False
    changed = vcs.changed_files(subdir)
    if not changed:
        return False
    if not allow_dirty:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise VcsError(f"{vcs.root}: uncommitted changes under {subdir} ({shown}); commit them or pass --allow-dirty")
    return True


def stage_dependencies(cfg: Loaded, staging: Path, log: Log) -> tuple[str | None, dict[str, Any], list[Path]]:
    """wheelhouse/ from the cache, the dependency bundles (made beside the staging dir, published
    into dist/deps/ with the artifact), then static/ via collectstatic. Returns the requirements
    sha256, {platform: bundle} and the bundle files to publish."""
    app, wheelhouse = staging / "app", staging / "wheelhouse"
    wheelhouse.mkdir()
    requirements = app / cfg.build.requirements if cfg.build.requirements else None
    cached, made, tree = None, [], None
    if requirements is not None and requirements.is_file():
        cached = deps.cached_wheels(requirements, wheel_cache_dir(cfg), log)
        log(f"wheelhouse: {len(deps.copy_wheels(cached, wheelhouse))} wheels")
        if any(cached.glob("*.whl")):
            tree = bundle.installed_tree(cached, log)
            made = dependency_bundles(cfg, requirements, cached, (tree, env_key(wheelhouse)), staging.parent, log)
    elif requirements is not None:
        log(f"wheelhouse: no {cfg.build.requirements} in app/, empty wheelhouse")
    if cfg.build.collectstatic and (app / "manage.py").is_file():
        deps.collectstatic(app, staging / "static", tree, cfg.build.settings_module, log)
    bundles = {info["platform"]: info for info, _ in made}
    return (hashlib.sha256(requirements.read_bytes()).hexdigest() if cached else None), bundles, [p for _, p in made]


def windows_pythons(cfg: Loaded) -> list[str]:
    """X.Y of each Windows host's Python in the config's environments (the controller's own when
    a host names none); none when build.windows_bundles is off."""
    if not cfg.build.windows_bundles:
        return []
    native = f"{sys.version_info.major}.{sys.version_info.minor}"
    return sorted({h.python_version or native for env in cfg.all_envs().values() for h in env.hosts if h.is_windows})


def dependency_bundles(cfg: Loaded, requirements: Path, cached: Path, native: tuple[Path, str], scratch: Path,
                       log: Log) -> list[tuple[dict[str, Any], Path]]:
    """The native bundle (`native`: its installed, compiled tree and the wheelhouse's env_key), plus
    one for win_amd64 per Windows Python of the config (deploy.artifact.windeps, without bytecode)."""
    dist = cfg.resolve(cfg.build.dist_dir)
    made = [bundle.build_bundle(*native, bundle.native_platform(), dist, scratch, log, bundle.bytecode_tag())]
    for version in windows_pythons(cfg):
        wheels = windeps.windows_wheels(requirements, cached, wheel_cache_dir(cfg), version, log)
        made.append(bundle.build_bundle(windeps.windows_tree(wheels, version, log), env_key(wheels),
                                        windeps.windows_platform(version), dist, scratch, log))
    return made


def publish(staging: Path, path: Path, mtime: int) -> str:
    """Write the tarball to a temp file in dist/, then rename: no half-written artifact, ever."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write_tarball(staging, Path(tmp), mtime)
        sha256 = sha256_file(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha256


def payload_path(artifact: Path) -> Path:
    """dist/.payload/<artifact name>: out of the way of anything that lists dist/*.tar.gz."""
    return artifact.parent / ".payload" / artifact.name


def publish_payload(staging: Path, artifact: Path, mtime: int) -> dict[str, Any]:
    """The artifact without wheelhouse/: what a host that gets the dependency bundle needs
    (its manifest.json is the artifact's own; verify.check_part checks it against that once per run)."""
    wheelhouse = staging / "wheelhouse"
    aside = staging.with_name("wheelhouse-aside")
    wheelhouse.rename(aside)
    try:
        path = payload_path(artifact)
        sha256 = publish(staging, path, mtime)
    finally:
        aside.rename(wheelhouse)
    return {"file": path.relative_to(artifact.parent).as_posix(), "sha256": sha256, "size": path.stat().st_size}


def write_sidecar(artifact: Path, sha256: str, manifest: dict[str, Any], payload: dict[str, Any] | None = None) -> Path:
    """`<artifact>.json`: the artifact's own sha256 and who built it when (kept out of the tarball)."""
    data = {
        "artifact": artifact.name,
        "sha256": sha256,
        "size": artifact.stat().st_size,
        "revision": manifest["revision"],
        "short": manifest["short"],
        "built_at": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
        "built_by": f"{getpass.getuser()}@{socket.gethostname()}",
        "dirty": manifest["dirty"],
    }
    if payload:
        data["payload"] = payload
    sidecar = sidecar_path(artifact)
    tmp = sidecar.with_name(sidecar.name + ".part")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, sidecar)
    return sidecar
