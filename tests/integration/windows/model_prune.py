"""remove_releases.ps1's PruneArtifacts, modelled: the uploads in .shipyard\\artifacts that no remaining
release came from (release.json's unpacked_from, or its artifact_sha256 for one unpacked before that
was recorded) and no remaining release's env was made from (the env's .shipyard-bundle) are deleted,
never through a link; a release that cannot tell keeps every upload."""

from __future__ import annotations

import json
import re
from pathlib import PureWindowsPath

from tests.integration.windows.model_base import RELEASE_ID, ModelError

CANNOT_TELL = "cannot tell which uploads it came from"
RE_SHA = re.compile(r"^[0-9a-f]{64}$")


def assert_artifacts_inside(model, deploy_to: str, prune: bool) -> None:
    """Before anything is moved or deleted: every file in the folder may go."""
    artifacts = PureWindowsPath(deploy_to, ".shipyard", "artifacts")
    if prune and model.exists(model.local(str(artifacts))):
        model.assert_inside(str(artifacts), [deploy_to], "prune the uploads in", follow=True)


def uploads_in_use(model, deploy_to: str) -> set[str]:
    """Names (and, for releases that predate unpacked_from, artifact sha256s) remaining releases use."""
    in_use: set[str] = set()
    root = model.local(deploy_to) / "releases"
    for d in sorted(root.iterdir() if root.exists() else []):
        if not RELEASE_ID.match(d.name):
            continue
        info_path = d / "release.json"
        if not info_path.is_file():
            raise ModelError(f"{model.windows(d)} has no release.json: {CANNOT_TELL}")
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ModelError(f"{model.windows(info_path)} is not JSON ({e}): {CANNOT_TELL}") from None
        if not isinstance(info, dict):
            raise ModelError(f"{model.windows(info_path)} is not a JSON object: {CANNOT_TELL}")
        if info.get("unpacked_from"):
            in_use.add(str(info["unpacked_from"]).lower())
        elif RE_SHA.match(str(info.get("artifact_sha256", ""))):
            in_use.add(info["artifact_sha256"])
        else:
            raise ModelError(f"{model.windows(info_path)} names neither unpacked_from nor artifact_sha256: {CANNOT_TELL}")
        env = model.link_target(model.windows(d / ".deps"))
        note = model.local(deploy_to) / "shared" / "envs" / PureWindowsPath(env).name / ".shipyard-bundle" if env else None
        if note is not None and note.is_file():
            in_use.add(note.read_text(encoding="utf-8").strip().lower())
    return in_use


def prune_uploads(model, deploy_to: str) -> tuple[list[str], list[dict]]:
    """(pruned names, not_pruned entries), as the script answers them."""
    artifacts = model.local(deploy_to) / ".shipyard" / "artifacts"
    if not model.exists(artifacts):
        return [], []
    try:
        in_use = uploads_in_use(model, deploy_to)
    except ModelError as e:
        return [], [{"path": model.windows(artifacts), "error": f"nothing pruned: {e}"}]
    pruned, not_pruned = [], []
    for upload in sorted(artifacts.iterdir()):
        if upload.name.lower() in in_use or upload.name.split(".")[0].lower() in in_use:
            continue  # PowerShell's @{} compares keys without case
        try:
            model.remove_tree(upload)
            pruned.append(upload.name)
        except ModelError as e:
            not_pruned.append({"path": model.windows(upload), "error": str(e)})
    return pruned, not_pruned

