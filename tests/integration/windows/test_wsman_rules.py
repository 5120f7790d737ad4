"""Each rule of the strict endpoint (a default Windows Server), proved to bite with the raw
pywinrm client, and Shipyard's WinRM transport meeting it. One test per rule; the rules
already covered elsewhere are named in RULES_ELSEWHERE."""

from __future__ import annotations

import json
import time

import pytest
import requests
import winrm
import xmltodict
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError, WSManFaultError

from deploy.config import EnvConfig, HostConfig, WinRMOptions, parse
from deploy.errors import ConfigError, TransportError
from deploy.transport import open_transport
from deploy.transport.powershell import ProtocolError
from tests.integration.windows import ntlm_wire
from tests.integration.windows.harness import winrm_host
from tests.integration.windows.tls import make_tls
from tests.integration.windows.wsman_fake import FakeWSMan, ServerConfig, lab_config

PASSWORD = "S3cret-pw!"
RULES_ELSEWHERE = {
    "ShellId/CommandId must exist": "test_winrm_transport.py::test_endpoint_rejects_unknown_shell_ids",
    "request over MaxEnvelopeSizekb": "test_winrm_transport.py::test_endpoint_rejects_oversized_envelopes",
    "cmd.exe 8191-character command line": "test_winrm_transport.py::test_endpoint_enforces_cmd_exe_limit_like_windows",
    "RelatesTo echoes MessageID": "test_winrm_transport.py::test_relates_to_mismatch_is_detected_on_every_answer",
    "Receive w:TimedOut": "test_winrm_transport.py::test_operation_timeouts_are_retried_until_output",
    "NTLM over HTTP must be encrypted": "test_winrm_ntlm.py::test_unencrypted_soap_over_http_is_refused",
}


def echo(line: str, stdin: bytes) -> tuple[bytes, bytes, int]:
    return b"ran\r\n", b"", 0


def raw(fake: FakeWSMan, **kwargs) -> winrm.Protocol:
    options = {"transport": "basic", "username": fake.username, "password": fake.password, "proxy": None,
               "read_timeout_sec": 5, "operation_timeout_sec": 2, "ca_trust_path": None, **kwargs}
    return winrm.Protocol(fake.url, **options)


def shipyard(fake: FakeWSMan, monkeypatch, **winrm_options):
    monkeypatch.setenv("SHIPYARD_TEST_WINRM_PASSWORD", fake.password)
    host = winrm_host(fake)
    if winrm_options:
        host = host.model_copy(update={"winrm": host.winrm.model_copy(update=winrm_options)})
    env = EnvConfig(hosts=[host], secrets={"WINRM_PASSWORD": "SHIPYARD_TEST_WINRM_PASSWORD"})
    return open_transport(host, env)


@pytest.fixture
def lab():
    with FakeWSMan(echo, password=PASSWORD, config=lab_config()) as fake:
        yield fake


# ------------------------------------------------------------ authentication

def test_basic_is_refused_by_a_default_server(monkeypatch):
    with FakeWSMan(echo, password=PASSWORD) as fake:  # ServerConfig(): Windows' defaults
        with pytest.raises(InvalidCredentialsError):
            raw(fake).open_shell()
        with pytest.raises(TransportError, match=r'rejected the credentials.*winrm set winrm/config/service/auth @\{Basic="true"\}'):
            shipyard(fake, monkeypatch).run("x", timeout=5)
        assert fake.verbs == []


def test_basic_over_plain_http_needs_allow_unencrypted_too():
    with FakeWSMan(echo, password=PASSWORD, config=ServerConfig(allow_basic=True)) as fake:
        with pytest.raises(InvalidCredentialsError):
            raw(fake).open_shell()
    with FakeWSMan(echo, password=PASSWORD, config=lab_config()) as fake:
        assert raw(fake).open_shell()


@pytest.fixture
def ntlm_https(tmp_path, monkeypatch):
    context, _ca = make_tls(tmp_path)
    monkeypatch.setenv("NTLM_USER_FILE", str(ntlm_wire.credentials_file(tmp_path, "CORP", "deployer", PASSWORD)))
    monkeypatch.setenv("SHIPYARD_TEST_WINRM_PASSWORD", PASSWORD)

    def start(certificate):
        return FakeWSMan(echo, password=PASSWORD, auth="ntlm", tls=context, certificate=str(certificate))

    return start, tmp_path


def ntlm_https_env(fake) -> EnvConfig:
    options = WinRMOptions(port=fake.port, password_secret="PW", operation_timeout=2, read_timeout=5, cert_validation="ignore")
    host = HostConfig(name="win1", address="127.0.0.1", transport="winrm", user="CORP\\deployer", winrm=options)
    return EnvConfig(hosts=[host], secrets={"PW": "SHIPYARD_TEST_WINRM_PASSWORD"})


def test_ntlm_over_https_is_bound_to_the_listener_certificate(ntlm_https):
    start, tmp = ntlm_https
    with start(tmp / "server.pem") as fake:
        env = ntlm_https_env(fake)
        transport = open_transport(env.hosts[0], env)
        assert transport.run("Write-Output x", timeout=5).stdout == "ran\r\n"
        transport.close()
        assert fake.verbs[0] == "Create" and not any(b.startswith(ntlm_wire.BOUNDARY) for b in fake.raw_bodies)
    (tmp / "other").mkdir()
    make_tls(tmp / "other")  # as if a TLS-intercepting proxy presented another certificate
    with start(tmp / "other" / "server.pem") as fake:
        env = ntlm_https_env(fake)
        with pytest.raises(TransportError, match="rejected the credentials"):
            open_transport(env.hosts[0], env).run("Write-Output x", timeout=5)
        assert fake.verbs == []


# ------------------------------------------------------------ header limits

def test_operation_timeout_above_max_timeout_ms_is_a_fault(monkeypatch):
    with FakeWSMan(echo, password=PASSWORD, config=lab_config(max_timeout_ms=10000)) as fake:
        with pytest.raises(WSManFaultError) as err:
            raw(fake, operation_timeout_sec=20, read_timeout_sec=25).open_shell()
        assert err.value.fault_subcode == "w:UnsupportedFeature"
        with pytest.raises(TransportError, match="operation_timeout = 20 exceeds the host's MaxTimeoutms"):
            shipyard(fake, monkeypatch, operation_timeout=20, read_timeout=25).run("x", timeout=5)
    with pytest.raises(ConfigError, match=r"operation_timeout \(90\) exceeds the host's MaxTimeoutms \(60 s\)"):
        parse('[project]\nname = "s"\n[env.w]\nhosts = [{ name = "w", transport = "winrm", winrm = { operation_timeout = 90, '
              'read_timeout = 95 } }]\n', "shipyard.toml")


def test_client_max_envelope_size_below_the_minimum_is_a_fault(lab):
    protocol = raw(lab)
    protocol.max_env_sz = 4096
    header = protocol.build_wsman_header("http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
                                         "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd")
    header["env:Header"]["w:MaxEnvelopeSize"]["#text"] = "4096"
    message = {"env:Envelope": {**header, "env:Body": {"rsp:Shell": {"rsp:InputStreams": "stdin", "rsp:OutputStreams": "stdout stderr"}}}}
    with pytest.raises(WSManFaultError) as err:
        protocol.send_message(xmltodict.unparse(message))
    assert err.value.wsman_fault_code == 2150859025 and lab.verbs == []


def test_replies_fit_the_client_max_envelope_size(lab, monkeypatch):
    out = bytes(range(256)) * 4096  # 1 MiB of output
    lab.handler = lambda line, stdin: (out, b"", 0)
    lab.output_chunk = 10 << 20  # only the client's envelope limits a reply
    result = shipyard(lab, monkeypatch).run_powershell("x", timeout=30)
    assert result.stdout.encode("utf-8", "surrogateescape")[:10] and len(lab.reply_limits) > 8
    assert all(size <= limit for limit, size in lab.reply_limits) and {limit for limit, _ in lab.reply_limits} == {153600}


def test_unknown_codepage_is_a_fault(lab, monkeypatch):
    with pytest.raises(WSManFaultError, match="code page 4242"):
        raw(lab).open_shell(codepage=4242)
    with pytest.raises(TransportError, match="open shell failed.*code page 4242"):
        shipyard(lab, monkeypatch, codepage=4242).run("x", timeout=5)


# ------------------------------------------------------------ shells and quotas

def test_max_shells_per_user_is_enforced(monkeypatch):
    with FakeWSMan(echo, password=PASSWORD, config=lab_config(max_shells_per_user=2)) as fake:
        transports = [shipyard(fake, monkeypatch) for _ in range(3)]
        for t in transports[:2]:
            assert t.run("x", timeout=5).ok
        with pytest.raises(TransportError, match="maximum number of 2 concurrent shells"):
            transports[2].run("x", timeout=5)
        transports[0].close()
        assert transports[2].run("x", timeout=5).ok  # a shell freed: the quota has room again


def test_an_expired_idle_shell_is_opened_again(lab, monkeypatch):
    transport = shipyard(lab, monkeypatch)
    assert transport.run("x", timeout=5).ok
    first = next(iter(lab.shells))
    lab.expire_idle_shells()
    with pytest.raises(WSManFaultError, match="shell was not found on the server"):
        raw(lab).run_command(first, "cmd")
    assert transport.run("x", timeout=5).ok
    assert lab.expired == [first] and lab.verbs.count("Create") == 2


def test_max_memory_per_shell_ends_the_command(monkeypatch):
    with FakeWSMan(echo, password=PASSWORD, config=lab_config(max_memory_per_shell_mb=1024)) as fake:
        fake.memory_mb = lambda record: 1500
        with pytest.raises(ProtocolError, match="expected one JSON line on stdout, got 0") as err:
            shipyard(fake, monkeypatch).call("file_hash", {"Path": "C:\\x"}, timeout=5)
        assert "OutOfMemoryException" in err.value.result.stderr


# ------------------------------------------------------------ stdin, signals

def test_receive_blocks_until_a_stdin_reader_gets_end(lab):
    from deploy.transport.powershell import BOOTSTRAP_COMMAND_LINE

    protocol = raw(lab)
    shell = protocol.open_shell()
    executable, _, arguments = BOOTSTRAP_COMMAND_LINE.partition(" ")
    command = protocol.run_command(shell, executable, [arguments], console_mode_stdin=False)
    with pytest.raises(WinRMOperationTimeoutError):
        protocol.get_command_output_raw(shell, command)
    protocol.send_command_input(shell, command, b"frame", end=True)
    assert protocol.get_command_output_raw(shell, command)[:3] == (b"ran\r\n", b"", 0)


def test_a_command_longer_than_operation_timeout_gets_timed_out_receives_until_it_ends():
    """WinRS answers each Receive within OperationTimeout (w:TimedOut while the command runs), so a slow
    command never holds a reply past the client's read timeout (5 s here; the command takes 6)."""
    import time

    def slow(command_line, stdin):
        time.sleep(6)
        return b"late\r\n", b"", 0

    with FakeWSMan(slow, password=PASSWORD, config=lab_config()) as fake:
        protocol = raw(fake)
        shell = protocol.open_shell()
        command = protocol.run_command(shell, "cmd.exe", ["/c", "slow"])
        with pytest.raises(WinRMOperationTimeoutError):
            protocol.get_command_output_raw(shell, command)
        assert protocol.get_command_output(shell, command)[:3] == (b"late\r\n", b"", 0)  # pywinrm retries TimedOut


def test_send_after_end_or_after_the_command_finished_is_a_fault(lab):
    protocol = raw(lab)
    shell = protocol.open_shell()
    command = protocol.run_command(shell, "cmd.exe", ["/c", "more"])
    protocol.send_command_input(shell, command, b"x", end=True)
    with pytest.raises(WSManFaultError, match="stdin already closed"):
        protocol.send_command_input(shell, command, b"y")
    done = protocol.run_command(shell, "cmd.exe", ["/c", "echo"])
    assert protocol.get_command_output_raw(shell, done)[3] is True
    with pytest.raises(WSManFaultError, match="The pipe is being closed") as err:
        protocol.send_command_input(shell, done, b"late")
    assert err.value.wsman_fault_code == 232


def test_unknown_signal_codes_are_a_fault(lab):
    protocol = raw(lab)
    shell = protocol.open_shell()
    command = protocol.run_command(shell, "cmd.exe", ["/c", "echo"])
    header = protocol.build_wsman_header("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal",
                                         "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd", shell)
    body = {"rsp:Signal": {"@CommandId": command, "rsp:Code": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/stop"}}
    with pytest.raises(WSManFaultError, match="The parameter is incorrect") as err:
        protocol.send_message(xmltodict.unparse({"env:Envelope": {**header, "env:Body": body}}))
    assert err.value.wsman_fault_code == 87
    protocol.cleanup_command(shell, command)  # terminate is known


def test_send_timed_out_is_retried_by_shipyard_not_by_pywinrm(lab, monkeypatch, tmp_path):
    protocol = raw(lab)
    shell = protocol.open_shell()
    command = protocol.run_command(shell, "cmd.exe", ["/c", "more"])
    lab.send_timeouts = 1
    with pytest.raises(WinRMOperationTimeoutError):
        protocol.send_command_input(shell, command, b"x")
    lab.send_timeouts = 2
    lab.handler = lambda line, stdin: (json.dumps({"stdin": len(stdin)}).encode() + b"\r\n", b"", 0)
    transport = shipyard(lab, monkeypatch)
    result = transport.run_powershell("x", timeout=10, stdin=[b"y" * 1000])
    assert json.loads(result.stdout)["stdin"] > 1000 and transport.send_retries == 2


# ------------------------------------------------------------ connections dropped

@pytest.fixture
def ntlm_http(tmp_path, monkeypatch):
    monkeypatch.setenv("NTLM_USER_FILE", str(ntlm_wire.credentials_file(tmp_path, "CORP", "deployer", PASSWORD)))
    monkeypatch.setenv("SHIPYARD_TEST_WINRM_PASSWORD", PASSWORD)
    with FakeWSMan(echo, password=PASSWORD, auth="ntlm") as fake:
        yield fake


def test_a_dropped_connection_is_authenticated_again_and_the_shell_reused(ntlm_http):
    fake = ntlm_http
    options = WinRMOptions(scheme="http", port=fake.port, password_secret="PW", operation_timeout=2, read_timeout=5)
    host = HostConfig(name="win1", address="127.0.0.1", transport="winrm", user="CORP\\deployer", winrm=options)
    transport = open_transport(host, EnvConfig(hosts=[host], secrets={"PW": "SHIPYARD_TEST_WINRM_PASSWORD"}))
    fake.idle_connection_timeout = 0.3  # HTTP.sys closes idle keep-alive connections (120 s by default)
    for _ in range(3):
        assert transport.run("Write-Output again", timeout=5).ok
        time.sleep(0.5)
    assert transport.protocol.reauthentications >= 2 and fake.verbs.count("Create") == 1  # the first connection predates the timeout
    bare = winrm.Protocol(fake.url, transport="ntlm", username="CORP\\deployer", password=PASSWORD, proxy=None, ca_trust_path=None,
                          read_timeout_sec=5, operation_timeout_sec=2)
    shell = bare.open_shell()
    time.sleep(0.5)
    with pytest.raises((InvalidCredentialsError, requests.ConnectionError)):  # pywinrm alone
        bare.run_command(shell, "cmd")


def test_server_limits_are_read_over_ws_man(lab, monkeypatch):
    limits = shipyard(lab, monkeypatch).server_limits()
    assert (limits["MaxEnvelopeSizekb"], limits["MaxTimeoutms"], limits["Winrs/MaxShellsPerUser"]) == ("500", "60000", "30")
    lab.config.config_readable = False
    assert shipyard(lab, monkeypatch).server_limits() is None
