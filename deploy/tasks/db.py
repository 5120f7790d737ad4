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


def _load(spec: str, loaded: Any, env: Any, dialect: str | None, shadow: Any) -> Any:
    from deploy.db.compare import desired, from_json
    from deploy.db.introspect import introspect
    from deploy.db.session import target

    if spec == "live" or "://" in spec:
        tgt = target(loaded, env, None if spec == "live" else spec)
        conn = tgt.connect()
        try:
            return introspect(conn, tgt.url.dialect)
        finally:
            conn.close()
    path = loaded.resolve(spec)
    if path.suffix == ".json":
        return from_json(json.loads(path.read_text()))
    schema_dir = path / "schema" if (path / "schema").is_dir() else path
    if dialect == "mysql" and hasattr(shadow, "mysql_desired"):  # read back on the MySQL side's server
        return shadow.mysql_desired(schema_dir)
    if (dialect or "postgres") == "postgres":
        return desired(schema_dir, "postgres", shadow)
    if path.is_file():  # one .sql file
        from deploy.db.desired import from_text

        return from_text(path.read_text(encoding="utf-8-sig"), dialect, str(path))
    from deploy.db.typemap import read_desired

    schema, notes = read_desired(schema_dir, dialect, env.db.schema_dialect if env.db else None)
    for note in notes:
        print(f"-- note: {note}")
    return schema


def _dialect(spec: str, loaded: Any, env: Any) -> str | None:
    """The engine a side names without reading it (a URL's scheme, a snapshot's dialect)."""
    from deploy.db.connect import parse_url

    url = env.database if spec == "live" else spec if "://" in spec else None
    if url:
        return parse_url(url, loaded.root).dialect
    path = loaded.resolve(spec)
    if path.suffix == ".json" and path.is_file():
        return json.loads(path.read_text()).get("dialect")
    return None


def _shadow(loaded: Any, env: Any, specs: list[str], settings: Any) -> Any:
    """Where a PostgreSQL `sql/` side is loaded: beside the first live PostgreSQL side; a
    MySQL one: on the first live MySQL side's server (its DbTarget)."""
    from deploy.db.postgres.shadow import ShadowSource
    from deploy.db.session import target

    for spec in specs:
        if (spec == "live" and env.database) or "://" in spec:
            tgt = target(loaded, env, None if spec == "live" else spec)
            if tgt.url.dialect == "postgres":
                return ShadowSource(tgt.url, tgt.password, settings.shadow_database, settings.timeout)
            if tgt.url.dialect == "mysql":
                return tgt
    return ShadowSource(None, None, settings.shadow_database, settings.timeout)


def _plan(c: Any, config: str | None, env: str, from_: str, to: str | None, rename: list[str],
          with_privileges: bool = False, skip_destructive: bool = False, concurrently: bool = False,
          with_owners: bool = False, lock_timeout: str | None = None) -> tuple[Any, Any, Any]:
    import gc
    from concurrent.futures import ThreadPoolExecutor

    from deploy.db.compare import plan
    from deploy.db.session import db_settings

    _check_lock_timeout(lock_timeout)
    standalone = from_ != "live" and to is not None and to != "live"
    loaded, envc = _env(config, env, standalone)
    settings = db_settings(envc)
    to = to or settings.sql_dir
    dialect = next((d for d in (_dialect(s, loaded, envc) for s in (from_, to)) if d), None)
    shadow = _shadow(loaded, envc, [from_, to], settings)
    gc.disable()  # the two models are ~100,000 objects that live to the end: collecting them finds nothing
    try:
        with ThreadPoolExecutor(2) as pool:  # two databases (or a database and a shadow) are read at the same time
            current_f = pool.submit(_load, from_, loaded, envc, dialect, shadow)
            desired_f = pool.submit(_load, to, loaded, envc, dialect, shadow)
            current, desired = current_f.result(), desired_f.result()
        hints = _renames([*settings.renames, *rename], desired.dialect)
        online = concurrently or settings.concurrently
        lock_timeout = lock_timeout or settings.lock_timeout
        result = plan(current, desired, hints, with_privileges or settings.with_privileges, skip_destructive, online,
                      with_owners or settings.with_owners, lock_timeout)
        if (online or lock_timeout) and desired.dialect != "postgres":
            import sys

            if online:
                print(f"shipyard: --concurrently is for PostgreSQL; {desired.dialect} indexes are built in the script", file=sys.stderr)
            if lock_timeout:
                print(f"shipyard: --lock-timeout is for PostgreSQL; not set on {desired.dialect}", file=sys.stderr)
    finally:
        gc.freeze()  # nor walking them later (~1/3 of reading both catalogs, ~20 ms after)
        gc.enable()
    return result, settings, (loaded, envc)


def _check_lock_timeout(value: str | None) -> None:
    """A bad value fails before anything is read (the same rule as the config's)."""
    from deploy.config import lock_timeout_problem
    from deploy.errors import UsageError

    if value is not None and (problem := lock_timeout_problem(value)):
        raise UsageError(f"--lock-timeout: {problem}")


def _renames(hints: list[str], dialect: str) -> list[Any]:
    if not hints:  # the hint parser (a SQL tokenizer) is only imported when there are hints
        return []
    from deploy.db.renames import Rename

    return [Rename.parse(h, dialect) for h in hints]


@shipyard_task(help=_help("env", "from_", "to", "allow-destructive", "rename", "config", "with-privileges",
                          "skip-destructive", "concurrently", "with-owners", "lock-timeout"), iterable=["rename"])
def diff(c, env="local", from_="live", to=None, allow_destructive=False, rename=None, config=None, with_privileges=False,
         skip_destructive=False, concurrently=False, with_owners=False, lock_timeout=None):
    """Print the script that takes FROM to TO (default: the live database to sql/)."""
    from deploy.db.errors import DestructiveRefused, SchemaDifferences
    from deploy.db.render import render

    plan, settings, _ = _plan(c, config, env, from_, to, rename or [], with_privileges, skip_destructive, concurrently,
                              with_owners, lock_timeout)
    _warn_unsupported(plan)
    if not plan.changes:
        print("-- no differences")
        return
    print(render(plan, server_version=settings.server_version).text(), end="")
    print(f"-- {len(plan.changes)} change(s), {plan.classification}")
    if plan.destructive and not (allow_destructive or settings.allow_destructive):
        raise DestructiveRefused([ch.describe() for ch in plan.destructive])
    raise SchemaDifferences(len(plan.changes))


@shipyard_task(help=_help("env", "apply", "allow-destructive", "rename", "config", "with-privileges", "skip-destructive",
                          "to", "concurrently", "with-owners", "lock-timeout"), iterable=["rename"])
def sync(c, env="local", apply=False, allow_destructive=False, rename=None, config=None, with_privileges=False,
         skip_destructive=False, to=None, concurrently=False, with_owners=False, lock_timeout=None):
    """Make the live database match sql/schema (or --to); prints the script, runs it with --apply."""
    from deploy.db.checkpoint import run_checkpointed
    from deploy.db.errors import DestructiveRefused, SchemaDifferences
    from deploy.db.render import render
    from deploy.db.session import target

    plan, settings, (loaded, envc) = _plan(c, config, env, "live", to, rename or [], with_privileges, skip_destructive,
                                           concurrently, with_owners, lock_timeout)
    _warn_unsupported(plan)
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


def _warn_unsupported(plan: Any) -> None:
    """Objects of kinds Shipyard does not compare are named, never silently dropped."""
    import sys

    for name in getattr(plan, "unsupported", []):
        print(f"shipyard: not compared (unsupported kind): {name}", file=sys.stderr)
    for what in getattr(plan, "withheld", []):
        print(f"-- withheld (--skip-destructive): {what}")


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
