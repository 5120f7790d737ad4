"""The fleet-wide deploy record: what an unfinished deploy was doing, so that
`invoke deploy --resume` can finish it after the controller died (a killed CI job,
a lost laptop). Kept beside shipyard.toml (0600: it names the run's token), written
when the environment is locked and removed when the deploy ends either way — by the
run that wrote it only: a run refused by the lock never touches the holder's record.
The hosts themselves say which of them already serve the new release."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from deploy.engine.context import RunContext


def record_path(ctx: "RunContext") -> Path:
    return ctx.loaded.root / ".shipyard" / "runs" / f"{ctx.env_name}.json"


def write(ctx: "RunContext") -> None:
    from deploy.secrets import scrub

    owner = ctx.owner
    data = {"release_id": ctx.release_id, "artifact": str(ctx.artifact), "sha256": ctx.sha256,
            "token": owner["token"], "user": owner["user"], "started": owner.get("since"),
            "machine": owner.get("machine"), "pid": owner.get("pid"), "boot_id": owner.get("boot_id"),
            "pid_started": owner.get("pid_started"), "previous": {t.name: t.previous for t in ctx.targets}}
    path = record_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(scrub(data), indent=2) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read(ctx: "RunContext") -> dict[str, Any] | None:
    path = record_path(ctx)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        from deploy.errors import UsageError

        raise UsageError(f"{path}: unreadable run record ({e}); remove it to start afresh") from None
    return data if isinstance(data, dict) else None


def clear(ctx: "RunContext") -> None:
    """Remove the record if this run wrote it (same token); never another run's."""
    try:
        mine = (read(ctx) or {}).get("token") == ctx.owner.get("token")
    except Exception:  # noqa: BLE001 - an unreadable record is not ours to judge
        mine = False
    if mine:
        record_path(ctx).unlink(missing_ok=True)
