"""The rules behind issue 11, one by one: retention never removes what a rollback needs, a lock
holder is stale only when that is provable, deploy_to/linked paths and placeholders that would
hurt are refused at load."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from deploy.config import Loaded, parse
from deploy.config_rules import root_problems
from deploy.engine.liveness import boot_id, stale_reason, start_time
from deploy.errors import ConfigError
from deploy.release.hostops import FAILED, GOOD, PENDING, ROLLED_BACK, ReleaseInfo
from deploy.release.retention import next_rollback_target, releases_to_prune

statuses = st.sampled_from([GOOD, GOOD, FAILED, ROLLED_BACK, PENDING])


@settings(max_examples=300, deadline=None)
@given(st.lists(statuses, min_size=1, max_size=10), st.data(), st.integers(1, 4))
def test_retention_never_removes_current_the_next_rollback_target_or_what_is_protected(kinds, data, keep):
    current = data.draw(st.integers(0, len(kinds) - 1))
    releases = [ReleaseInfo(id=f"20261125-1200{n:02d}-abcdef0", status=s, current=n == current) for n, s in enumerate(kinds)]
    protect = set(data.draw(st.lists(st.sampled_from([r.id for r in releases]), max_size=2)))
    doomed = set(releases_to_prune(releases, keep, protect))
    assert releases[current].id not in doomed and not doomed & protect
    target = next_rollback_target(releases)
    assert target not in doomed
    kept = [r for r in releases if r.id not in doomed]
    assert next_rollback_target(kept) == target  # after pruning, `invoke rollback` still picks the same one
    assert len([r for r in kept if r.status == GOOD]) >= min(keep, len([r for r in releases if r.status == GOOD]))


def record(**change) -> dict:
    me = {"machine": socket.gethostname(), "pid": os.getpid(), "boot_id": boot_id(), "pid_started": start_time(os.getpid())}
    return {**me, **change}


def test_a_holder_is_stale_only_when_that_is_provable():
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive = subprocess.Popen(["sleep", "30"])
    try:
        assert stale_reason(record(pid=dead.pid, pid_started="1")) == f"pid {dead.pid} is no longer running on {socket.gethostname()}"
        assert stale_reason(record(pid=alive.pid, pid_started=start_time(alive.pid))) is None
        assert "now another process" in stale_reason(record(pid=alive.pid, pid_started="12345"))
        assert "rebooted" in stale_reason(record(pid=alive.pid, boot_id="another-boot"))
        assert stale_reason(record(pid=dead.pid, machine="elsewhere")) is None  # nothing provable from here
        assert stale_reason({"user": "old record without identity"}) is None
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.parametrize("toml, message", [
    ('[env.a]\nhosts = [{ name = "w", transport = "ssh" }]\ndeploy_to = "srv/app"\n', "env.a: deploy_to: must be an absolute path"),
    ('[env.a]\nhosts = [{ name = "w", transport = "ssh", deploy_to = "/" }]\n', "hosts[0].deploy_to: must not be the filesystem root"),
    ('[env.a]\nhosts = [{ name = "w", transport = "winrm", deploy_to = "D:\\\\" }]\n', "must not be the filesystem root"),
    ('[env.a]\nlinked_dirs = ["media", "media/uploads"]\n', "'media' and 'media/uploads' overlap"),
    ('[env.a]\nlinked_dirs = ["./media"]\n', "no '.', '..'"),
    ('[env.a]\nlinked_files = ["conf\\\\local.py"]\n', "backslash"),
    ('[env.a]\nlinked_dirs = [""]\n', "must not be empty"),
    ('[env.a]\nkeep_releases = "5"\n', "env.a.keep_releases: input should be a valid integer"),
    ('[env.a]\nhealth = { url = "http://{host}:{app_port}/" }\n', "unknown placeholder {host}"),
    ('[env.a]\nhealth = { url = "http://{address!r}/" }\n', "unknown placeholder {address!r}"),
    ('[env.a]\nservices = [{ kind = "celery", name = "w", pidfile = "{release}/w.pid" }]\n', "unknown placeholder {release}"),
])
def test_settings_that_would_hurt_are_refused_by_key(toml, message):
    with pytest.raises(ConfigError) as info:
        parse(toml, "shipyard.toml")
    assert message in str(info.value)


def test_literal_braces_and_known_placeholders_pass():
    cfg = parse('[env.a]\nhealth = { url = "http://{address}:{app_port}/h/?q={{x}}" }\n', "shipyard.toml")
    assert cfg.env["a"].health.url.format(address="h", app_port=1, name="n") == "http://h:1/h/?q={x}"


def loaded(tmp_path, toml: str) -> Loaded:
    (tmp_path / "shipyard.toml").write_text(toml)
    return Loaded(tmp_path / "shipyard.toml", parse(toml, "shipyard.toml"))


def test_deploy_roots_never_nest_on_one_machine_nor_hold_the_project(tmp_path):
    cfg = loaded(tmp_path, '[env.a]\ndeploy_to = "/srv/app"\nhosts = [{ name = "w", transport = "ssh", address = "10.0.0.1" }]\n'
                           '[env.b]\ndeploy_to = "/srv/app/b"\nhosts = [{ name = "w", transport = "ssh", address = "10.0.0.1" }]\n'
                           '[env.c]\ndeploy_to = "/srv/app/b"\nhosts = [{ name = "w", transport = "ssh", address = "10.0.0.2" }]\n'
                           '[env.d]\ndeploy_to = ".."\n[env.e]\ndeploy_to = "deploys/e"\n[env.f]\ndeploy_to = "deploys/f"\n')
    problems = root_problems(cfg.all_envs(), str(cfg.root), cfg.resolve)
    assert any(p.startswith("env.b.deploy_to: /srv/app/b nests with env.a.deploy_to") for p in problems)
    assert not any(p.startswith("env.c") for p in problems)  # another machine
    assert any(p.startswith("env.d.deploy_to") and "the project directory or one of its parents" in p for p in problems)
    assert not any("env.e" in p and "env.f" in p for p in problems)  # siblings are fine


def test_a_remote_host_without_deploy_to_gets_an_absolute_default(tmp_path):
    cfg = loaded(tmp_path, '[project]\nname = "shop"\n[env.a]\nhosts = [{ name = "w", transport = "ssh" }, '
                           '{ name = "v", transport = "winrm" }, { name = "l", transport = "local" }]\n')
    env = cfg.environment("a")
    roots = [env.host_deploy_to(h) for h in env.hosts]
    assert roots == ["/var/www/shop", "C:\\Shipyard\\shop", str(tmp_path / ".shipyard" / "local")]



def missing_secret_error(var: str) -> str:
    env = parse(f'[env.x]\nsecrets = {{ API_KEY = "{var}" }}\n', "shipyard.toml").env["x"]
    with pytest.raises(ConfigError) as caught:
        env.load_secrets({})
    return str(caught.value)


@pytest.mark.parametrize("pasted", ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "AKIAIOSFODNN7EXAMPLE",
                                    "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "xoxb_1234567890_abcdefghij"])
def test_an_api_key_pasted_where_the_variable_name_belongs_is_never_echoed(pasted):
    message = missing_secret_error(pasted)
    assert pasted not in message and "secrets.API_KEY" in message and "not shown" in message


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,40}", fullmatch=True))
def test_a_missing_secrets_variable_is_named_only_when_it_reads_as_an_exported_name(var):
    """Shown: upper case, digits and `_` (what shells export), unless it is a long run of capitals
    and digits without `_` (an AWS key id). Anything with a lower-case letter is not shown."""
    exported = all(c.isupper() or c.isdigit() or c == "_" for c in var) and not var[0].isdigit()
    key_like = "_" not in var and len(var) >= 16 and not var.isalpha()
    named = f"environment variable {var} is not set" in missing_secret_error(var)
    assert named == (exported and not key_like)
