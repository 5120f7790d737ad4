"""PsExecTransport at the pypsexec client boundary — the one mocked boundary of the Windows layer.

Why mocked: pypsexec needs a writable ADMIN$, MS-SCMR CreateServiceW on \\svcctl and
the named pipes only the running PAExec Windows service creates; Samba refuses
CreateServiceW and nothing on Linux runs PAExec.exe (WINDOWS.md §5). So a
hand-written stand-in for `pypsexec.client.Client` (its documented contract:
connect/create_service/run_executable -> (stdout, stderr, rc)/remove_service/
disconnect) records the calls, and the scripts' contract model answers them.
The demand-start claim is checked on the real pypsexec SCMR request bytes."""

from __future__ import annotations

import base64
import struct

import pytest
from pypsexec.exceptions import PAExecException, SCMRException
from smbprotocol.exceptions import SMBAuthenticationError

from deploy.config import EnvConfig, HostConfig, PsExecOptions
from deploy.errors import CommandTimeout, TransportError
from deploy.release.layout import Layout
from deploy.release.windows import WindowsHostOps
from deploy.transport.powershell import BOOTSTRAP_COMMAND_LINE
from deploy.transport.psexec import PIPE_CHUNK, PsExecTransport
from tests.integration.windows.model import WindowsHostModel
from tests.integration.windows.psexec_standin import StandInClient


def transport(client, **options) -> PsExecTransport:
    host = HostConfig(name="win2", address="10.0.0.12", transport="psexec", user="CORP\\deployer",
                      psexec=PsExecOptions(**options))
    return PsExecTransport(host, options=host.psexec, client_factory=client)


@pytest.fixture
def model(tmp_path):
    return WindowsHostModel(tmp_path / "fs")


def names(client):
    return [c[0] for c in client.calls]


def test_success_call_order_and_arguments(model):
    client = StandInClient(model)
    ops = WindowsHostOps(transport(client), Layout("C:\\site", windows=True), timeout=42)
    ops.prepare([], [])
    assert names(client) == ["Client", "connect", "create_service", "run_executable", "remove_service", "disconnect"]
    assert client.calls[0] == ("Client", "10.0.0.12", "CORP\\deployer", 445, True)  # encrypt=True by default
    run = client.calls[3]
    assert run[1] == "powershell.exe" and run[2] == 42 and run[3] == ()  # no wow64: 64-bit PowerShell
    assert model.calls == [("prepare", {"DeployTo": "C:\\site", "LinkedDirs": [], "LinkedFiles": []})]


def test_command_line_is_the_same_bootstrap_as_winrm():
    seen = []

    def responder(line, stdin):
        seen.append((line, stdin))
        return b"hi\r\n", b"", 0

    result = transport(StandInClient(responder)).run("Write-Output hi", timeout=5)
    assert result.stdout == "hi\r\n" and seen[0][0] == BOOTSTRAP_COMMAND_LINE
    script = base64.b64decode(seen[0][1].split(b"\r\n")[2]).decode()
    assert script.startswith("Write-Output hi")


def test_stdin_is_a_generator_function_of_pipe_sized_pieces():
    """pypsexec calls `stdin()` and writes each piece to the PAExec pipe as one SMB write."""
    seen = []
    client = StandInClient(lambda line, stdin: seen.append(stdin) or (b"", b"", 0))
    transport(client).run("x", timeout=5, stdin=b"y" * 300_000)
    assert seen[0].endswith(b"y" * 300_000)
    assert max(client.stdin_pieces) <= PIPE_CHUNK and len(client.stdin_pieces) >= 5


def test_encrypt_can_only_be_turned_off_explicitly(model):
    client = StandInClient(model)
    transport(client, encrypt=False).run("x", timeout=5, check=False)
    assert client.calls[0][-1] is False


@pytest.mark.parametrize("where", ["create_service", "run_executable"])
def test_failure_cleans_up_and_maps_to_transport_error(model, where):
    client = StandInClient(model, fail={where: PAExecException(1, b"boom")} if where == "run_executable"
                           else {where: SCMRException("RCreateServiceW", 5, "access denied")})
    with pytest.raises(TransportError, match=r"win2: .*PAExec failed") as err:
        transport(client).run("x", timeout=5)
    assert names(client)[-2:] == ["remove_service", "disconnect"]
    assert err.value.__cause__ is None


def test_keyboard_interrupt_still_removes_service_and_propagates(model):
    client = StandInClient(model, fail={"run_executable": KeyboardInterrupt()})
    with pytest.raises(KeyboardInterrupt):
        transport(client).run("x", timeout=5)
    assert names(client)[-2:] == ["remove_service", "disconnect"]


def test_connect_failure_has_nothing_to_clean(model):
    client = StandInClient(model, fail={"connect": SMBAuthenticationError("logon failure")})
    with pytest.raises(TransportError, match="SMB rejected the credentials"):
        transport(client).run("x", timeout=5)
    assert names(client) == ["Client", "connect"]


def test_cleanup_failure_after_success_is_reported(model):
    client = StandInClient(model, fail={"remove_service": SCMRException("RDeleteService", 5, "denied")})
    with pytest.raises(TransportError, match="clean-up failed, a PAExec service or executable may be left"):
        transport(client).run("x", timeout=5, check=False)
    assert names(client)[-1] == "disconnect"  # disconnect still ran


def test_cleanup_failure_after_failure_keeps_the_first_error(model):
    client = StandInClient(model, fail={"run_executable": KeyboardInterrupt(),
                                        "remove_service": SCMRException("RDeleteService", 5, "denied")})
    with pytest.raises(KeyboardInterrupt) as err:
        transport(client).run("x", timeout=5)
    assert "clean-up also failed" in err.value.__notes__[0]


def test_deadline_reached_is_a_typed_timeout():
    def slow(line, stdin):
        import time

        time.sleep(1.1)
        return b"", b"", 1

    with pytest.raises(CommandTimeout, match="win2: `Start-Sleep 9` did not finish within 1s"):
        transport(StandInClient(slow)).run("Start-Sleep 9", timeout=1)


def test_connect_classmethod_reads_password_secret(monkeypatch):
    monkeypatch.setenv("PSX_PW", "pw-1")
    host = HostConfig(name="w", address="h", transport="psexec", user="u", psexec=PsExecOptions(password_secret="P"))
    t = PsExecTransport.connect(host, EnvConfig(hosts=[host], secrets={"P": "PSX_PW"}))
    assert t.password.reveal() == "pw-1" and t.smb.options.encrypt and t.smb.password.reveal() == "pw-1"


def test_pypsexec_creates_the_service_demand_start():
    """On the real pypsexec SCMR request bytes: dwStartType = SERVICE_DEMAND_START (3)."""
    from pypsexec.scmr import SCMRApi, Service, StartType

    api = SCMRApi.__new__(SCMRApi)
    api.call_id = 0
    sent = []
    api._invoke = lambda name, opnum, data: sent.append((name, opnum, data)) or b"\x00" * 24 + struct.pack("<i", 0)
    service = Service("PAExec-1-test", None)
    service._scmr, service._scmr_handle, service._handle = api, b"\x01" * 20, None
    service._open_service = lambda: None
    service.create('"%SystemRoot%\\PAExec-1-test.exe" -service')
    name, opnum, data = sent[0]
    offset = 20 + len(api._marshal_string("PAExec-1-test")) + len(api._marshal_string("PAExec-1-test", unique=True))
    access, service_type, start_type = struct.unpack_from("<iii", data, offset)
    assert (name, opnum, start_type) == ("RCreateServiceW", 12, StartType.SERVICE_DEMAND_START)
