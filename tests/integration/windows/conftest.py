"""Fixtures: a strict WS-Man endpoint answered by the scripts' contract model (harness.py,
importable from other areas), a private Samba, and the opt-in real-Windows suite gate."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from deploy.config import EnvConfig
from deploy.release.layout import Layout
from deploy.release.windows import WindowsHostOps
from deploy.transport import open_transport
from tests.integration.windows.harness import (
    PASSWORD_VAR,
    WindowsHost,
    windows_endpoint,
    winrm_host,
)
from tests.integration.windows.model import WindowsHostModel
from tests.integration.windows.wsman_fake import FakeWSMan, lab_config


@pytest.fixture
def windows_host(tmp_path) -> WindowsHost:
    with windows_endpoint(tmp_path / "fs") as host:
        yield host


@pytest.fixture
def ops(windows_host):
    """WindowsHostOps on the modelled host, prepared with one linked dir and file (the file-verb tests')."""
    transport = open_transport(windows_host.host, windows_host.env)
    ops = WindowsHostOps(transport, Layout(windows_host.deploy_to, windows=True), timeout=30)
    ops.prepare(["media"], ["local_settings.py"])
    yield ops
    transport.close()


@pytest.fixture
def fs(windows_host):
    return windows_host.model.local(windows_host.deploy_to)


@pytest.fixture
def outside(windows_host):
    """A directory outside deploy_to with a file an escape would touch."""
    path = windows_host.model.local("C:\\Windows\\System32")
    path.mkdir(parents=True)
    (path / "drivers.sys").write_text("precious")
    return path


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
    with FakeWSMan(model, password="S3cret-pw!", config=lab_config()) as fake:
        base = winrm_host(fake)
        host = base.model_copy(update={"user": smb.USER,
                                       "smb": SmbOptions(port=samba.port, password_secret="SMB_PASSWORD",
                                                         connection_timeout=5)})
        fake.username = smb.USER
        env = EnvConfig(deploy_to="C:\\shipyard\\site", hosts=[host],
                        secrets={"WINRM_PASSWORD": PASSWORD_VAR, "SMB_PASSWORD": "SHIPYARD_TEST_SMB_PASSWORD"})
        yield WindowsHost(fake, model, host, env)


REAL_WINDOWS_VARS = ("SHIPYARD_WINRM_HOST", "SHIPYARD_PSEXEC_HOST")


def pytest_configure(config):
    config.addinivalue_line("markers", "windows_real(var): needs a real Windows host named by that environment variable")


def pytest_collection_modifyitems(config, items):
    """Deselect (not skip) the real-Windows suite when its host variable is unset, and say why."""
    deselected, kept = [], []
    for item in items:
        marker = item.get_closest_marker("windows_real")
        if marker is not None and not os.environ.get(marker.args[0]):
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
        missing = sorted({i.get_closest_marker("windows_real").args[0] for i in deselected})
        config._shipyard_windows_not_run = (len(deselected), missing)


def pytest_terminal_summary(terminalreporter, config):
    not_run = getattr(config, "_shipyard_windows_not_run", None)
    if not_run:
        count, missing = not_run
        terminalreporter.write_line(
            f"windows_real: {count} test(s) NOT RUN: {', '.join(missing)} not set "
            "(no real Windows host; see docs/windows.md)", yellow=True)
