"""Fixtures: a strict WS-Man endpoint answered by the scripts' contract model, and Samba.

`windows_host` is reusable by other areas: it gives the endpoint, the model, a
HostConfig/EnvConfig pair that `open_transport` understands, and the deploy_to.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
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
