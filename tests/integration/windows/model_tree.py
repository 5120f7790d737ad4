"""The library's tree check (Get-ExpectedFiles, Assert-TreeMatches in lib/Shipyard.ps1), modelled:
what unpack.ps1 and install.ps1 refuse before a tree is renamed into place."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.integration.windows.model_base import DotNetError, ModelError


def read_json_file(path: Path) -> object:
    """Read-JsonFile: invalid JSON is a .NET ArgumentException, surfacing unchanged."""
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except ValueError as e:
        raise DotNetError(f"Invalid JSON primitive: {e}") from None


def expected_files(manifest: object, omit: list[str]) -> dict[str, dict]:
    if not isinstance(manifest, dict) or "files" not in manifest:
        raise ModelError("the manifest names no files")
    return {path: meta for path, meta in manifest["files"].items() if path.split("/")[0] not in omit}


def assert_tree_matches(root: Path, expected: dict[str, dict], extra: list[str], what: str) -> int:
    """Every file of `expected` there with its size and sha256, nothing else besides `extra`, no links
    (a junction or symbolic link is a symlink in the modelled file system)."""
    seen: set[str] = set()
    pending = [root]
    while pending:
        for entry in sorted(pending.pop().iterdir()):
            relative = entry.relative_to(root).as_posix()
            if entry.is_symlink():
                raise ModelError(f"{what}: refusing a link or reparse point in the tree: {relative}")
            if entry.is_dir():
                pending.append(entry)
                continue
            if relative in extra:
                continue
            if relative not in expected:
                raise ModelError(f"{what}: {relative} is not in the manifest")
            want, data = expected[relative], entry.read_bytes()
            if len(data) != int(want["size"]):
                raise ModelError(f"{what}: {relative} is {len(data)} bytes, the manifest says {want['size']}")
            digest = hashlib.sha256(data).hexdigest()
            if digest != want["sha256"]:
                raise ModelError(f"{what}: {relative} has sha256 {digest}, the manifest says {want['sha256']}")
            seen.add(relative)
    missing = sorted(set(expected) - seen)
    if missing:
        raise ModelError(f"{what}: {len(missing)} file(s) of the manifest missing, the first {missing[0]}")
    return len(seen)
