"""Farm config: SSH options, HAProxy settings, generated environments (lab.up's env file)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploy.config import ConfigError, EnvConfig, HostConfig, SshOptions, load, parse
from deploy.lab.envfile import render_env
from deploy.lab.state import Lab
from deploy.lab.hosts import LabHost
from deploy.loadbalancer.base import ServerState
from deploy.loadbalancer.haproxy import _address


def test_ssh_options_default_to_strict_verification_and_hosts_override_the_env():
    env = EnvConfig(ssh=SshOptions(key_filename="/k", connect_timeout=3), hosts=[
        HostConfig(name="a"), HostConfig(name="b", ssh=SshOptions(become="www-data"))])
    assert env.host_ssh(env.hosts[0]).key_filename == "/k"
    assert env.host_ssh(env.hosts[1]).become == "www-data" and env.host_ssh(env.hosts[1]).key_filename is None
    assert SshOptions().trust_on_first_use is False and SshOptions().known_hosts == "~/.ssh/known_hosts"


def test_bad_farm_keys_name_the_key():
    with pytest.raises(ConfigError) as e:
        parse('[env.p]\nssh = { known_host = "x" }\nhaproxy = { socket = "/s" }\n', "shipyard.toml")
    assert "env.p.ssh.known_host: unknown key" in str(e.value)
    assert "env.p.haproxy.backend: required key is missing" in str(e.value)


def lab(tmp_path: Path) -> Lab:
    hosts = [LabHost(f"lab{i}", f"10.77.0.{10 + i}", 22, 8000, str(tmp_path / f"hosts/lab{i}"), f"sy-lab{i}") for i in (1, 2)]
    return Lab(str(tmp_path), "netns", 18080, hosts)


def test_lab_env_file_is_a_valid_environment_found_by_name(tmp_path):
    (tmp_path / "shipyard.toml").write_text('[project]\nname = "site"\n')
    loaded = load(tmp_path / "shipyard.toml")
    loaded.generated_env_path("lab").parent.mkdir(parents=True)
    loaded.generated_env_path("lab").write_text(render_env(lab(tmp_path)))
    env = loaded.environment("lab")
    assert [h.address for h in env.hosts] == ["10.77.0.11", "10.77.0.12"]
    assert env.host_deploy_to(env.hosts[1]) == str(tmp_path / "hosts/lab2/site")
    assert env.rollout.drain == "haproxy" and env.haproxy.backend == "web"
    assert env.ssh.known_hosts == str(tmp_path / "known_hosts") and env.ssh.agent is False
    assert env.supervisor.preload is True and env.supervisor.workers == 2  # the lab serves a preloaded site


def test_a_broken_generated_env_is_reported_with_its_file(tmp_path):
    (tmp_path / "shipyard.toml").write_text("")
    loaded = load(tmp_path / "shipyard.toml")
    loaded.generated_env_path("lab").parent.mkdir(parents=True)
    loaded.generated_env_path("lab").write_text('hosts = [{ name = "x", transport = "sssh" }]\n')
    with pytest.raises(ConfigError) as e:
        loaded.environment("lab")
    assert "lab.toml" in e.value.file and "hosts[0].transport: 'sssh' is not one of" in str(e.value)


def test_lab_haproxy_config_is_valid_for_haproxy(tmp_path):
    from deploy.lab.balancer import render_config

    cfg = tmp_path / "haproxy.cfg"
    (tmp_path / "haproxy").mkdir()
    cfg.write_text(render_config(tmp_path, lab(tmp_path).hosts, 18080))
    check = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "server lab2 10.77.0.12:8000" in cfg.read_text()


def test_server_state_and_socket_addresses():
    assert ServerState("s", "UP", 0).up and ServerState("s", "no check", 0).up
    assert not ServerState("s", "UP 1/2", 0).up  # checks failing: going down
    assert ServerState("s", "DRAIN", 3).drained and not ServerState("s", "UP", 0).drained
    assert _address("tcp://10.0.0.2:9999")[1] == ("10.0.0.2", 9999)
    assert _address("unix:///run/haproxy/admin.sock")[1] == "/run/haproxy/admin.sock"
