"""What the deploy engine calls: `before_switch` in the publishing stage (migrations and/or
a schema sync, before any host switches), `snapshot` beside each release, and
`rollback_blockers` before a rollback crosses a contract change."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from deploy.config import EnvConfig, Loaded
from deploy.db.compare import desired, from_json, plan
from deploy.db.typemap import read_desired
from deploy.db.errors import DestructiveRefused
from deploy.db.introspect import introspect
from deploy.db.renames import Rename
from deploy.db.session import target


def shadow_of(tgt: Any) -> Any:
    """Where a PostgreSQL target's `sql/schema` is loaded to be read back (see postgres/shadow.py)."""
    from deploy.db.postgres.shadow import ShadowSource

    return ShadowSource(tgt.url, tgt.password, tgt.settings.shadow_database, tgt.settings.timeout)


def expected(tgt: Any) -> Any:
    """The schema the target should have: PostgreSQL's and MySQL's through a shadow database;
    the others' read from the files (T-SQL translating types when sql/schema is written for
    another dialect)."""
    if tgt.url.dialect == "postgres":
        return desired(tgt.sql_dir / "schema", "postgres", shadow_of(tgt))
    if tgt.url.dialect == "mysql":
        return tgt.mysql_desired(tgt.sql_dir / "schema")
    return read_desired(tgt.sql_dir / "schema", tgt.url.dialect, tgt.settings.schema_dialect)[0]


def plan_for(conn: Any, tgt: Any) -> Any:
    dialect = tgt.url.dialect
    renames = [Rename.parse(h, dialect) for h in tgt.settings.renames]
    return plan(introspect(conn, dialect), expected(tgt), renames, tgt.settings.with_privileges,
                concurrently=tgt.settings.concurrently, with_owners=tgt.settings.with_owners,
                lock_timeout=tgt.settings.lock_timeout)


def before_switch(loaded: Loaded, env: EnvConfig, release_id: str, log: Callable[[str], None]) -> dict:
    """Run the configured database steps; raise (before any switch) on the first failure."""
    if not env.database or env.db is None or not env.db.deploy_steps:
        return {}
    from deploy.db.migrate import migrate

    tgt = target(loaded, env)
    if "data" in env.db.deploy_steps:
        from deploy.db.data import refuse_unsupported

        refuse_unsupported(tgt.url.dialect)  # before the other steps change anything
    summary: dict[str, Any] = {"release": release_id, "database": tgt.url.server, "steps": list(env.db.deploy_steps)}
    conn = tgt.connect()
    try:
        for step in env.db.deploy_steps:  # in the configured order
            if step == "migrate":
                summary["migrations"] = migrate(conn, tgt.url.dialect, tgt.sql_dir / "migrations", log=log)
            elif step == "data":
                summary["data"] = _data(conn, tgt, log)
            else:
                summary.update(_sync(conn, tgt, env.db.allow_destructive, log, loaded.root))
    finally:
        conn.close()
    return summary


def preview(loaded: Loaded, env: EnvConfig) -> str | None:
    """The pending migrations, sync and reference-data scripts a deploy would run (read-only),
    for `invoke plan`; None when no step is configured."""
    steps = env.db.deploy_steps if env.database and env.db else []
    if not steps:
        return None
    from deploy.db.migrate import find_migrations, pending_preview
    from deploy.db.render import render

    tgt = target(loaded, env)
    if steps == ["migrate"] and tgt.url.dialect == "sqlite" and not Path(tgt.url.database).exists():
        names = ", ".join(m.path.name for m in find_migrations(tgt.sql_dir / "migrations")) or "none"
        return f"-- migrations to run, in order: {names} (the SQLite database is not there yet; plan does not create it)"
    conn = tgt.connect()
    try:
        parts = [pending_preview(conn, tgt.url.dialect, tgt.sql_dir / "migrations")] if "migrate" in steps else []
        if "sync" in steps:
            parts.append(render(plan_for(conn, tgt), tgt.url.dialect, tgt.settings.server_version).text())
        if "data" in steps:
            from deploy.db.data import preview as data_preview

            parts.append("-- reference data:\n" + (data_preview(conn, tgt.url.dialect, tgt.settings, tgt.sql_dir) or "-- in sync"))
        return "\n".join(parts)
    finally:
        conn.rollback()  # reading the journal may have created it in this transaction
        conn.close()


def _data(conn: Any, tgt: Any, log: Callable[[str], None]) -> dict:
    """Reference data after the schema steps, before the switch; deletes need allow_destructive."""
    from deploy.db.data import sync_data

    lines: list[str] = []
    result = sync_data(conn, tgt.url.dialect, tgt.settings, tgt.sql_dir, apply_it=True,
                       allow_destructive=tgt.settings.allow_destructive, write=lines.append)
    log(f"database: reference data, {result.total} row change(s)")
    return {"changes": result.total, "tables": {t: str(c) for t, c in result.counts.items()}, "script": "\n".join(lines)}


def _sync(conn: Any, tgt: Any, allow_destructive: bool, log: Callable[[str], None], root: Path) -> dict:
    from deploy.db.checkpoint import run_checkpointed
    from deploy.db.render import render

    plan = plan_for(conn, tgt)
    if plan.destructive and not allow_destructive:
        raise DestructiveRefused([c.describe() for c in plan.destructive])
    script = render(plan, tgt.url.dialect, tgt.settings.server_version)
    log(f"database: {len(script.statements)} statement(s), {plan.classification}")
    records = run_checkpointed(conn, script, getattr(plan, "live", None), root, tgt.url, log)
    return {"classification": plan.classification, "script": script.text(), "statements": records,
            "transactional": script.transactional}


def snapshot(loaded: Loaded, env: EnvConfig) -> dict:
    """The schema this release expects (its `sql/schema`), as JSON; {} without a database."""
    if not env.database:
        return {}
    return expected(target(loaded, env)).to_json()


def rollback_blockers(current_snapshot: dict, target_snapshot: dict) -> list[str]:
    """What the older release's code would miss if the database stays as the current
    release left it: the contract changes from the target's schema to the current one."""
    if not current_snapshot or not target_snapshot:
        return []
    if target_snapshot.get("format") != current_snapshot.get("format"):
        return ["the two releases recorded their schemas in different formats (one by an older Shipyard): "
                "cannot tell whether the change was expand-only"]
    return [_why(c) for c in plan(from_json(target_snapshot), from_json(current_snapshot)).contract]


def _why(change: Any) -> str:
    reasons = {
        "drop_table": "table {t} is gone", "drop_column": "column {t} is gone", "drop_routine": "{t} is gone",
        "drop_sequence": "sequence {t} is gone", "rename_table": "table {t} was renamed",
        "rename_column": "column {t} was renamed", "alter_column": "column {t} changed (narrower or NOT NULL)",
        "add_column": "new NOT NULL column {t} without a default (old inserts fail)",
        "drop_constraint": "{t} changed", "drop_foreign_key": "{t} changed",
    }
    if change.kind not in reasons and change.kind.startswith("drop_"):  # PostgreSQL's kinds: drop_view, drop_function...
        return f"{change.kind[5:]} {change.target} is gone"
    return reasons.get(change.kind, "{t}: " + change.kind).format(t=change.target)


def drift(live: Any, recorded_snapshot: dict) -> list[str]:
    """Differences between the live schema and what the previous release recorded."""
    if not recorded_snapshot:
        return []
    return [c.describe() for c in plan(from_json(recorded_snapshot), live).changes]


def check_drift(loaded: Loaded, env: EnvConfig, recorded_snapshot: dict) -> list[str]:
    """The pre-deploy drift check: the live database against the previous release's snapshot
    (a change made by hand since then shows up here, before this deploy builds on it)."""
    if not env.database or not recorded_snapshot:
        return []
    tgt = target(loaded, env)
    conn = tgt.connect()
    try:
        return drift(introspect(conn, tgt.url.dialect), recorded_snapshot)
    finally:
        conn.close()
