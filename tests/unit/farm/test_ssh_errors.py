"""SSH failures read as people write them: `Connection refused`, never `[Errno None]`."""

from __future__ import annotations

import socket

import paramiko
import pytest

from deploy.config import HostConfig, SshOptions
from deploy.errors import TransportError
from deploy.transport.ssh import SshTransport, said


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_says_so(tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    host = HostConfig(name="web2", address="127.0.0.1", port=closed_port(), transport="ssh")
    with pytest.raises(TransportError) as e:
        SshTransport(host, SshOptions(known_hosts=str(known), connect_timeout=2)).open()
    text = str(e.value)
    assert "web2" in text and f"cannot connect to 127.0.0.1:{host.port}: Connection refused" in text
    assert "Errno" not in text


@pytest.mark.parametrize("error, expected", [
    (paramiko.ssh_exception.NoValidConnectionsError({("10.0.0.1", 22): ConnectionRefusedError(111, "Connection refused")}),
     "Connection refused"),
    (OSError(113, "No route to host"), "No route to host"),
    (EOFError(), "the connection was closed by the host"),
    (paramiko.SSHException("Error reading SSH protocol banner"), "Error reading SSH protocol banner"),
])
def test_said(error, expected):
    assert said(error) == expected
