"""Every bad value fails before anything touches a host: file, key path, allowed values, exit 2."""

import pytest

from deploy.config import parse
from deploy.errors import ConfigError

CASES = [
    ("[env.local]\nkeep_releases = 0\n", "shipyard.toml: env.local.keep_releases: must be >= 1, got 0"),
    (
        "[env.production]\nhosts = [{name='w', transport='winrn'}]\n",
        "shipyard.toml: env.production.hosts[0].transport: 'winrn' is not one of ssh, winrm, psexec, local",
    ),
    ("[env.local]\nkeep_release = 3\n", "shipyard.toml: env.local.keep_release: unknown key"),
    ("[projct]\nname='x'\n", "shipyard.toml: projct: unknown key"),
    ("[env.a]\nrollout = {batch='110%'}\n", "env.a.rollout.batch: must be a whole number or a percentage from 1% to 100%, got '110%'"),
    ("[env.a]\nrollout = {max_fail='x'}\n", "env.a.rollout.max_fail: must be a percentage from 0% to 100%, got 'x'"),
    ("[env.a]\nrollout = {drain='nginx'}\n", "env.a.rollout.drain: 'nginx' is not one of none, haproxy"),
    ("[env.a]\napp_port = 70000\n", "env.a.app_port: must be <= 65535, got 70000"),
    ("[env.a]\nhosts = [{transport='ssh'}]\n", "env.a.hosts[0].name: required key is missing"),
    ("[env.a]\nhosts = [{name='w'}, {name='w'}]\n", "env.a: hosts: duplicate host name(s) w"),
    ("[env.a]\nlinked_dirs = ['../etc']\n", "env.a.linked_dirs: must be a relative path inside the app, got '../etc'"),
    ("[env.a]\nhealth = {timeout=0}\n", "env.a.health.timeout: must be > 0, got 0"),
    ("[hooks]\nbefore_publishng = ['x']\n", "hooks.before_publishng: unknown key"),
    ("[env.a]\nsecrets = {db_password='X'}\n", "env.a.secrets: each key must be a variable name (A-Z, 0-9, _)"),
    ("[project]\nvcs = 'svn'\n", "project.vcs: 'svn' is not one of auto, git, hg"),
    ("[env.a\n", "shipyard.toml: not valid TOML"),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[c[1].split(":")[1].strip() for c in CASES])
def test_bad_value_names_file_and_key(text, expected):
    with pytest.raises(ConfigError) as info:
        parse(text, "shipyard.toml")
    assert expected in str(info.value)
    assert info.value.exit_code == 2


def test_all_problems_reported_at_once():
    with pytest.raises(ConfigError) as info:
        parse("[env.a]\nkeep_releases = 0\napp_port = 0\n", "shipyard.toml")
    assert len(info.value.problems) == 2


def test_repository_config_is_valid():
    from pathlib import Path

    cfg = parse((Path(__file__).parents[3] / "shipyard.toml").read_text(), "shipyard.toml")
    assert cfg.env["local"].hosts[0].transport == "local"
    assert cfg.hooks.before_publishing
