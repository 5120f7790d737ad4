"""Shipyard's WinRM transport against WS-Man exchanges recorded from real Windows Servers
(pypsrp's suite, tests/fixtures/pypsrp): what Shipyard sends must match each recorded request
in structure, and it must read every recorded answer as Windows meant it — streams, exit
codes, CommandState, the OperationTimeout and other faults, winrm/config.

Drivers use the transport's own WinRS layer (`_execute`, the shell, server_limits), because
the recordings ran other command lines than Shipyard's bootstrap. The differences allowed
are listed below, each with its reason; any other difference fails."""

from __future__ import annotations

import pytest

from deploy.config import EnvConfig, HostConfig, WinRMOptions
from deploy.errors import TransportError
from deploy.transport import open_transport
from tests.integration.windows import replay

# Shipyard (through pywinrm) differs from pypsrp, which made the recordings, in these ways
# only; Windows accepts both (MS-WSMV marks them optional or client's choice).
ALWAYS = {
    "header SessionId: only recorded",  # wsmv:SessionId, mustUnderstand=false: optional
    "option WINRS_CONSOLEMODE_STDIN: 'false' != recorded None",  # stdin is a pipe for the bootstrap's ReadLine
    "option WSMAN_CMDSHELL_OPTION_KEEPALIVE: None != recorded 'true'",  # optional keep-alive of Receive
    "option WINRS_NOPROFILE: 'true' != recorded None",  # Shipyard always skips the user profile
    "option WINRS_CODEPAGE: '65001' != recorded None",  # and always asks for UTF-8 output
    # pywinrm ends every command with Signal terminate (MS-WSMV 3.1.4.12) where pypsrp sent ctrl_c: Windows takes
    # both for a finished command, and terminate also ends one that still runs (Shipyard's deadline needs that)
    "signal code terminate != recorded ctrl_c",
}
PER_RECORDING = {
    "test_winrs_environment": {  # Shipyard never sets shell variables: parameters travel on stdin
        "body: [('Shell', (), '', (('InputStreams', (), 'stdin', ()), ('OutputStreams', (), 'stdout stderr', ())))] != recorded"},
    "test_winrs_extra_opts": {  # nor shell name, lifetime, idle timeout or working directory
        "body: [('Shell', (), '', (('InputStreams', (), 'stdin', ()), ('OutputStreams', (), 'stdout stderr', ())))] != recorded"},
    "test_winrs_no_cmd_shell": {"option WINRS_SKIP_CMD_SHELL: 'false' != recorded 'true'"},  # Shipyard runs via cmd.exe
    "test_winrs_bad_cmd_id": {"body: [('Receive', (), '', (('DesiredStream', (('CommandId', '644983A8-4292-4922-97E9-D569C2170784'),), "
                              "'stdout stderr', ()),))] != recorded"},  # the recording asked for a wrong id on purpose
    "test_winrs_fail_poll_process": {"body: [('Receive', (), '', (('DesiredStream', (('CommandId', ''),), 'stdout stderr', ()),))] != recorded"},
}


def transport_for(server: replay.Replay):
    seconds = int(float(replay.structure(server.messages[0]["request"])["timeout"][2:-1]))  # as recorded: PT20S, PT10S
    options = WinRMOptions(scheme="http", port=server.port, auth="basic", password_secret="PW",
                           operation_timeout=seconds, read_timeout=seconds + 10)
    host = HostConfig(name="win1", address="127.0.0.1", transport="winrm", user="vagrant", winrm=options)
    return open_transport(host, EnvConfig(hosts=[host], secrets={"PW": "SHIPYARD_TEST_WINRM_PASSWORD"}))


def command_line(name: str, index: int) -> str:
    """The recorded Command + Arguments, joined as WinRS joins them."""
    return replay.structure(replay.load(name)[index]["request"])["body"][0][1]


def run(t, line, stdin=()):
    return t._execute(line, stdin, timeout=60, label="replay")


def drive_command(name):
    def driver(t):
        result = run(t, command_line(name, 1))
        t.close()
        return result
    return driver


def drive_send(t):
    result = run(t, command_line("test_winrs_send", 1), [b'Write-Host "output 1";', b'Write-Host "output 2";'])
    t.close()
    return result


def drive_no_cmd_shell(t):
    with pytest.raises(TransportError, match="The system cannot find the file specified"):
        run(t, command_line("test_winrs_no_cmd_shell", 1))  # a fault on Command: the shell is kept
    result = run(t, command_line("test_winrs_no_cmd_shell", 2))
    t.close()
    return result


def drive_bad_cmd_id(t):
    with pytest.raises(TransportError, match=r"invalid selectors for the resource.*WSManFault 2150858843"):
        run(t, command_line("test_winrs_bad_cmd_id", 1))  # then Signal and Delete: nothing left behind
    return None


def drive_poll(t):
    shell = t._shell()
    with pytest.raises(TransportError, match=r"The parameter is incorrect.*WSManFault 87"), t._mapped_errors("poll"):
        t._receive(shell, "", deadline=1e18, label="poll", timeout=60)
    t.close()
    return None


def drive_open_close(t):
    assert t._shell() == "ED7FD87E-E041-4BC2-A22F-B58FF7833094"  # the recorded ShellId, parsed
    t.close()
    return None


def drive_config(t):
    return t.server_limits()


DRIVERS = {
    "test_winrs_standard": drive_command("test_winrs_standard"),
    "test_winrs_stderr_rc": drive_command("test_winrs_stderr_rc"),
    "test_winrs_unicode": drive_command("test_winrs_unicode"),
    "test_winrs_noprofile": drive_command("test_winrs_noprofile"),
    "test_winrs_environment": drive_command("test_winrs_environment"),
    "test_winrs_extra_opts": drive_command("test_winrs_extra_opts"),
    "test_winrs_operation_timeout": drive_command("test_winrs_operation_timeout"),
    "test_winrs_send": drive_send,
    "test_winrs_no_cmd_shell": drive_no_cmd_shell,
    "test_winrs_bad_cmd_id": drive_bad_cmd_id,
    "test_winrs_fail_poll_process": drive_poll,
    "test_winrs_open_already_opened": drive_open_close,
    "test_wsman_update_envelope_size_150": drive_config,
    "test_wsman_update_envelope_size_500": drive_config,
    "test_wsman_update_envelope_size_4096": drive_config,
}


def test_every_recording_is_replayed():
    assert sorted(DRIVERS) == replay.recordings() and len(DRIVERS) == 15


@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_recorded_exchange(name, monkeypatch):
    monkeypatch.setenv("SHIPYARD_TEST_WINRM_PASSWORD", "vagrant")
    if name == "test_winrs_send":
        monkeypatch.setattr("deploy.transport.winrm.STDIN_CHUNK", 22)  # one Send per recorded piece
    with replay.Replay(name) as server:
        got = DRIVERS[name](transport_for(server))
    assert server.served == len(server.messages), f"Shipyard sent {server.served} of {len(server.messages)} recorded requests"
    allowed = ALWAYS | PER_RECORDING.get(name, set())
    for index, action, found in server.diffs:
        unexpected = [d for d in found if not any(d.startswith(a) for a in allowed)]
        assert not unexpected, f"request {index} ({action}) differs from the recording: {unexpected}"
    if name.startswith("test_wsman_update_envelope_size"):
        assert got["MaxEnvelopeSizekb"] == name.rsplit("_", 1)[-1] and got["MaxTimeoutms"] == "60000"
    elif got is not None:
        out, err, rc = replay.recorded_output(name)
        assert got == (out, err, rc), name  # every stream byte, the exit code, CommandState Done


def test_the_recorded_answers_say_what_the_drivers_assert():
    """The independent decode agrees with what the recordings show in clear text."""
    assert replay.recorded_output("test_winrs_standard") == (b"hi\r\n", b"", 0)
    assert replay.recorded_output("test_winrs_stderr_rc") == (b"out \r\n", b"err \r\n", 1)
    assert replay.recorded_output("test_winrs_unicode")[0].decode("utf-8") == "\u3053\u3093\u306b\u3061\u306f\n"
    assert replay.recorded_output("test_winrs_operation_timeout")[0] == b"hi\nhi again\n"
