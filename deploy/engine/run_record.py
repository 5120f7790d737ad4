"""The fleet-wide deploy record: what an unfinished deploy was doing, so that
`invoke deploy --resume` can finish it after the controller died (a killed CI job,
a lost laptop). Kept beside shipyard.toml, written when the environment is locked
and removed when the deploy ends either way; the hosts themselves say which of them
already serve the new release."""

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
    data = {"release_id": ctx.release_id, "artifact": str(ctx.artifact), "sha256": ctx.sha256,
            "token": ctx.owner["token"], "user": ctx.owner["user"], "started": ctx.owner.get("since"),
            "previous": {t.name: t.previous for t in ctx.targets}}
    path = record_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def read(ctx: "RunContext") -> dict[str, Any] | None:
    path = record_path(ctx)
    return json.loads(path.read_text()) if path.is_file() else None


def clear(ctx: "RunContext") -> None:
    record_path(ctx).unlink(missing_ok=True)
