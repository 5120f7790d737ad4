"""The console script's lean db.diff path (deploy/cli_diff.py, deploy/config_lean.py) against
what it stands in for: invoke's own description of the db.diff task, deploy.config's models
(pydantic) loading the same file, and CPython's import log of the real command."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from deploy import config as cfg
from deploy.cli_diff import OPTIONS, REPEATABLE, parse
from deploy.config_lean import DbDefaults, lean_config
from deploy.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]


def test_the_lean_parser_knows_every_long_option_invoke_gives_db_diff_and_no_other():
    from deploy.tasks.db import diff

    invoke_options = {a.names[0]: (a.name, a.takes_value, a.kind is list) for a in diff.get_arguments()}
    assert invoke_options == {name: (key, takes, name in REPEATABLE) for name, (key, takes) in OPTIONS.items()}


def test_every_invoke_option_is_accepted_by_the_lean_parser():
    from deploy.tasks.db import diff

    for a in diff.get_arguments():
        args = [f"--{a.names[0]}", "x"] if a.takes_value else [f"--{a.names[0]}"]
        assert parse(args) == {a.name: ["x"] if a.kind is list else "x" if a.takes_value else True}


def test_the_defaults_of_an_environment_without_a_db_table_are_dbconfigs():
    got = {f.name: getattr(DbDefaults(), f.name) for f in dataclasses.fields(DbDefaults)}
    want = {name: tuple(v) if isinstance(v, list) else v for name, v in cfg.DbConfig().model_dump().items()}
    assert got == want


@pytest.mark.parametrize("args", [["--help"], ["-a"], ["--bogus"], ["--from"], ["--to", "--allow-destructive"],
                                  ["--env", "a", "--env", "b"], ["--allow-destructive=yes"], ["db.sync"], ["--"],
                                  ["--from="], ["-h"]])
def test_what_the_lean_parser_does_not_take_goes_to_invoke(args):
    assert parse(args) is None


_PATH = st.text(st.sampled_from("ab/.~%_ -\n\\:"), max_size=12)
_ENV = st.fixed_dictionaries({}, optional={"deploy_to": st.one_of(_PATH, st.integers(0, 3)), "database": st.one_of(
    st.sampled_from(["sqlite:///x.db", "postgresql://u@h/d", "nope"]), st.booleans()), "keep_releases": st.just(2),
    "db": st.just({"timeout": 5})})
_DATA = st.fixed_dictionaries({}, optional={"env": st.dictionaries(st.sampled_from(["local", "prod", "a"]), _ENV,
                                                                  max_size=3), "project": st.just({"name": "s"})})


def _toml(data: dict) -> str:
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"

    lines = [f"[project]\nname = {value(data['project']['name'])}"] if "project" in data else []
    for name, env in data.get("env", {}).items():
        lines.append(f"[env.{name}]")
        lines += [f"{k} = {value(v)}" for k, v in env.items()]
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_DATA, env=st.sampled_from(["local", "prod", "zzz"]), standalone=st.booleans())
def test_a_config_the_lean_reader_takes_loads_alike_with_the_models(tmp_path, data, env, standalone):
    file = tmp_path / "shipyard.toml"
    file.write_text(_toml(data))
    lean = lean_config(str(file), env, standalone)
    try:
        loaded = cfg.load(str(file))
        envc = loaded.environment(env)
    except ConfigError:
        assert lean is None  # what the models refuse is never taken
        return
    if lean is None:
        return  # left to the full loader: allowed
    lean_loaded, lean_env = lean
    assert (lean_loaded.path, lean_loaded.root) == (loaded.path, loaded.root)
    assert (lean_env.deploy_to, lean_env.database, lean_env.secrets) == (envc.deploy_to, envc.database, envc.secrets)
    assert envc.db is None and lean_env.db == DbDefaults()
    assert lean_loaded.resolve("sql/x") == loaded.resolve("sql/x")


def test_the_benchmarks_config_is_one_the_lean_reader_takes():
    loaded, env = lean_config(str(ROOT / "tests/pgscore/shipyard.toml"), "local", True)
    assert env.deploy_to == cfg.load(str(ROOT / "tests/pgscore/shipyard.toml")).environment("local").deploy_to


def test_no_config_anywhere_is_the_default_local_env_for_a_standalone_compare(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHIPYARD_CONFIG", raising=False)
    loaded, env = lean_config(None, "local", True)
    full = cfg.Loaded(Path.cwd() / cfg.DEFAULT_FILE, cfg.parse("", cfg.DEFAULT_FILE))
    assert (loaded.path, env.deploy_to) == (full.path, full.environment("local").deploy_to)
    assert lean_config(None, "local", False) is None and lean_config(None, "prod", True) is None


def test_the_lean_command_imports_neither_invoke_nor_pydantic_nor_the_config_models(tmp_path):
    url = lambda name: f"sqlite:///{tmp_path / name}"  # noqa: E731
    for name in ("a.db", "b.db"):
        import pyodbc

        conn = pyodbc.connect(f"DRIVER={{SQLite3}};Database={tmp_path / name}")
        conn.execute("CREATE TABLE t (id integer PRIMARY KEY" + (", v text)" if name == "b.db" else ")"))
        conn.commit()
        conn.close()
    (tmp_path / "shipyard.toml").write_text("[env.local]\n")
    env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_CONFIG"}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "from deploy.cli import main; main()", "db.diff",
                           "--from", url("a.db"), "--to", url("b.db")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env=env)
    assert proc.returncode == 2 and 'ADD "v"' in proc.stdout, proc.stderr[-2000:]
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "deploy.db.compare_cli" in modules  # the oracle saw the compare itself
    assert not {m for m in modules if m.split(".")[0] in ("invoke", "pydantic", "pydantic_core")}
    assert not {m for m in modules if m in ("deploy.config", "deploy.tasks") or m.startswith("deploy.tasks.")}
