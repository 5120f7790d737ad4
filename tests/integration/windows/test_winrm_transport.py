"""WinRMTransport with the real pywinrm/requests stack against the strict WS-Man endpoint.

Proves the wire behaviour (verbs, stdin streaming, limits, faults, time-outs, auth)
and asserts on what the endpoint received. Ad-hoc scripts are answered by small
handlers here; the scripts/ps1 contracts by the model (test_hostops_e2e.py)."""

from __future__ import annotations

import base64
import json
import time

import pytest
import winrm

from deploy.config import EnvConfig
from deploy.errors import CommandFailed, CommandTimeout, ConfigError, TransportError
from deploy.transport import open_transport
from deploy.transport.powershell import BOOTSTRAP_COMMAND_LINE, MAX_CMDLINE, ScriptFailed
from tests.integration.windows.harness import winrm_host
from tests.integration.windows.model import PROGRESS
from tests.integration.windows.wsman_fake import MAX_ENVELOPE, TIMED_OUT, FakeWSMan, Fault

ERROR_CLIXML = (b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
                b'<S S="Error">Get-Item : Cannot find path_x000D__x000A_</S><S S="Error">C:\\nope_x000D__x000A_</S></Objs>')


def framed(stdin: bytes) -> tuple[str, dict, bytes]:
    call, _library, script, rest = (stdin.split(b"\r\n", 3) + [b""])[:4]
    return base64.b64decode(script).decode(), json.loads(base64.b64decode(call)), rest


@pytest.fixture
def adhoc(windows_host):
    """A connected transport, the endpoint and the model (tests set `model.adhoc` to answer ad-hoc scripts)."""
    transport = open_transport(windows_host.host, windows_host.env)
    yield transport, windows_host.fake, windows_host.model
    transport.close()


def test_script_travels_on_stdin_and_bootstrap_fits_cmd_exe(adhoc):
    transport, fake, model = adhoc
    model.adhoc = lambda script, rest: (json.dumps({"echo": script}).encode() + b"\r\n", PROGRESS, 0)
    script = "Write-Output 'h\u00e9llo \u65e5\u672c \U0001F680'; " + "# padding\n" * 2000
    result = transport.run(script, timeout=10)
    echoed = json.loads(result.stdout)["echo"]
    assert script in echoed and echoed.rstrip().endswith("exit $LASTEXITCODE")
    record = fake.commands[-1]
    assert record.command_line == BOOTSTRAP_COMMAND_LINE and len(record.command_line) <= MAX_CMDLINE
    assert "h\u00e9llo" not in record.script  # the command line only carries the bootstrap
    assert result.stderr == ""  # progress CLIXML with rc 0 is noise, not an error
    assert fake.verbs[:3] == ["Create", "Command", "Send"]
    options = next(iter(fake.shells.values()))["options"]
    assert options["WINRS_CODEPAGE"] == "65001" and options["WINRS_NOPROFILE"] == "TRUE"


def test_interrupt_while_streaming_terminates_the_command_and_drops_the_shell(adhoc):
    transport, fake, model = adhoc

    def stdin():
        yield b"x" * 300_000
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        transport.run_powershell("Read-Host", timeout=10, stdin=stdin())
    assert fake.commands[-1].signals == ["terminate"] and len(fake.deleted) == 1


def test_big_script_is_split_into_sends_under_the_envelope_limit(adhoc):
    transport, fake, model = adhoc
    model.adhoc = lambda script, rest: (b'{"length": %d}\r\n' % len(script), b"", 0)
    script = "$x = @'\n" + ("A" * 99 + "\n") * 8000 + "'@\n"  # 800 KB
    result = transport.run(script, timeout=20)
    assert json.loads(result.stdout)["length"] >= len(script)
    record = fake.commands[-1]
    assert len(record.sends) >= 4
    assert max(fake.envelope_sizes) < MAX_ENVELOPE


def test_stdin_upload_is_one_command_many_sends_and_verified(adhoc, windows_host, tmp_path):
    transport, fake, model = adhoc
    blob = tmp_path / "artifact.bin"
    blob.write_bytes(bytes(range(256)) * 12000)  # ~3 MB
    transport.put(blob, "C:\\shipyard\\site\\.shipyard\\artifacts\\a.tar.gz")
    assert model.local("C:\\shipyard\\site\\.shipyard\\artifacts\\a.tar.gz").read_bytes() == blob.read_bytes()
    put_commands = [c for c in fake.commands if c.stdin]
    assert len(put_commands) == 1 and len(put_commands[0].sends) >= 10
    assert max(fake.envelope_sizes) < MAX_ENVELOPE and transport.transferred_bytes == blob.stat().st_size
    assert fake.verbs.count("Create") == 1


def test_upload_with_wrong_sha256_fails_on_the_far_side(adhoc, tmp_path):
    transport, fake, model = adhoc
    blob = tmp_path / "x.bin"
    blob.write_bytes(b"payload")
    with pytest.raises(ScriptFailed, match="sha256 mismatch"):
        transport.put(blob, "C:\\x\\x.bin", sha256="0" * 64)
    assert not model.local("C:\\x\\x.bin").exists()


def test_get_round_trips_bytes(adhoc, windows_host, tmp_path):
    transport, fake, model = adhoc
    target = model.local("C:\\logs\\app.log")
    target.parent.mkdir(parents=True)
    target.write_bytes("caf\u00e9\r\n".encode() * 1000)
    transport.get("C:\\logs\\app.log", tmp_path / "app.log")
    assert (tmp_path / "app.log").read_bytes() == target.read_bytes()


def test_deadline_signals_terminate_deletes_shell_and_raises_typed_timeout(adhoc):
    transport, fake, model = adhoc
    fake.hang = lambda record: True  # every Receive: WSManFault 2150858793 (pywinrm would retry forever)
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as err:
        transport.run("Start-Sleep -Seconds 3600", timeout=1.0)
    assert 1.0 <= time.monotonic() - started < 5
    assert err.value.host == "win1" and "Start-Sleep" in err.value.command and err.value.timeout == 1.0
    assert fake.verbs.count("Receive") > 1
    assert fake.commands[-1].signals == ["terminate"] and len(fake.deleted) == 1
    fake.hang = lambda record: False
    model.adhoc = lambda script, rest: (b"ok\r\n", b"", 0)
    assert transport.run("Write-Output ok", timeout=5).stdout == "ok\r\n"  # a fresh shell afterwards
    assert fake.verbs.count("Create") == 2


def test_operation_timeouts_are_retried_until_output(adhoc):
    transport, fake, model = adhoc
    fake.timeouts_before_output = 3
    model.adhoc = lambda script, rest: (b"done\r\n", b"", 0)
    assert transport.run("Start-Sleep 1", timeout=10).stdout == "done\r\n"
    assert fake.verbs.count("Receive") == 4


def test_output_in_many_receives_is_reassembled(adhoc):
    transport, fake, model = adhoc
    fake.output_chunk = 7
    out = "".join(f"line {i} \u00e9\r\n" for i in range(50)).encode()
    model.adhoc = lambda script, rest: (out, ERROR_CLIXML, 0)
    result = transport.run("1..50", timeout=10)
    assert result.stdout.encode() == out and fake.verbs.count("Receive") > 50
    assert result.stderr == "Get-Item : Cannot find path\nC:\\nope"


def test_nonzero_exit_raises_command_failed_with_clean_stderr(adhoc):
    transport, fake, model = adhoc
    model.adhoc = lambda script, rest: (b"", ERROR_CLIXML, 1)
    with pytest.raises(CommandFailed, match=r"exited 1\n.*Cannot find path") as err:
        transport.run(["C:\\tools\\app.exe", "--flag", "it's"], timeout=5)
    assert err.value.result.rc == 1
    script, _, _ = framed(fake.commands[-1].stdin)
    assert "& 'C:\\tools\\app.exe' '--flag' 'it''s'" in script
    assert transport.run("x", timeout=5, check=False).rc == 1


def test_shell_is_reused_and_deleted_on_close(windows_host):
    transport = open_transport(windows_host.host, windows_host.env)
    windows_host.model.adhoc = lambda script, rest: (b"ok\r\n", b"", 0)
    for _ in range(3):
        transport.run("Write-Output ok", timeout=5)
    transport.close()
    transport.close()
    fake = windows_host.fake
    assert fake.verbs.count("Create") == 1 and fake.verbs.count("Command") == 3
    assert fake.verbs[-1] == "Delete" and fake.shells == {}


def test_bad_password_is_a_transport_error_naming_user_and_auth(windows_host, monkeypatch):
    monkeypatch.setenv("SHIPYARD_TEST_WINRM_PASSWORD", "wrong")
    transport = open_transport(windows_host.host, windows_host.env)
    with pytest.raises(TransportError, match=r"win1: WinRM rejected the credentials of 'deployer' \(auth=basic\)") as err:
        transport.run("Write-Output ok", timeout=5)
    assert "wrong" not in str(err.value)
    assert windows_host.fake.verbs == []  # 401 before any WinRS verb


def test_unset_password_secret_is_a_config_error_before_any_io(windows_host, monkeypatch):
    monkeypatch.delenv("SHIPYARD_TEST_WINRM_PASSWORD")
    with pytest.raises(ConfigError, match="SHIPYARD_TEST_WINRM_PASSWORD is not set"):
        open_transport(windows_host.host, windows_host.env)


def test_relates_to_mismatch_is_detected_on_every_answer(adhoc):
    transport, fake, model = adhoc
    fake.break_relates_to = True
    with pytest.raises(TransportError, match="RelatesTo"):
        transport.run("Write-Output ok", timeout=5)


def test_proxy_from_environment_is_not_used(adhoc, monkeypatch):
    transport, fake, model = adhoc
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    model.adhoc = lambda script, rest: (b"direct\r\n", b"", 0)
    assert transport.run("Write-Output direct", timeout=5).stdout == "direct\r\n"


def test_unreachable_endpoint_is_a_transport_error(monkeypatch):
    with FakeWSMan(lambda line, stdin: (b"", b"", 0)) as fake:
        host = winrm_host(fake)  # the port is closed again once the endpoint stopped
    monkeypatch.setenv("SHIPYARD_TEST_WINRM_PASSWORD", "x-pass")
    env = EnvConfig(hosts=[host], secrets={"WINRM_PASSWORD": "SHIPYARD_TEST_WINRM_PASSWORD"})
    with pytest.raises(TransportError, match="win1: WinRM open shell failed: ConnectionError"):
        open_transport(host, env).run("x", timeout=5)


# ------------------------------------------------------------ the endpoint's own strictness


def test_endpoint_enforces_cmd_exe_limit_like_windows(windows_host):
    """pywinrm's own run_ps puts the script on the command line: 3061 chars fit, 3062 do not."""
    windows_host.model.adhoc = lambda script, rest: (b"ran\r\n", b"", 0)
    fake = windows_host.fake
    fake.handler = lambda line, stdin: (b"ran\r\n", b"", 0)
    session = winrm.Session(fake.url, auth=(fake.username, fake.password), transport="basic", proxy=None,
                            ca_trust_path=None)
    assert session.run_ps("#" * 3061).status_code == 0
    too_long = session.run_ps("#" * 3062)
    assert too_long.status_code == 1 and b"The command line is too long." in too_long.std_err


def test_endpoint_rejects_unknown_shell_ids(windows_host):
    fake = windows_host.fake
    protocol = winrm.Protocol(fake.url, transport="basic", username=fake.username, password=fake.password,
                              proxy=None, read_timeout_sec=5, operation_timeout_sec=2, ca_trust_path=None)
    with pytest.raises(winrm.exceptions.WSManFaultError) as err:
        protocol.get_command_output_raw("00000000-0000-0000-0000-000000000000", "X")
    assert err.value.wsman_fault_code == 2150858843 and fake.verbs == ["Receive"]


def test_endpoint_rejects_oversized_envelopes(windows_host):
    fake = windows_host.fake
    protocol = winrm.Protocol(fake.url, transport="basic", username=fake.username, password=fake.password,
                              proxy=None, read_timeout_sec=5, operation_timeout_sec=2, ca_trust_path=None)
    shell = protocol.open_shell()
    command = protocol.run_command(shell, "cmd")
    with pytest.raises(winrm.exceptions.WSManFaultError) as err:
        protocol.send_command_input(shell, command, b"x" * 400_000)
    assert err.value.wsman_fault_code == 2150859025


def test_operation_timeout_while_opening_the_shell_is_a_transport_error(windows_host):
    """pywinrm does not retry a time-out fault on Create (diyan/pywinrm #323): name it."""
    fake = windows_host.fake
    original = fake.winrs._create

    def slow_create(root, user):
        raise Fault(TIMED_OUT, "w:TimedOut", "The WS-Management service cannot complete the operation")

    fake.winrs._create = slow_create
    transport = open_transport(windows_host.host, windows_host.env)
    with pytest.raises(TransportError, match="win1: WinRM open shell failed: WinRMOperationTimeoutError"):
        transport.run("x", timeout=5)
    fake.winrs._create = original
    windows_host.model.adhoc = lambda script, rest: (b"ok\r\n", b"", 0)
    assert transport.run("x", timeout=5).ok  # the next command opens a shell normally
