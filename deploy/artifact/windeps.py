"""Windows dependency bundles: a Windows host's wheel set, resolved and installed here.

For each Windows Python the config names (`python_version` of its Windows hosts), `invoke build`
resolves the requirements for win_amd64 with that Python (`pip download --platform win_amd64
--python-version X.Y --implementation cp --only-binary=:all:`, markers evaluated for Windows by
pip_foreign.py, the controller's own pure wheels offered first), installs the set once with
`pip install --target` for the same platform (no bytecode, no console scripts: their .exe
launchers are made per machine), and ships it as a bundle keyed like the native one
(`win-amd64-cpython-311`). The host unpacks it into its venv's site-packages; it never resolves,
downloads or builds (install.ps1).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Callable

from deploy.artifact.deps import PIP_TIMEOUT, filled_once, run_step

PIP_FOREIGN = Path(__file__).with_name("pip_foreign.py")
Log = Callable[[str], None]


def windows_platform(version: str) -> str:
    """'3.11' -> 'win-amd64-cpython-311': what a 64-bit CPython 3.11 on Windows reports
    (sysconfig.get_platform() + '-' + sys.implementation.cache_tag), as facts.ps1 asks it."""
    return f"win-amd64-cpython-{version.replace('.', '')}"


def windows_markers(version: str) -> dict[str, str]:
    """PEP 508 marker values of 64-bit CPython `version` on Windows."""
    return {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
            "platform_release": "", "platform_version": "", "python_version": version,
            "python_full_version": f"{version}.0", "implementation_name": "cpython",
            "implementation_version": f"{version}.0", "platform_python_implementation": "CPython"}


def _pip_for(version: str, *args: str) -> list[str]:
    target = ["--platform", "win_amd64", "--python-version", version, "--implementation", "cp", "--only-binary=:all:"]
    return [sys.executable, str(PIP_FOREIGN), json.dumps(windows_markers(version)),
            "--disable-pip-version-check", "--no-input", *args, *target]


def windows_wheels(requirements: Path, native_wheels: Path, cache: Path, version: str, log: Log) -> Path:
    """The win_amd64 wheels for `requirements` (pip download the first time, cached like the native set)."""
    platform = windows_platform(version)
    wheels = cache / f"{hashlib.sha256(requirements.read_bytes()).hexdigest()}-{platform}"
    fill = lambda tmp: run_step(  # noqa: E731
        f"dependencies for {platform}",
        _pip_for(version, "download", "-q", "-r", str(requirements), "-d", str(tmp), "--find-links", str(native_wheels)),
        cwd=requirements.parent, timeout=PIP_TIMEOUT)
    if filled_once(wheels, fill):
        log(f"wheelhouse: pip download for {platform} -> {wheels}")
    return wheels


def windows_tree(wheels: Path, version: str, log: Log) -> Path:
    """The wheels installed once with --target for win_amd64: site-packages as the host will hold it."""
    target = wheels.with_name(f"{wheels.name}-tree")
    whl = sorted(str(p) for p in wheels.glob("*.whl"))

    def fill(tmp: Path) -> None:
        run_step(f"dependencies for {windows_platform(version)}",
                 _pip_for(version, "install", "-q", "--no-index", "--no-deps", "--no-compile", "--find-links", str(wheels),
                          "--target", str(tmp), *whl), cwd=wheels, timeout=PIP_TIMEOUT)
        shutil.rmtree(tmp / "bin", ignore_errors=True)  # this machine's console scripts, useless there

    if filled_once(target, fill):
        log(f"dependencies: installed {len(whl)} wheels for {windows_platform(version)} into {target}")
    return target
