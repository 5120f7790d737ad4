"""SshTransport against the lab's real sshds: strict host keys, timeouts, stdin, sha-verified put."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import time
from pathlib import Path

import pytest

from deploy.config import EnvConfig, HostConfig, SshOptions
from deploy.errors import ArtifactError, CommandFailed, CommandTimeout, TransportError
from deploy.transport import open_transport
from deploy.transport.hostkeys import ChangedHostKey, UnknownHostKey
from deploy.transport.ssh import SshTransport

from tests.integration.farm.farmlab import lab_env, running_lab


def options(env: EnvConfig, **changes) -> SshOptions:
    return env.ssh.model_copy(update=changes)


def keygen_fingerprint(pubkey: Path) -> str:
    return subprocess.run(["ssh-keygen", "-lf", str(pubkey)], capture_output=True, text=True).stdout.split()[1]


def test_runs_on_every_host_through_the_registry(env):
    for host in env.hosts:
        with open_transport(host, env) as t:
            assert isinstance(t, SshTransport)
            result = t.run("hostname; echo $0", timeout=10)
            assert result.stdout.split() == [host.name, "/bin/sh"]


def test_argv_env_cwd_and_exit_codes(env):
    with SshTransport.connect(env.hosts[0], env) as t:
        assert t.run(["printf", "%s|", "a b", "$HOME"], timeout=10).stdout == "a b|$HOME|"
        assert t.run("echo $GREETING; pwd", env={"GREETING": "it's me"}, cwd="/tmp", timeout=10).stdout == "it's me\n/tmp\n"
        failed = t.run("echo out; echo err >&2; exit 7", timeout=10, check=False)
        assert (failed.rc, failed.stdout, failed.stderr) == (7, "out\n", "err\n")
        with pytest.raises(CommandFailed) as e:
            t.run(["false"], timeout=10)
        assert e.value.result.rc == 1 and "lab1" in str(e.value)


def test_stdin_carries_secrets_and_is_closed(env):
    with SshTransport.connect(env.hosts[0], env) as t:
        assert t.run("read -r a; read -r b; echo \"$b-$a\"", stdin=b"one\ntwo\n", timeout=10).stdout == "two-one\n"
        assert t.run("cat | wc -c", timeout=10).stdout.strip() == "0"  # no stdin given: EOF, not a hang


def test_one_connection_is_reused_for_every_command(env):
    with SshTransport.connect(env.hosts[1], env) as t:
        first = t._conn.client.get_transport()
        started = time.monotonic()
        for _ in range(20):
            t.run(["true"], timeout=10)
        assert t._conn.client.get_transport() is first
        assert time.monotonic() - started < 2.0  # ~10 ms a command: no handshake, no ~/.bashrc


def test_the_connection_does_not_wait_on_nagle(env):
    """Each command is a few small packets each way: with Nagle on, each command waited for the
    host's delayed ACK (~50 ms on the lab). The socket the kernel holds says whether it is off."""
    with SshTransport.connect(env.hosts[0], env) as t:
        sock = t._conn.client.get_transport().sock
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_command_timeout_names_host_and_command(env):
    with SshTransport.connect(env.hosts[0], env) as t:
        started = time.monotonic()
        with pytest.raises(CommandTimeout) as e:
            t.run("sleep 5", timeout=0.5)
        assert time.monotonic() - started < 2
        assert e.value.host == "lab1" and "sleep 5" in str(e.value)
        assert t.run("echo still-usable", timeout=10).stdout == "still-usable\n"


def test_unknown_host_key_is_refused_with_its_fingerprint(lab, env, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    host = env.hosts[2]
    with pytest.raises(UnknownHostKey) as e:
        SshTransport(host, options(env, known_hosts=str(empty))).open()
    expected = keygen_fingerprint(lab.root / "hosts" / "lab3" / "host_key.pub")
    assert e.value.host == "lab3" and expected in str(e.value)
    assert empty.read_text() == ""


def test_changed_host_key_is_refused_even_with_trust_on_first_use(lab, env, tmp_path):
    lab1_key = (lab.root / "hosts" / "lab1" / "host_key.pub").read_text().split()
    forged = tmp_path / "known_hosts"
    forged.write_text(f"{env.hosts[1].address} {lab1_key[0]} {lab1_key[1]}\n")  # lab2's address, lab1's key
    for tofu in (False, True):
        with pytest.raises(ChangedHostKey) as e:
            SshTransport(env.hosts[1], options(env, known_hosts=str(forged), trust_on_first_use=tofu)).open()
        assert "HOST KEY CHANGED" in str(e.value)
        assert keygen_fingerprint(lab.root / "hosts" / "lab2" / "host_key.pub") in str(e.value)


def test_trust_on_first_use_records_the_key_and_warns(lab, env, tmp_path, capsys):
    known = tmp_path / "known_hosts"
    with SshTransport(env.hosts[0], options(env, known_hosts=str(known), trust_on_first_use=True)) as t:
        t.open()
        assert t.run(["hostname"], timeout=10).stdout == "lab1\n"
    assert "WARNING lab1: trusting new host key" in capsys.readouterr().err
    recorded = known.read_text().split()
    assert recorded[0] == env.hosts[0].address
    assert recorded[2] == (lab.root / "hosts" / "lab1" / "host_key.pub").read_text().split()[1]
    with SshTransport(env.hosts[0], options(env, known_hosts=str(known))) as strict:  # now strict mode passes
        strict.open()


def test_missing_known_hosts_file_is_an_error(env, tmp_path):
    with pytest.raises(TransportError, match="does not exist"):
        SshTransport(env.hosts[0], options(env, known_hosts=str(tmp_path / "nope"))).open()


def test_unreachable_host_fails_within_connect_timeout(env):
    ghost = HostConfig(name="ghost", address="10.77.0.99", transport="ssh", user="root")
    started = time.monotonic()
    with pytest.raises(TransportError) as e:
        SshTransport(ghost, options(env, connect_timeout=1)).open()
    assert e.value.host == "ghost" and time.monotonic() - started < 5


def test_wrong_client_key_is_an_authentication_error(env, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    with pytest.raises(TransportError, match="authentication failed"):
        SshTransport(env.hosts[0], options(env, key_filename=str(tmp_path / "other"))).open()


def test_put_verifies_sha256_on_the_host_and_get_fetches(lab, env, tmp_path):
    payload = tmp_path / "artifact.bin"
    payload.write_bytes(b"shipyard" * 100_000)
    digest = hashlib.sha256(payload.read_bytes()).hexdigest()
    remote = f"{env.hosts[0].deploy_to}/.shipyard/artifacts/{digest}.bin"
    with SshTransport.connect(env.hosts[0], env) as t:
        t.put(payload, remote, sha256=digest)
        assert t.transferred_bytes == 800_000
        assert t.run(["sha256sum", remote], timeout=10).stdout.split()[0] == digest
        with pytest.raises(ArtifactError, match="sha256"):
            t.put(payload, remote + ".bad", sha256="0" * 64)
        assert t.run(f"ls {Path(remote).parent}", timeout=10).stdout.split() == [Path(remote).name]  # no .part left
        t.get(remote, tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == payload.read_bytes()


def test_become_runs_commands_as_another_user_through_sudo(env):
    with SshTransport(env.hosts[0], options(env, become="nobody")) as t:
        t.open()
        assert t.run(["id", "-un"], timeout=10).stdout == "nobody\n"
        assert t.run("id -un; echo $X", env={"X": "kept"}, timeout=10).stdout == "nobody\nkept\n"


@pytest.mark.slow
def test_loopback_fallback_serves_ssh_on_127_0_0_1():
    with running_lab(1, loopback=True) as lab:
        assert lab.mode == "loopback" and lab.bridge is None
        host = lab.hosts[0]
        assert host.address == "127.0.0.1" and host.ssh_port != 22
        env = lab_env(lab)
        with SshTransport.connect(env.hosts[0], env) as t:
            assert t.run(["echo", "ok"], timeout=10).stdout == "ok\n"
        assert (lab.known_hosts.read_text()).startswith(f"[127.0.0.1]:{host.ssh_port} ssh-ed25519 ")
