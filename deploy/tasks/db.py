"""invoke db.*: diff, sync, snapshot, migrate, bounce-test. Heavy imports live in the bodies
so `invoke --list` stays fast. Exit codes: 0 no differences, 2 differences, 3 destructive
changes refused (see deploy/db/errors.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import invoke

from deploy.tasks._task import shipyard_task

HELP = {
    "env": "environment in shipyard.toml (default: local)",
    "from_": "source: 'live' (default), a sql/ dir, a snapshot .json, or a database URL",
    "to": "target: a sql/ dir (default: the env's sql_dir), 'live', a snapshot .json, or a URL",
    "allow-destructive": "allow drops and narrowing type changes",
    "rename": "rename hint, repeatable: table:OLD=NEW or column:TABLE.OLD=NEW",
    "config": "path to shipyard.toml",
    "apply": "run the script (otherwise only print it)",
    "output": "file to write (default: stdout)",
    "baseline": "record existing scripts as applied without running them",
    "with-privileges": "PostgreSQL: compare GRANT/REVOKE too",
    "with-owners": "PostgreSQL: compare owners too (ALTER ... OWNER TO)",
    "concurrently": "PostgreSQL: build and drop indexes on existing tables with CONCURRENTLY, after the transaction",
    "lock-timeout": "PostgreSQL: SET lock_timeout for the script, e.g. 5s or 500ms (default 3s with --concurrently)",
    "skip-destructive": "leave out what would lose data (drops of tables, columns, sequences; narrowing) and do the rest",
    "check": "only compare: exit 1 when the file is not what the models create (for CI)",
}


def _help(*names: str) -> dict[str, str]:
    return {n: HELP[n] for n in names}


def _env(config: str | None, env: str, standalone: bool = False) -> tuple[Any, Any]:
    """The config and environment; with `standalone` (both sides of a compare given
    explicitly) no shipyard.toml is needed: a compare of two URLs or files stands alone."""
    from deploy import config as cfg
    from deploy.errors import ConfigError

    try:
        loaded = cfg.load(config)
    except ConfigError:
        if not standalone or config:
            raise
        loaded = cfg.Loaded(Path.cwd() / cfg.DEFAULT_FILE, cfg.parse("", cfg.DEFAULT_FILE))
    return loaded, loaded.environment(env)


@shipyard_task(help=_help("env", "from_", "to", "allow-destructive", "rename", "config", "with-privileges",
                          "skip-destructive", "concurrently", "with-owners", "lock-timeout"), iterable=["rename"])
def diff(c, env="local", from_="live", to=None, allow_destructive=False, rename=None, config=None, with_privileges=False,
         skip_destructive=False, concurrently=False, with_owners=False, lock_timeout=None):
    """Print the script that takes FROM to TO (default: the live database to sql/)."""
    from deploy.db.compare_cli import compare_cli

    loaded, envc = _env(config, env, standalone=from_ != "live" and to is not None and to != "live")
    compare_cli(loaded, envc, from_, to, allow_destructive, rename, with_privileges, skip_destructive, concurrently,
                with_owners, lock_timeout)


@shipyard_task(help=_help("env", "apply", "allow-destructive", "rename", "config", "with-privileges", "skip-destructive",
                          "to", "concurrently", "with-owners", "lock-timeout"), iterable=["rename"])
def sync(c, env="local", apply=False, allow_destructive=False, rename=None, config=None, with_privileges=False,
         skip_destructive=False, to=None, concurrently=False, with_owners=False, lock_timeout=None):
    """Make the live database match sql/schema (or --to); prints the script, runs it with --apply."""
    from deploy.db.checkpoint import run_checkpointed
    from deploy.db.compare_cli import plan_sides, warn_unsupported
    from deploy.db.errors import DestructiveRefused, SchemaDifferences
    from deploy.db.render import render
    from deploy.db.session import target

    loaded, envc = _env(config, env)
    plan, settings = plan_sides(loaded, envc, "live", to, rename or [], with_privileges, skip_destructive, concurrently,
                                with_owners, lock_timeout)
    warn_unsupported(plan)
    if not plan.changes:
        print("-- no differences")
        return
    if plan.destructive and not (allow_destructive or settings.allow_destructive):
        raise DestructiveRefused([ch.describe() for ch in plan.destructive])
    script = render(plan, server_version=settings.server_version)
    print(script.text(), end="")
    for step in [*script.before, *script.after]:
        print(f"-- runs outside the transaction: {step.sql}")
    if not apply:
        raise SchemaDifferences(len(plan.changes))
    tgt = target(loaded, envc)
    conn = tgt.connect()
    try:
        run_checkpointed(conn, script, getattr(plan, "live", None), loaded.root, tgt.url, print)
    finally:
        conn.close()
    print(f"-- applied {len(script.statements)} statement(s)")


def _data(config: str | None, env: str, apply: bool, allow_destructive: bool) -> None:
    from deploy.db.data import sync_data
    from deploy.db.errors import DataDifferences
    from deploy.db.session import target

    loaded, envc = _env(config, env)
    tgt = target(loaded, envc)
    if not tgt.settings.data:
        print("-- no reference tables configured ([env.X.db] data)")
        return
    conn = tgt.connect()
    try:
        result = sync_data(conn, tgt.url.dialect, tgt.settings, tgt.sql_dir, apply_it=apply, allow_destructive=allow_destructive)
    finally:
        conn.close()
    if not result.total:
        print("-- data in sync")
    elif apply:
        print(f"-- applied {result.total} row change(s)")
    else:
        from deploy.db.data import refuse_deletes

        refuse_deletes(result, allow_destructive or tgt.settings.allow_destructive)
        raise DataDifferences(result.total)


@shipyard_task(name="data-diff", help=_help("env", "allow-destructive", "config"))
def data_diff(c, env="local", allow_destructive=False, config=None):
    """Print the script that makes the reference tables equal to sql/data (exit 2 if any)."""
    _data(config, env, apply=False, allow_destructive=allow_destructive)


@shipyard_task(name="data-sync", help=_help("env", "apply", "allow-destructive", "config"))
def data_sync(c, env="local", apply=False, allow_destructive=False, config=None):
    """Make the reference tables equal to sql/data; deletes need --allow-destructive."""
    _data(config, env, apply=apply, allow_destructive=allow_destructive)


@shipyard_task(help=_help("env", "output", "config"))
def snapshot(c, env="local", output=None, config=None):
    """Save the schema this code expects (sql/schema) as JSON, e.g. beside a release."""
    from deploy.db.deploy_step import snapshot as take

    loaded, envc = _env(config, env)
    text = json.dumps(take(loaded, envc), indent=2, sort_keys=True)
    if output:
        Path(output).write_text(text + "\n")
        print(f"snapshot written to {output}")
    else:
        print(text)


@shipyard_task(help=_help("env", "baseline", "config"))
def migrate(c, env="local", baseline=False, config=None):
    """Run sql/migrations/NNNN_name.sql once each, in order, journaled."""
    from deploy.db.migrate import migrate as run
    from deploy.db.session import target

    loaded, envc = _env(config, env)
    tgt = target(loaded, envc)
    conn = tgt.connect()
    try:
        ran = run(conn, tgt.url.dialect, tgt.sql_dir / "migrations", baseline=baseline)
    finally:
        conn.close()
    print(f"{len(ran)} migration(s) {'recorded' if baseline else 'applied'}")


@shipyard_task(name="bounce-test", help=_help("env", "config"))
def bounce_test(c, env="local", config=None):
    """Drop and create the test database, load sql/schema then sql/seed."""
    from deploy.db.bounce import bounce
    from deploy.db.session import test_target

    loaded, envc = _env(config, env)
    tgt = test_target(loaded, envc)
    bounce(tgt.url, tgt.sql_dir, password=tgt.password, timeout=tgt.settings.timeout, settings=tgt.settings)


@shipyard_task(name="django-schema", help=_help("env", "check", "output", "config"))
def django_schema(c, env="local", check=False, output=None, config=None):
    """Write sql/schema/010_django.sql from the Django models (what manage.py migrate creates on SQLite)."""
    from deploy.artifact import bundle, deps
    from deploy.artifact.builder import wheel_cache_dir
    from deploy.db import django_schema as generated
    from deploy.db.session import db_settings

    loaded, envc = _env(config, env)
    app = loaded.resolve(loaded.project.app_dir)
    requirements = app / loaded.build.requirements if loaded.build.requirements else None
    site_packages = None
    if requirements is not None and requirements.is_file():  # the site's own Django, as the build uses it
        quiet = lambda _line: None  # noqa: E731
        wheels = deps.cached_wheels(requirements, wheel_cache_dir(loaded), quiet)
        site_packages = bundle.installed_tree(wheels, quiet) if any(wheels.glob("*.whl")) else None
    text = generated.render(generated.migrated_ddl(app, site_packages), loaded.project.app_dir)
    path = Path(output) if output else loaded.resolve(db_settings(envc).sql_dir) / "schema" / "010_django.sql"
    if not generated.write_or_check(path, text, check) and check:
        raise invoke.Exit(code=1)


ns = invoke.Collection("db")
for _t in (diff, sync, data_diff, data_sync, snapshot, migrate, bounce_test, django_schema):
    ns.add_task(_t)
