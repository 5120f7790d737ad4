"""WindowsHostOps: the deploy verbs on a Windows host, one scripts/ps1 script each.

Parameters travel as JSON on stdin (see transport/powershell.py), secrets as
base64 lines after them: nothing a deploy passes shows up on a command line.
Also the Windows-only hands the deploy flow needs: services, IIS, health, facts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
import time
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from deploy.config import ServiceConfig
from deploy.errors import CommandFailed, LockHeld, ShipyardError
from deploy.release.hostops import FAILED, GOOD, PENDING, ROLLED_BACK, HostOps, ReleaseInfo
from deploy.release.layout import Layout, is_release_id
from deploy.secrets import Secret, scrub
from deploy.transport.base import Result
from deploy.transport.powershell import PowerShellTransport

STATUSES = (PENDING, GOOD, FAILED, ROLLED_BACK)


def windows_relative(path: str) -> str:
    """`static/uploads` (config style) -> `static\\uploads`."""
    return str(PureWindowsPath(*PurePosixPath(path).parts))


class WindowsHostOps(HostOps):
    transport: PowerShellTransport

    def __init__(self, transport: PowerShellTransport, layout: Layout, timeout: float = 600.0):
        if not layout.windows:
            raise ValueError("WindowsHostOps needs Layout(..., windows=True)")
        super().__init__(transport, layout, timeout)

    def _call(self, script: str, params: dict[str, Any], stdin: list[bytes] | None = None,
              timeout: float | None = None) -> Any:
        """Parameters (journal entries, release.json fields, the lock record) are scrubbed of secrets
        here, the one way anything reaches a Windows host's files; secrets themselves go on stdin."""
        return self.transport.call(script, scrub(params), timeout=timeout or self.timeout, stdin=stdin or ())

    # ------------------------------------------------------------ HostOps verbs

    def prepare(self, linked_dirs: list[str], linked_files: list[str]) -> None:
        self._call("prepare", {"DeployTo": self.layout.deploy_to,
                               "LinkedDirs": [windows_relative(d) for d in linked_dirs],
                               "LinkedFiles": [windows_relative(f) for f in linked_files]})

    def acquire_lock(self, owner: dict[str, Any]) -> None:
        if not owner.get("token"):
            raise ValueError("the lock owner record needs a 'token'")
        data = self._call("lock", {"Path": self.layout.lock, "Action": "acquire", "Owner": json.dumps(owner)})
        if not data.acquired:
            raise LockHeld(self.host, _describe_holder(data.holder or {}))

    def release_lock(self, token: str) -> None:
        self._call("lock", {"Path": self.layout.lock, "Action": "release", "Token": token})

    def read_lock(self) -> dict[str, Any] | None:
        return self._call("lock", {"Path": self.layout.lock, "Action": "read"}).holder

    def upload(self, artifact: Path, sha256: str) -> str:
        remote = self.layout.artifact(sha256)
        present = self._call("file_hash", {"Path": remote})
        if not (present.exists and present.sha256 == sha256):
            self.transport.put(artifact, remote, sha256=sha256)
        return remote

    def unpack(self, remote_artifact: str, release_id: str, info: dict[str, Any]) -> None:
        _check_id(release_id)
        sha256 = info.get("artifact_sha256") or PureWindowsPath(remote_artifact).name.split(".")[0]
        self._call("unpack", {"Archive": remote_artifact, "Sha256": sha256,
                              "ReleaseDir": self.layout.release(release_id), "Info": json.dumps(info)})

    def link_shared(self, release_id: str, linked_dirs: list[str], linked_files: list[str]) -> None:
        self._call("link_shared", {"ReleaseDir": self.layout.release(release_id), "SharedDir": self.layout.shared,
                                   "LinkedDirs": [windows_relative(d) for d in linked_dirs],
                                   "LinkedFiles": [windows_relative(f) for f in linked_files]})

    def install(self, release_id: str, python: str, env_key: str, requirements: str = "requirements.txt") -> None:
        """A venv per wheel set; install.ps1 installs wheelhouse/requirements.txt, else every wheel
        in the wheelhouse (the wheelhouse was built from the app's requirements, so the sets match)."""
        self._call("install", {"ReleaseDir": self.layout.release(release_id), "Python": python,
                               "EnvDir": self.layout.dependency_env(env_key)})

    def write_files(self, release_id: str, files: dict[str, str], dirs: list[str]) -> None:
        """Each file through the transport's verified put (put_file.ps1 creates parent folders);
        an empty folder gets a `.keep` file the same way."""
        release = PureWindowsPath(self.layout.release(release_id))
        wanted = {str(release / windows_relative(p)): text for p, text in files.items()}
        wanted |= {str(PureWindowsPath(d) / ".keep"): "" for d in dirs}
        with tempfile.TemporaryDirectory() as tmp:
            for remote, text in wanted.items():
                local = Path(tmp) / "file"
                local.write_bytes(text.encode("utf-8"))
                self.transport.put(local, remote, sha256=hashlib.sha256(local.read_bytes()).hexdigest())

    def clean_leftovers(self) -> None:
        """unpack.ps1, install.ps1 and put_file.ps1 remove their own temp dirs and .part files
        (try/finally) on every failure a script sees; a killed session's leftovers stay until a
        script for it exists."""

    def disk_space(self, env_key: str) -> tuple[int, bool]:
        """facts.ps1 measures the drive; the env is counted as missing (no script checks it)."""
        return int(self.facts().free_bytes), False

    def read_manifest(self, release_id: str) -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "manifest.json"
            self.transport.get(str(PureWindowsPath(self.layout.release(release_id), "manifest.json")), local)
            return json.loads(local.read_text(encoding="utf-8"))

    def set_status(self, release_id: str, status: str, extra: dict[str, Any] | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        self._call("set_status", {"InfoPath": self.layout.release_info(release_id), "Status": status,
                                  "Extra": json.dumps(extra or {})})

    def releases(self) -> list[ReleaseInfo]:
        data = self._call("releases", {"DeployTo": self.layout.deploy_to})
        return [ReleaseInfo.from_json(r, current=r.get("id") == data.current) for r in data.releases]

    def switch(self, release_id: str | None) -> None:
        if release_id is not None:
            _check_id(release_id)
        self._call("switch", {"DeployTo": self.layout.deploy_to, "ReleaseId": release_id or ""})

    def remove_releases(self, release_ids: list[str]) -> list[str]:
        try:
            data = self._call("remove_releases", {"DeployTo": self.layout.deploy_to, "ReleaseIds": release_ids})
        except ShipyardError:
            return list(release_ids)  # retention never fails a deploy
        return [kept.id for kept in data.kept]

    def append_journal(self, entry: dict[str, Any]) -> None:
        self._call("journal", {"Path": self.layout.journal, "Action": "append", "Entry": json.dumps(entry)})

    def read_journal(self) -> list[dict[str, Any]]:
        return list(self._call("journal", {"Path": self.layout.journal, "Action": "read"}).entries or [])

    def run_hook(self, release_id: str | None, command: str, env: dict[str, str], secrets: dict[str, Secret]) -> Result:
        """A PowerShell hook in releases/<id>/app (deploy_to before unpacking); a non-zero exit
        raises CommandFailed."""
        started = time.monotonic()
        lines = [base64.b64encode(s.reveal().encode("utf-8")) + b"\r\n" for s in secrets.values()]
        data = self._call("run_hook", {"WorkDir": self.layout.release_app(release_id) if release_id else self.layout.deploy_to, "Command": command,
                                       "Variables": json.dumps(env), "SecretNames": list(secrets)}, stdin=lines)
        result = Result(self.host, command, data.rc, data.output, "", time.monotonic() - started)
        if result.rc != 0:
            raise CommandFailed(result)
        return result

    # ------------------------------------------------------------ Windows-only hands

    def service(self, name: str, action: str, timeout: float = 60.0) -> Any:
        """stop/start/restart a Windows service with its dependents; final state verified."""
        return self._call("service", {"Name": name, "Action": action, "TimeoutSec": int(timeout)},
                          timeout=timeout * 3 + 30)

    def restart(self, service: ServiceConfig) -> Any:
        """The finishing-stage restart of one configured service on this host."""
        if service.kind == "iis_apppool":
            return self.recycle_app_pool(service.name)
        if service.kind == "windows":
            return self.service(service.name, "restart", service.timeout)
        raise ValueError(f"{service.kind} services do not run on Windows hosts ({self.host}: {service.name})")

    def recycle_app_pool(self, app_pool: str) -> Any:
        """After every switch: IIS does not notice a junction retarget by itself."""
        return self._call("iis_recycle", {"AppPool": app_pool})

    def configure_site(self, site: str, app_pool: str, port: int, python: str, wfastcgi: str,
                       wsgi_handler: str, host_header: str = "") -> Any:
        physical = str(PureWindowsPath(self.layout.current, "app"))
        return self._call("iis_site", {"SiteName": site, "AppPool": app_pool, "PhysicalPath": physical,
                                       "Port": port, "HostHeader": host_header, "Python": python,
                                       "Wfastcgi": wfastcgi, "WsgiHandler": wsgi_handler})

    def check_health(self, url: str, timeout: float = 30.0, expect: str = "") -> Any:
        return self._call("health", {"Url": url, "TimeoutSec": int(timeout), "Expect": expect},
                          timeout=timeout + 30)

    def facts(self) -> Any:
        return self._call("facts", {"DeployTo": self.layout.deploy_to})

    def doctor_facts(self) -> Any:
        return self._call("doctor", {"DeployTo": self.layout.deploy_to})


def _check_id(release_id: str) -> None:
    if not is_release_id(release_id):
        raise ValueError(f"not a release id: {release_id!r}")


def _describe_holder(holder: dict[str, Any]) -> str:
    shown = {k: v for k, v in holder.items() if k != "token"}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "unknown holder"
