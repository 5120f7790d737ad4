"""Compare what Shipyard would render with what a host runs now.

The live release's `etc/site.json` names the release and the files it carries,
so the comparison renders for that same release id (headers match) and fetches
only files the host is known to have."""

from __future__ import annotations

import difflib
import json
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from deploy.config import EnvConfig, HostConfig, Loaded
from deploy.errors import CommandFailed
from deploy.siteconfig import release_files
from deploy.siteconfig.render import MANIFEST
from deploy.transport.base import Transport


def live_path(env: EnvConfig, host: HostConfig, relative: str) -> str:
    flavour = PureWindowsPath if host.is_windows else PurePosixPath
    return str(flavour(env.host_deploy_to(host), "current", *PurePosixPath(relative).parts))


def fetch(transport: Transport, remote: str) -> str | None:
    """A file's text from the host, or None when it is not there."""
    with tempfile.TemporaryDirectory(prefix="shipyard-live-") as tmp:
        local = Path(tmp) / "file"
        try:
            transport.get(remote, local)
        except (FileNotFoundError, CommandFailed):
            return None
        return local.read_text(encoding="utf-8", errors="replace")


def diff_host(loaded: Loaded, env_name: str, host: HostConfig, transport: Transport) -> list[str]:
    """Unified diff lines, live (a/) against rendered (b/); empty when they match."""
    env = loaded.environment(env_name)
    manifest_text = fetch(transport, live_path(env, host, MANIFEST))
    live_manifest = json.loads(manifest_text) if manifest_text else {}
    release_id = live_manifest.get("release", "(none)")
    rendered = release_files(loaded, env_name, host, release_id)
    live = {MANIFEST: manifest_text} if manifest_text else {}
    for path in live_manifest.get("files", {}):
        live[path] = fetch(transport, live_path(env, host, path))
    lines: list[str] = []
    for path in sorted(set(rendered) | set(live)):
        old, new = live.get(path) or "", rendered.get(path, "")
        if old != new:
            lines += difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                          f"a/{host.name}/{path}" if path in live else "/dev/null",
                                          f"b/{host.name}/{path}" if path in rendered else "/dev/null")
    return [line if line.endswith("\n") else line + "\n" for line in lines]


def write_rendered(files: dict[str, str], out: Path) -> list[Path]:
    written = []
    for relative, text in sorted(files.items()):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
