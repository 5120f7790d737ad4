"""A Windows host for tests in any area: the strict WS-Man endpoint answered by the scripts'
contract model, plus the HostConfig/EnvConfig that reach it through `open_transport`.

    with windows_endpoint(tmp_path / "win1") as win:
        env = win.env            # deploy_to C:\\shipyard\\site, one winrm host "win1"
        win.model.fail["switch"] = "boom"   # make a verb answer ok=false
        win.model.local(win.deploy_to)      # the modelled file system, to assert on

Needs SHIPYARD_TEST_WINRM_PASSWORD in the environment while connecting (the
context manager sets it and restores the old value).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from deploy.config import EnvConfig, HostConfig, WinRMOptions
from tests.integration.windows.model import WindowsHostModel
from tests.integration.windows.wsman_fake import FakeWSMan, lab_config

PASSWORD_VAR = "SHIPYARD_TEST_WINRM_PASSWORD"
# The [[env.<name>.hosts]] entry of one WinRM host at the endpoint, for site_with_windows_env's TOML
# (doubled braces: the text is formatted with the endpoint's user and port).
WINRM_HOST_TOML = """
[[env.{env}.hosts]]
name = "win1"
address = "127.0.0.1"
transport = "winrm"
user = "{{user}}"
winrm = {{{{ scheme = "http", port = {{port}}, auth = "basic", password_secret = "WINRM_PASSWORD", operation_timeout = 2, read_timeout = 5 }}}}
"""
PASSWORD = "S3cret-pw!"
DEPLOY_TO = "C:\\shipyard\\site"


@dataclass
class WindowsHost:
    fake: FakeWSMan
    model: WindowsHostModel
    host: HostConfig
    env: EnvConfig
    deploy_to: str = DEPLOY_TO

    @property
    def url(self) -> str:
        return self.fake.url


def winrm_host(fake: FakeWSMan, name: str = "win1", **extra) -> HostConfig:
    """A host entry pointing at `fake` with Basic over HTTP, as a lab configured for it (lab_config)."""
    options = WinRMOptions(scheme="http", port=fake.port, auth="basic", password_secret="WINRM_PASSWORD",
                           operation_timeout=2, read_timeout=5)
    return HostConfig(name=name, address="127.0.0.1", transport="winrm", user=fake.username, winrm=options, **extra)


@contextmanager
def windows_endpoint(root: Path, name: str = "win1") -> Iterator[WindowsHost]:
    previous = os.environ.get(PASSWORD_VAR)
    os.environ[PASSWORD_VAR] = PASSWORD
    model = WindowsHostModel(root)
    try:
        with FakeWSMan(model, password=PASSWORD, config=lab_config()) as fake:
            host = winrm_host(fake, name)
            env = EnvConfig(deploy_to=DEPLOY_TO, hosts=[host], secrets={"WINRM_PASSWORD": PASSWORD_VAR})
            yield WindowsHost(fake, model, host, env)
    finally:
        if previous is None:
            os.environ.pop(PASSWORD_VAR, None)
        else:
            os.environ[PASSWORD_VAR] = previous


@contextmanager
def site_with_windows_env(root: Path, wheel_cache: Path, env_toml: str, **values: object):
    """A git site repo whose shipyard.toml gains `env_toml` (formatted with the endpoint's
    user/port, the password variable and `values`), plus the Windows host behind it."""
    from tests.integration.core.conftest import make_repo

    with windows_endpoint(root / "win1") as win:
        win.model.app_pools["shipsite"] = "Started"
        repo = make_repo(root / "repo", "git", wheel_cache)
        cfg = repo.root / "shipyard.toml"
        fields = {"user": win.fake.username, "port": win.fake.port, "var": PASSWORD_VAR, "app_port": repo.port,
                  "deploy_to": repo.root / ".shipyard" / "mixed", **values}
        cfg.write_text(cfg.read_text() + env_toml.format(**fields))
        repo.commit("windows env")
        repo.env[PASSWORD_VAR] = PASSWORD
        yield repo, win


def windows_current(win: WindowsHost) -> str | None:
    link = win.model.local(win.deploy_to) / "current"
    return link.resolve().name if link.is_symlink() else None
