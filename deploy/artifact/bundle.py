"""Dependency bundles: a wheel set installed once, here, for a target platform.

Hosts unpack; they never resolve or build. `invoke build` installs the wheelhouse with
`pip install --target --no-compile` into a relocatable tree (pure files: the hosts run it
as PYTHONPATH, the way shared/envs/<key> was always used) and compiles its bytecode here
(`compile_tree`: reproducible .pyc that hosts load without compiling or writing anything), once
per wheel set and platform (cached beside the wheels), and writes it as `dist/deps/<key>.tar.gz`
with a `deps-manifest.json` at its root naming every file, .pyc included. The key is the wheel
set's env_key, the platform tag (`linux-x86_64-cpython-311`) and the bytecode's magic number
(Windows hosts' bundles, made by deploy.artifact.windeps without bytecode, are keyed by the first
two, `win-amd64-cpython-311`), so a redeploy with the same requirements ships nothing: a host that
has shared/envs/<key> reuses it, after checking it still matches its manifest.
Why a tree built here rather than an installer run on every host: bench/deps.py and
docs/linux-farm.md ("Dependencies").
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any, Callable

from deploy.artifact.deps import PIP_TIMEOUT, filled_once, pip, run_step
from deploy.artifact.manifest import tree_entries
from deploy.artifact.tarball import write_tarball
from deploy.transport.base import sha256_file

DEPS_MANIFEST = "deps-manifest.json"
BUNDLE_MTIME = 315532800  # 1980-01-01: bundles are keyed by content, not by a commit
Log = Callable[[str], None]


def native_platform() -> str:
    """This interpreter's platform tag: what a host running the same Python reports."""
    return f"{sysconfig.get_platform()}-{sys.implementation.cache_tag}"


def bytecode_tag() -> str:
    """The magic number of this interpreter's .pyc (what `compile_tree` writes): a Python that
    reads another would ignore the bundle's bytecode and rewrite it in the shared env."""
    return importlib.util.MAGIC_NUMBER.hex()


def bundle_key(env_key: str, platform: str, bytecode: str | None = None) -> str:
    """A bundle with bytecode never shares a key with one without (an env unpacked before it
    carried .pyc is not this bundle's env: the host gets the new one beside it)."""
    text = f"{env_key} {platform}" + (f" bytecode {bytecode}" if bytecode else "")
    return hashlib.sha256(text.encode()).hexdigest()


def installed_tree(wheels: Path, log: Log) -> Path:
    """The wheels installed once with --target (relocatable), then compiled by `compile_tree`
    (pip's own compiling would stamp each .pyc with the install time): the same wheels give the
    same tree wherever the cache is."""
    target = wheels.with_name(f"{wheels.name}-compiled")
    whl = sorted(p.name for p in wheels.glob("*.whl"))

    def fill(tmp: Path) -> None:
        run_step("dependencies",
                 pip("install", "-q", "--no-index", "--no-deps", "--no-compile", "--find-links", str(wheels),
                     "--target", str(tmp), *map(pinned, whl)),
                 cwd=wheels, timeout=PIP_TIMEOUT)
        compile_tree(tmp)

    if filled_once(target, fill):
        log(f"dependencies: installed and compiled {len(whl)} wheels into {target}")
    return target


def pinned(wheel: str) -> str:
    """`name==version` of a wheel file (found through --find-links): pip installs a wheel given by
    its path as a direct URL and records that path (direct_url.json), which differs between caches."""
    name, version = wheel.split("-")[:2]
    return f"{name}=={version}"


COMPILE = ("import compileall, py_compile, sys; compileall.compile_dir(sys.argv[1], ddir='', force=True, quiet=2, "
           "workers=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)")


def compile_tree(tree: Path) -> None:
    """__pycache__/*.pyc beside every .py of `tree`, byte-identical on every build: unchecked-hash
    .pyc (no source mtime in them; hosts never re-check a source against them, the env is verified
    against its manifest instead), source paths relative to the tree (the importer puts the real
    path back), files in sorted order by one process with a fixed hash seed. A source that does not
    compile gets no .pyc, as with pip; importing it would fail on the host all the same."""
    run_step("bytecode", [sys.executable, "-c", COMPILE, str(tree)], cwd=tree,
             env={**os.environ, "PYTHONHASHSEED": "0"}, timeout=PIP_TIMEOUT)


def deps_manifest(tree: Path, key: str, platform: str, env_key: str, bytecode: str | None = None) -> str:
    files, links = tree_entries(tree)
    files.pop(".complete", None)
    body = {"key": key, "platform": platform, "env_key": env_key, "files": files, "links": links}
    if bytecode:
        body["bytecode"] = bytecode
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def write_bundle(tree: Path, text: str, dest: Path) -> None:
    """dest = the tree + deps-manifest.json as a reproducible tar.gz (temp file, then rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".bundle-", dir=dest.parent) as tmp:
        root = Path(tmp) / "root"
        shutil.copytree(tree, root, symlinks=True, ignore=shutil.ignore_patterns(".complete"), copy_function=_link_or_copy)
        (root / DEPS_MANIFEST).write_text(text, encoding="utf-8")
        part = Path(tmp) / "bundle.tar.gz"
        write_tarball(root, part, BUNDLE_MTIME)
        os.chmod(part, 0o644)
        os.replace(part, dest)


def build_bundle(tree: Path, env_key: str, platform: str, dist: Path, scratch: Path,
                 log: Log, bytecode: str | None = None) -> tuple[dict[str, Any], Path]:
    """The bundle of an installed wheel set for `platform` (its .pyc of magic `bytecode`, if any)
    and the file holding it: the one in dist/deps/ when it is already there with this manifest,
    else a new one under `scratch` (moved into dist/ by `publish_bundle` once the artifact itself
    is published)."""
    key = bundle_key(env_key, platform, bytecode)
    text = deps_manifest(tree, key, platform, env_key, bytecode)
    dest = dist / "deps" / f"{key}.tar.gz"
    if not dest.is_file() or not _holds(dest, text):
        dest = scratch / dest.name
        write_bundle(tree, text, dest)
        log(f"dependencies: bundle {dest.name} for {platform} ({dest.stat().st_size / 1e6:.1f} MB)")
    info = {"key": key, "platform": platform, "manifest_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "bundle": f"deps/{dest.name}", "sha256": sha256_file(dest), "size": dest.stat().st_size}
    if bytecode:
        info["bytecode"] = bytecode
    return info, dest


def publish_bundle(made: Path, dist: Path) -> None:
    """Into dist/deps/ (a temp name, then rename), unless it is the copy already there."""
    final = dist / "deps" / made.name
    if made == final:
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.part")
    shutil.copyfile(made, tmp)
    os.replace(tmp, final)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another filesystem
        shutil.copy2(src, dst)


def _holds(bundle: Path, text: str) -> bool:
    """A bundle already in dist/ is reused only when it carries exactly this manifest."""
    import tarfile

    try:
        with tarfile.open(bundle, "r:gz") as tar:
            member = tar.extractfile(DEPS_MANIFEST)
            return member is not None and member.read().decode("utf-8") == text
    except (OSError, tarfile.TarError, KeyError, UnicodeDecodeError):
        return False
