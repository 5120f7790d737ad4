"""Wheelhouse and collectstatic, with a cache so a second build of the same
requirements neither downloads nor installs anything.

Cache layout (`wheel_cache`, or $SHIPYARD_WHEEL_CACHE):
    <key>/                 wheels for one requirements file + interpreter, with a `.complete` marker
    <key>-compiled/        those wheels installed with --target and compiled (deploy.artifact.bundle):
                           what collectstatic runs with and what dependency bundles are made of
                           (`<key>-tree/`, the same without bytecode, is what older builds left)
Both are built under a temporary name and renamed into place, so a crashed or
concurrent build never leaves a half-filled cache entry that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from deploy.errors import CommandTimeout, StepFailed

COMPLETE = ".complete"
PIP_TIMEOUT = 1800.0
DJANGO_TIMEOUT = 600.0
Log = Callable[[str], None]


def cache_key(requirements: Path) -> str:
    """sha256 of the requirements file, tagged with the interpreter (wheels can be version-specific)."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    return f"{digest}-{sys.implementation.cache_tag}"


def run_step(step: str, argv: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float) -> None:
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise CommandTimeout("localhost", " ".join(argv), timeout) from None
    if proc.returncode != 0:
        tail = "\n  ".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise StepFailed("localhost", step, f"`{' '.join(argv)}` exited {proc.returncode}\n  {tail}")


def filled_once(final: Path, fill: Callable[[Path], None]) -> bool:
    """Fill `final` via a temp sibling + rename unless it is already complete. True if filled now."""
    if (final / COMPLETE).is_file():
        return False
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        fill(tmp)
        (tmp / COMPLETE).write_text("")
        if (final / COMPLETE).is_file():  # another build finished first: theirs is as good as ours
            return True
        shutil.rmtree(final, ignore_errors=True)  # an incomplete leftover from a crash
        try:
            os.rename(tmp, final)
        except OSError:  # lost a race for the rename: the winner's entry is complete
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return True


def pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]


def cached_wheels(requirements: Path, cache: Path, log: Log) -> Path:
    """The cache dir holding wheels for `requirements` (built with `pip wheel` the first time)."""
    wheels = cache / cache_key(requirements)
    # --use-pep517: a setup.py-only sdist (wfastcgi) builds in pip's isolated env with a current
    # setuptools from the index, not with the controller venv's own (Debian's: setuptools 66 and no
    # `wheel`, so "invalid command 'bdist_wheel'")
    fill = lambda tmp: run_step("wheelhouse", pip("wheel", "-q", "--use-pep517", "-r", str(requirements), "-w", str(tmp)),
                                cwd=requirements.parent, timeout=PIP_TIMEOUT)
    if filled_once(wheels, fill):
        log(f"wheelhouse: pip wheel -r {requirements.name} -> {wheels}")
    else:
        log(f"wheelhouse: cache hit {wheels}")
    return wheels


def copy_wheels(source: Path, dest: Path) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in source.glob("*.whl"))
    for name in names:
        shutil.copyfile(source / name, dest / name)
    return names


def collectstatic(app: Path, static_root: Path, site_packages: Path | None, settings_module: str | None, log: Log) -> None:
    """`manage.py collectstatic` into `static_root`; no bytecode is written into the app tree."""
    env = {**os.environ, "STATIC_ROOT": str(static_root), "PYTHONDONTWRITEBYTECODE": "1"}
    if site_packages is not None:
        env["PYTHONPATH"] = str(site_packages)
    if settings_module:
        env["DJANGO_SETTINGS_MODULE"] = settings_module
    run_step("collectstatic", [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=app, env=env, timeout=DJANGO_TIMEOUT)
    count = sum(1 for p in static_root.rglob("*") if p.is_file()) if static_root.is_dir() else 0
    log(f"collectstatic: {count} files into static/")
