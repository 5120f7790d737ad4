"""`lock_timeout` on a real PostgreSQL: while another session holds a lock the script needs,
a statement gives up after the timeout (bounded, measured) with an error that says what
happened, instead of queueing every query on the table behind itself; without the setting
the same statement is seen waiting in pg_stat_activity (the lock really conflicts). The
session setting is put back afterwards, and the values Shipyard accepts are the ones the
server accepts, with the same number of milliseconds (the server's pg_settings decides)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pyodbc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.config import lock_timeout_problem
from deploy.db.compare import plan
from deploy.db.connect import connect
from deploy.db.errors import StatementFailed, TailFailed
from deploy.db.execute import run_script
from deploy.db.render import render
from deploy.errors import ConfigError, UsageError
from db_live_helpers import live, want
from pg_oracle import examples, values


def _holder(url, lock: str):
    """Another session holding `lock` on table t in an open transaction."""
    conn = connect(url)
    conn.execute(lock)
    return conn

def _fails_while_held(pg_url: str, script, holding: str, error: type[Exception]):  # noqa: ANN001, ANN202
    """Run `script` while another session holds the lock `holding` takes: the error it fails with,
    how long that took, and the session's lock_timeout afterwards."""
    holder = _holder(pg_url, holding)
    conn = connect(pg_url)
    try:
        started = time.monotonic()
        with pytest.raises(error) as e:
            run_script(conn, script)
        took = time.monotonic() - started
        setting = conn.execute("SHOW lock_timeout").fetchone()[0]
    finally:
        conn.close()
        holder.close()
    return e.value, took, setting


def _setup(url) -> None:
    conn = connect(url, autocommit=True)
    conn.execute("CREATE TABLE t (id integer PRIMARY KEY, a integer); INSERT INTO t SELECT g, g FROM generate_series(1, 50) g")
    conn.close()


def _columns(url) -> list[str]:
    return values(url, "SELECT attname FROM pg_attribute WHERE attrelid = 'public.t'::regclass AND attnum > 0 ORDER BY attnum")


def test_the_transaction_gives_up_on_a_held_lock_and_says_so(pg_url) -> None:
    _setup(pg_url)
    script = render(plan(live(pg_url), want(pg_url, "CREATE TABLE t (id integer PRIMARY KEY, a integer, c text)"),
                         lock_timeout="300ms"))
    text = script.text()
    assert text.startswith("SET lock_timeout = '300ms';\n") and text.endswith("RESET lock_timeout;\n"), text
    assert text.index("SET lock_timeout") < text.index("BEGIN;") < text.index("COMMIT;") < text.index("RESET"), text
    # ACCESS SHARE held: ALTER TABLE needs ACCESS EXCLUSIVE
    error, took, setting = _fails_while_held(pg_url, script, "SELECT count(*) FROM t", StatementFailed)
    assert setting == "0"  # the session's setting is back
    assert 0.25 < took < 5, took
    assert "55P03" in str(error) and "lock timeout" in str(error)
    assert "another session holds a lock this statement needs" in str(error) and "--lock-timeout" in str(error)
    assert error.statement.startswith("ALTER TABLE") and _columns(pg_url) == ["id", "a"]  # rolled back


def test_without_the_setting_the_same_statement_waits(pg_url) -> None:
    """The control: the lock conflicts for real, so the bound above is the setting's doing."""
    _setup(pg_url)
    script = render(plan(live(pg_url), want(pg_url, "CREATE TABLE t (id integer PRIMARY KEY, a integer, c text)")))
    assert "lock_timeout" not in script.text()
    reader = _holder(pg_url, "SELECT count(*) FROM t")
    conn = connect(pg_url)
    done = threading.Thread(target=run_script, args=(conn, script))
    done.start()
    try:
        time.sleep(1.0)
        waiting = values(pg_url, "SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND datname = current_database()")
        assert done.is_alive() and len(waiting) == 1 and "ALTER TABLE" in waiting[0], waiting
    finally:
        reader.close()
        done.join(30)
        conn.close()
    assert _columns(pg_url) == ["id", "a", "c"]


def test_the_online_default_bounds_a_concurrent_build(pg_url) -> None:
    _setup(pg_url)
    desired = want(pg_url, "CREATE TABLE t (id integer PRIMARY KEY, a integer); CREATE INDEX t_a ON t (a)")
    script = render(plan(live(pg_url), desired, concurrently=True))
    assert script.text().startswith("SET lock_timeout = '3s';\n"), script.text()
    # a VACUUM-like holder of SHARE UPDATE EXCLUSIVE, what CONCURRENTLY takes
    error, took, _ = _fails_while_held(pg_url, script, "LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE", TailFailed)
    assert 2.9 < took < 10, took
    assert "lock timeout" in str(error) and "--lock-timeout" in str(error) and error.left_behind == []
    assert values(pg_url, "SELECT count(*) FROM pg_class WHERE relname = 't_a'") == [0]


def test_a_build_that_waits_for_an_old_transaction_is_bounded_and_named(pg_url) -> None:
    """CONCURRENTLY waits for transactions older than its build: that wait is a lock wait too,
    and what it leaves (an INVALID index) is named, then rebuilt by the next sync."""
    _setup(pg_url)
    conn = connect(pg_url, autocommit=True)
    conn.execute("CREATE TABLE other (x integer)")
    conn.close()
    desired = want(pg_url, "CREATE TABLE t (id integer PRIMARY KEY, a integer); CREATE INDEX t_a ON t (a); "
                           "CREATE TABLE other (x integer)")
    script = render(plan(live(pg_url), desired, concurrently=True, lock_timeout="500ms"))
    # an open transaction whose snapshot is older than the build, reading another table
    old = _holder(pg_url, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM other")
    try:
        with pytest.raises(TailFailed) as e:
            apply_on(pg_url, script)
    finally:
        old.close()
    assert "lock timeout" in str(e.value) and e.value.left_behind == ["public.t_a"]
    again = plan(live(pg_url), desired, concurrently=True)
    apply_on(pg_url, render(again))
    assert values(pg_url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.t_a'::regclass") in ([True], ["1"])


def apply_on(url, script) -> None:
    conn = connect(url)
    try:
        run_script(conn, script)
    finally:
        conn.close()


@examples(60)
@given(number=st.integers(0, 3_000_000_000), unit=st.sampled_from(["", "ms", "s", "min", "h", "d", "us", "sec", " s"]))
def test_accepted_values_are_the_servers_own(pg_server, number: int, unit: str) -> None:
    text = f"{number}{unit}"
    conn = connect(pg_server)
    try:
        conn.execute(f"SET lock_timeout = '{text}'")
        server_ms = int(conn.execute("SELECT setting FROM pg_settings WHERE name = 'lock_timeout'").fetchone()[0])
    except pyodbc.Error:
        server_ms = None
    finally:
        conn.close()
    problem = lock_timeout_problem(text)
    if problem is None:
        assert server_ms is not None, text
        factor = {"": 1, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}[unit]
        assert server_ms == number * factor, text
    else:  # refused: the server refuses it too, or reads it in a way Shipyard does not write (us, " s")
        assert server_ms is None or unit in ("us", " s"), (text, problem)


def _project(pg_url, tmp_path: Path, db: str) -> Path:
    _setup(pg_url)
    (tmp_path / "sql" / "schema").mkdir(parents=True)
    (tmp_path / "sql" / "schema" / "t.sql").write_text("CREATE TABLE t (id integer PRIMARY KEY, a integer, c text);\n")
    (tmp_path / "shipyard.toml").write_text(
        f'[env.local]\ndatabase = "postgresql://postgres@127.0.0.1:{pg_url.port}/{pg_url.database}"\n[env.local.db]\n{db}\n')
    return tmp_path / "shipyard.toml"


def _shipyard(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "shipyard"), *args], capture_output=True, text=True, timeout=120)


def test_the_cli_option_and_the_config_value(pg_url, tmp_path) -> None:
    config = str(_project(pg_url, tmp_path, 'lock_timeout = "250ms"'))
    run = _shipyard("db.diff", "--config", config)
    assert run.returncode == 2 and run.stdout.startswith("SET lock_timeout = '250ms';"), run.stdout + run.stderr
    run = _shipyard("db.diff", "--config", config, "--lock-timeout", "5s")
    assert run.returncode == 2 and run.stdout.startswith("SET lock_timeout = '5s';"), run.stdout + run.stderr
    run = _shipyard("db.diff", "--config", config, "--lock-timeout", "5 seconds")
    assert run.returncode == UsageError.exit_code and run.stdout == "", run.stdout  # nothing compared
    assert "--lock-timeout: '5 seconds' is not a duration" in run.stderr, run.stderr
    reader = _holder(pg_url, "SELECT count(*) FROM t")
    try:
        started = time.monotonic()
        run = _shipyard("db.sync", "--config", config, "--apply")
        took = time.monotonic() - started
    finally:
        reader.close()
    assert run.returncode != 0 and "lock timeout" in run.stderr and took < 60, run.stdout + run.stderr
    assert _columns(pg_url) == ["id", "a"]
    run = _shipyard("db.sync", "--config", config, "--apply")
    assert run.returncode == 0 and _columns(pg_url) == ["id", "a", "c"], run.stdout + run.stderr


def test_a_bad_config_value_fails_before_anything_is_read(tmp_path) -> None:
    (tmp_path / "shipyard.toml").write_text('[env.local]\ndatabase = "sqlite:///x.db"\n[env.local.db]\nlock_timeout = "3 sec"\n')
    run = _shipyard("db.diff", "--config", str(tmp_path / "shipyard.toml"))
    assert run.returncode == ConfigError.exit_code and run.stdout == "", run.stdout
    assert "env.local.db.lock_timeout" in run.stderr and "'3 sec' is not a duration" in run.stderr, run.stderr
