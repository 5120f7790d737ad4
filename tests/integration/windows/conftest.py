"""Fixtures: a strict WS-Man endpoint answered by the scripts' contract model, and Samba.

`windows_host` is reusable by other areas: it gives the endpoint, the model, a
HostConfig/EnvConfig pair that `open_transport` understands, and the deploy_to.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.config import EnvConfig, HostConfig, WinRMOptions
from tests.integration.windows.model import WindowsHostModel
from tests.integration.windows.wsman_fake import FakeWSMan

PASSWORD_VAR = "SHIPYARD_TEST_WINRM_PASSWORD"


@dataclass
class WindowsHost:
    fake: FakeWSMan
    model: WindowsHostModel
    host: HostConfig
    env: EnvConfig
    deploy_to: str = "C:\\shipyard\\site"

    @property
    def url(self) -> str:
        return self.fake.url


def winrm_host(fake: FakeWSMan, name: str = "win1", **extra) -> HostConfig:
    options = WinRMOptions(scheme="http", port=fake.port, auth="basic", password_secret="WINRM_PASSWORD",
                           operation_timeout=2, read_timeout=5)
    return HostConfig(name=name, address="127.0.0.1", transport="winrm", user=fake.username, winrm=options, **extra)


@pytest.fixture
def windows_host(tmp_path, monkeypatch) -> WindowsHost:
    monkeypatch.setenv(PASSWORD_VAR, "S3cret-pw!")
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    model = WindowsHostModel(tmp_path / "fs")
    with FakeWSMan(model, password="S3cret-pw!") as fake:
        host = winrm_host(fake)
        env = EnvConfig(deploy_to="C:\\shipyard\\site", hosts=[host], secrets={"WINRM_PASSWORD": PASSWORD_VAR})
        yield WindowsHost(fake, model, host, env)


@pytest.fixture(scope="session")
def samba():
    from tests.integration.windows import samba as smb

    root = Path(tempfile.mkdtemp(prefix="shipyard-smb-"))
    server = smb.start(root)
    yield server
    smb.stop(server)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def smb_windows_host(samba, monkeypatch):
    """A Windows host whose WinRM side is the fake + model and whose file shares are a real
    Samba over the same directories: SMB writes, the model verifies on "the far side"."""
    from deploy.config import SmbOptions
    from tests.integration.windows import samba as smb

    smb.reset_fs(samba)
    monkeypatch.setenv(PASSWORD_VAR, "S3cret-pw!")
    monkeypatch.setenv("SHIPYARD_TEST_SMB_PASSWORD", smb.PASSWORD)
    model = WindowsHostModel(samba.fs)
    with FakeWSMan(model, password="S3cret-pw!") as fake:
        base = winrm_host(fake)
        host = base.model_copy(update={"user": smb.USER,
                                       "smb": SmbOptions(port=samba.port, password_secret="SMB_PASSWORD",
                                                         connection_timeout=5)})
        fake.username = smb.USER
        env = EnvConfig(deploy_to="C:\\shipyard\\site", hosts=[host],
                        secrets={"WINRM_PASSWORD": PASSWORD_VAR, "SMB_PASSWORD": "SHIPYARD_TEST_SMB_PASSWORD"})
        yield WindowsHost(fake, model, host, env)
