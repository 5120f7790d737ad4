"""Scripts that cannot run in a transaction (MySQL commits each DDL statement on its own):
before the first statement the schema as it was is saved beside a progress file, each
statement done is recorded, and a failure says what was applied and how to resume (run the
sync again: it diffs from the live schema) or to go back (sync to the saved snapshot). On
success both files are removed: there is nothing left to resume."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable

from deploy.db.connect import DbUrl
from deploy.db.errors import PartlyApplied, StatementFailed
from deploy.db.execute import run_script
from deploy.db.model import Schema
from deploy.db.render.base import Script


def checkpoint_paths(root: Path, url: DbUrl) -> tuple[Path, Path]:
    """(progress file, snapshot of the schema before) under the project's .shipyard/db/."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{url.host or 'local'}_{url.port or ''}_{url.database}")
    base = root / ".shipyard" / "db"
    return base / f"{name}.checkpoint.json", base / f"{name}.before.json"


def _write(path: Path, data: Any) -> None:
    """0600: a schema and a script are not secrets, but they are nobody else's business."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=1, sort_keys=True)


def run_checkpointed(conn: Any, script: Script, before: Schema, root: Path, url: DbUrl,
                     log: Callable[[str], None] = lambda _: None) -> list[dict]:
    if script.transactional:
        return run_script(conn, script, log)
    progress_path, snapshot_path = checkpoint_paths(root, url)
    _write(snapshot_path, before.to_json())
    progress = {"database": url.server + "/" + url.database, "statements": [s.sql for s in script.statements],
                "applied": 0, "snapshot": str(snapshot_path)}
    _write(progress_path, progress)

    def done(record: dict) -> None:
        progress["applied"] = record["batch"]
        _write(progress_path, progress)

    try:
        records = run_script(conn, script, log, on_step=done)
    except StatementFailed as e:
        raise PartlyApplied(e, progress["applied"], len(progress["statements"]), progress_path, snapshot_path) from None
    progress_path.unlink(missing_ok=True)
    snapshot_path.unlink(missing_ok=True)
    return records
