"""What `db.diff` and `db.sync` do between the command line and the plan, shared by the invoke
tasks (deploy/tasks/db.py) and the console script's lean db.diff path (deploy/cli_diff.py),
which must print the same thing without importing invoke or the config models. `loaded` and
`env` are a validated config and environment (deploy.config, or deploy/config_lean.py's
stand-ins for a config with nothing in it that db.diff reads)."""

from __future__ import annotations

import json
from typing import Any

from deploy.db.session import db_settings, target


def _load(spec: str, loaded: Any, env: Any, dialect: str | None, shadow: Any, with_owners: bool) -> Any:
    from deploy.db.compare import desired, from_json

    if spec == "live" or "://" in spec:
        from deploy.db.introspect import introspect

        tgt = target(loaded, env, None if spec == "live" else spec)
        conn = tgt.connect()
        try:
            return introspect(conn, tgt.url.dialect, with_owners)
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


def _reads_files(spec: str, loaded: Any) -> bool:
    """A side read from a sql/ tree (a shadow database loads it), not a database or a snapshot."""
    return not (spec == "live" or "://" in spec or loaded.resolve(spec).suffix == ".json")


def _shadow(loaded: Any, env: Any, specs: list[str], settings: Any) -> Any:
    """Where a PostgreSQL `sql/` side is loaded: beside the first live PostgreSQL side; a
    MySQL one: on the first live MySQL side's server (its DbTarget). None when no side is a
    sql/ tree."""
    if not any(_reads_files(spec, loaded) for spec in specs):
        return None
    from deploy.db.postgres.shadow import ShadowSource

    for spec in specs:
        if (spec == "live" and env.database) or "://" in spec:
            tgt = target(loaded, env, None if spec == "live" else spec)
            if tgt.url.dialect == "postgres":
                return ShadowSource(tgt.url, tgt.password, settings.shadow_database, settings.timeout)
            if tgt.url.dialect == "mysql":
                return tgt
    return ShadowSource(None, None, settings.shadow_database, settings.timeout)


def plan_sides(loaded: Any, env: Any, from_: str, to: str | None, rename: list[str], with_privileges: bool = False,
               skip_destructive: bool = False, concurrently: bool = False, with_owners: bool = False,
               lock_timeout: str | None = None) -> tuple[Any, Any]:
    """(the plan from FROM to TO, the environment's db settings); both sides are read at once."""
    import gc

    _check_lock_timeout(lock_timeout)
    settings = db_settings(env)
    to = to or settings.sql_dir
    owners = with_owners or settings.with_owners
    dialect = next((d for d in (_dialect(s, loaded, env) for s in (from_, to)) if d), None)
    shadow = _shadow(loaded, env, [from_, to], settings)
    gc.disable()  # the two models are ~100,000 objects that live to the end: collecting them finds nothing
    try:
        readers = [_Call(_load, spec, loaded, env, dialect, shadow, owners) for spec in (from_, to)]
        from deploy.db.compare import plan  # imported while the servers work (the threads read)

        if dialect == "postgres":
            import deploy.db.postgres.diff  # noqa: F401
            import deploy.db.render.postgres  # noqa: F401
        for reader in readers:  # both end before either's error is raised
            reader.wait()
        current, desired = (reader.result() for reader in readers)
        hints = _renames([*settings.renames, *rename], desired.dialect)
        online = concurrently or settings.concurrently
        lock_timeout = lock_timeout or settings.lock_timeout
        result = plan(current, desired, hints, with_privileges or settings.with_privileges, skip_destructive, online,
                      owners, lock_timeout)
        if (online or lock_timeout) and desired.dialect != "postgres":
            import sys

            if online:
                print(f"shipyard: --concurrently is for PostgreSQL; {desired.dialect} indexes are built in the script", file=sys.stderr)
            if lock_timeout:
                print(f"shipyard: --lock-timeout is for PostgreSQL; not set on {desired.dialect}", file=sys.stderr)
    finally:
        gc.freeze()  # nor walking them later (~1/3 of reading both catalogs, ~20 ms after)
        gc.enable()
    return result, settings


class _Call:
    """A call run in a thread of its own, its result (or exception) collected with `result()`
    once `wait()` has seen it end: two databases (or a database and a shadow) are read at the
    same time (a thread each: concurrent.futures would add its import and logging's)."""

    def __init__(self, function: Any, *args: Any) -> None:
        import threading

        self._function, self._args, self._outcome = function, args, None
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._outcome = (True, self._function(*self._args))
        except BaseException as e:  # noqa: BLE001 - handed to the caller of result()
            self._outcome = (False, e)

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> Any:
        ok, value = self._outcome
        if not ok:
            raise value
        return value


def _check_lock_timeout(value: str | None) -> None:
    """A bad value fails before anything is read (the same rule as the config's)."""
    from deploy.config_rules import lock_timeout_problem
    from deploy.errors import UsageError

    if value is not None and (problem := lock_timeout_problem(value)):
        raise UsageError(f"--lock-timeout: {problem}")


def _renames(hints: list[str], dialect: str) -> list[Any]:
    if not hints:  # the hint parser (a SQL tokenizer) is only imported when there are hints
        return []
    from deploy.db.renames import Rename

    return [Rename.parse(h, dialect) for h in hints]


def warn_unsupported(plan: Any) -> None:
    """Objects of kinds Shipyard does not compare are named, never silently dropped."""
    import sys

    for name in getattr(plan, "unsupported", []):
        print(f"shipyard: not compared (unsupported kind): {name}", file=sys.stderr)
    for what in getattr(plan, "withheld", []):
        print(f"-- withheld (--skip-destructive): {what}")


def compare_cli(loaded: Any, env: Any, from_: str = "live", to: str | None = None, allow_destructive: bool = False,
                rename: list[str] | None = None, with_privileges: bool = False, skip_destructive: bool = False,
                concurrently: bool = False, with_owners: bool = False, lock_timeout: str | None = None) -> None:
    """db.diff: print the script that takes FROM to TO; raises SchemaDifferences (exit 2) when
    there is one, DestructiveRefused (exit 3) when it drops data and that is not allowed."""
    from deploy.db.errors import DestructiveRefused, SchemaDifferences

    plan, settings = plan_sides(loaded, env, from_, to, rename or [], with_privileges, skip_destructive, concurrently,
                                with_owners, lock_timeout)
    warn_unsupported(plan)
    if not plan.changes:
        print("-- no differences")
        return
    from deploy.db.render import render

    print(render(plan, server_version=settings.server_version).text(), end="")
    print(f"-- {len(plan.changes)} change(s), {plan.classification}")
    if plan.destructive and not (allow_destructive or settings.allow_destructive):
        raise DestructiveRefused([ch.describe() for ch in plan.destructive])
    raise SchemaDifferences(len(plan.changes))
