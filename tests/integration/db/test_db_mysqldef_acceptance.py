"""sqldef's MySQL/MariaDB cases (tests/fixtures/sqldef/mysqldef) on a real MariaDB, judged by
the server (mysql_oracle.py, no Shipyard code): `current` and `desired` are each loaded by the
`mariadb` client into databases of their own; Shipyard diffs the first to `desired` (read back
through its shadow database), its script is applied in one go by the `mariadb` client, and the
server's SHOW CREATE / information_schema of the migrated database must equal those of the one
built straight from `desired`; then, when the case has `down`, the same back to `current`; and
each time a re-diff must be empty. Cases whose SQL MariaDB refuses are not loadable (counted,
excluded). Floors in acceptance_floors.json only go up."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from deploy.db.connect import connect
from deploy.db.diff import diff
from deploy.db.introspect import introspect
from deploy.db.mysql.shadow import desired_from_files
from deploy.db.render import render

import mysql_oracle as oracle
from db_sqldef_support import CASES, Outcome, check_floors, report

_names = itertools.count()


class Harness:
    """`two_live`: the desired side is the database built from the target (`db.diff --from
    URL --to URL`), not Shipyard's shadow of the target's text."""

    def __init__(self, server, two_live: bool = False):
        self.server, self.client, self.two_live = server, oracle.Client(server.port), two_live
        self.admin = connect(server.url, autocommit=True)
        self.created: list[str] = []

    def database(self, sql: str) -> str | None:
        """A new database holding `sql` as the client loads it; None if the server refuses it."""
        name = f"acc{next(_names)}"
        self.admin.execute(f"CREATE DATABASE {name}")
        self.created.append(name)
        return name if self.client.run(name, sql).returncode == 0 else None

    def migrate(self, live: str, target_sql: str, reference: str, case: dict) -> str:
        """'' when `live` reaches what `reference` holds; else the reason."""
        url = self.server.url.with_database(live)
        want = self.desired(url, target_sql, reference)
        conn = connect(url, autocommit=True)
        try:
            plan = diff(introspect(conn, "mysql"), want)
            if case.get("enable_drop") is False and plan.destructive:
                return ""  # refused (exit 3), as sqldef withholds the drop
            text = render(plan).text()
            done = self.client.run(live, text)
            if done.returncode:
                return f"apply_error: {done.stderr.strip()[:200]}"
            found = oracle.differences(oracle.describe(self.admin, live), oracle.describe(self.admin, reference))
            if found:
                return f"server differs: {'; '.join(found)[:300]}"
            left = diff(introspect(conn, "mysql"), want).changes
            return f"re-diff not empty: {', '.join(c.describe() for c in left)[:200]}" if left else ""
        finally:
            conn.close()

    def desired(self, url, target_sql: str, reference: str):
        if not self.two_live:
            return desired_from_files(url, None, [("desired.sql", target_sql)])
        conn = connect(self.server.url.with_database(reference), autocommit=True)
        try:
            return introspect(conn, "mysql")
        finally:
            conn.close()

    def case(self, file: str, name: str, case: dict) -> list[Outcome]:
        current, desired = case.get("current") or "", case.get("desired") or ""
        databases = [self.database(current), self.database(current), self.database(desired)]
        try:
            if None in databases:
                return [Outcome(file, name, "up", False, "unloadable")]
            live, at_current, at_desired = databases
            out = [Outcome(file, name, "up", *self._run(live, desired, at_desired, case))]
            if out[0].passed and "down" in case:
                out.append(Outcome(file, name, "down", *self._run(live, current, at_current, case)))
            return out
        finally:
            for database in self.created:
                self.admin.execute(f"DROP DATABASE IF EXISTS {database}")
            self.created.clear()

    def _run(self, live: str, sql: str, reference: str, case: dict) -> tuple[bool, str]:
        try:
            reason = self.migrate(live, sql, reference, case)
        except Exception as e:  # noqa: BLE001 - every failure is a reported outcome
            reason = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
        return not reason, reason


def run_corpus(server, workers: int = 3, two_live: bool = False, every: int = 1) -> list[Outcome]:
    """Cases in a few threads (each with its own connections): the time goes in the server."""
    cases = [(path.name, name, case) for path in sorted((CASES / "mysqldef").glob("*.yml"))
             for name, case in yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)).items()
             if not case.get("error")][::every]
    local = threading.local()

    def one(item: tuple) -> list[Outcome]:
        if not hasattr(local, "harness"):
            local.harness = Harness(server, two_live)
        return local.harness.case(*item)

    with ThreadPoolExecutor(workers) as pool:
        return [o for found in pool.map(one, cases) for o in found]


@pytest.mark.slow
def test_sqldef_mysql_cases_on_mariadb(mariadb) -> None:
    outcomes = run_corpus(mariadb)
    loadable = [o for o in outcomes if o.reason != "unloadable"]
    passed = sum(o.passed for o in loadable)
    print(report(loadable))
    print(f"mysqldef on MariaDB: {passed}/{len(loadable)} runs pass "
          f"({len(outcomes) - len(loadable)} cases do not load on MariaDB)")
    check_floors("mysqldef", loadable)
    assert passed >= 0.95 * len(loadable)


@pytest.mark.slow
def test_sqldef_mysql_cases_between_two_live_databases(mariadb) -> None:
    """The same protocol with the target read from a live database (every third case)."""
    loadable = [o for o in run_corpus(mariadb, two_live=True, every=3) if o.reason != "unloadable"]
    print(report(loadable))
    assert loadable and [o for o in loadable if not o.passed] == []
