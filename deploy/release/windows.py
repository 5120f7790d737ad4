"""WindowsHostOps: the deploy verbs on a Windows host, one scripts/ps1 script each.

Parameters travel as JSON on stdin (see transport/powershell.py), secrets as
base64 lines after them: nothing a deploy passes shows up on a command line.
Also the Windows-only hands the deploy flow needs: services, IIS, health, facts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from deploy.config import ServiceConfig
from deploy.errors import ArtifactError, CommandFailed, CommandTimeout, LockHeld
from deploy.release.hostops import FAILED, GOOD, PENDING, ROLLED_BACK, HostOps, ReleaseInfo
from deploy.release.layout import Layout, is_release_id
from deploy.release.windows_iis import iis_plan
from deploy.secrets import Secret, scrub
from deploy.transport.base import Result
from deploy.transport.powershell import PowerShellTransport, clean_stderr, hook_invocation

STATUSES = (PENDING, GOOD, FAILED, ROLLED_BACK)
SERVICE_GRACE = 60  # service.ps1 finishes by TimeoutSec + this (kill grace, restoring what ran)


def windows_relative(path: str) -> str:
    """`static/uploads` (config style) -> `static\\uploads`."""
    return str(PureWindowsPath(*PurePosixPath(path).parts))


class WindowsHostOps(HostOps):
    transport: PowerShellTransport

    def __init__(self, transport: PowerShellTransport, layout: Layout, timeout: float = 600.0):
        if not layout.windows:
            raise ValueError("WindowsHostOps needs Layout(..., windows=True)")
        super().__init__(transport, layout, timeout)
        self.tar = True  # prepare() learns whether the host has tar.exe; without it, zip artifacts
        self.left_in_trash: list[str] = []  # what the last retention could not delete, with the error

    def _call(self, script: str, params: dict[str, Any], stdin: list[bytes] | None = None,
              timeout: float | None = None) -> Any:
        """Parameters (journal entries, release.json fields, the lock record) are scrubbed of secrets
        here, the one way anything reaches a Windows host's files; secrets themselves go on stdin."""
        return self.transport.call(script, scrub(params), timeout=timeout or self.timeout, stdin=stdin or ())

    # ------------------------------------------------------------ HostOps verbs

    def prepare(self, linked_dirs: list[str], linked_files: list[str]) -> None:
        data = self._call("prepare", {"DeployTo": self.layout.deploy_to,
                                      "LinkedDirs": [windows_relative(d) for d in linked_dirs],
                                      "LinkedFiles": [windows_relative(f) for f in linked_files]})
        self.tar = data.tar

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
        """The artifact, or on a host without tar.exe the same tree as a zip (made once, beside it)."""
        remote = self.layout.artifact(sha256)
        if not self.tar:
            artifact = zip_artifact(artifact)
            sha256 = hashlib.sha256(artifact.read_bytes()).hexdigest()
            remote = str(PureWindowsPath(remote).with_name(f"{sha256}.zip"))
        present = self._call("file_hash", {"Path": remote})
        if not (present.exists and present.sha256 == sha256):
            self.transport.put(artifact, remote, sha256=sha256, roots=[self.layout.deploy_to])
        return remote

    def unpack(self, remote_artifact: str, release_id: str, info: dict[str, Any],
               omit: tuple[str, ...] = (), manifest_sha256: str = "") -> None:
        """unpack.ps1 checks the tree against the artifact's manifest before the rename; a payload
        (the artifact less `omit`) is bound to the verified artifact by its manifest's sha256."""
        _check_id(release_id)
        sha256 = PureWindowsPath(remote_artifact).name.split(".")[0]
        params = {"Archive": remote_artifact, "Sha256": sha256, "ReleaseDir": self.layout.release(release_id),
                  "Info": json.dumps(info)}
        if omit:
            params["Omit"] = list(omit)
        if manifest_sha256:
            params["ManifestSha256"] = manifest_sha256
        self._call("unpack", params)

    def link_shared(self, release_id: str, linked_dirs: list[str], linked_files: list[str]) -> None:
        self._call("link_shared", {"ReleaseDir": self.layout.release(release_id), "SharedDir": self.layout.shared,
                                   "LinkedDirs": [windows_relative(d) for d in linked_dirs],
                                   "LinkedFiles": [windows_relative(f) for f in linked_files]})

    def install(self, release_id: str, python: str, env_key: str, requirements: str = "requirements.txt") -> None:
        """A venv per wheel set; install.ps1 installs wheelhouse/requirements.txt, else every wheel
        in the wheelhouse (the wheelhouse was built from the app's requirements, so the sets match)."""
        self._call("install", {"ReleaseDir": self.layout.release(release_id), "SharedDir": self.layout.shared,
                               "Python": python, "EnvDir": self.layout.dependency_env(env_key),
                               "SystemSitePackages": self.transport.host.system_site_packages,
                               "TimeoutSec": int(self.timeout)}, timeout=self.timeout + 60)

    def install_bundle(self, release_id: str, python: str, bundle: dict[str, Any], local: Path | None) -> Any:
        """shared/envs/<key> from the controller's dependency bundle for this host's platform: sent
        (`local`) only when the host lacks the env; install.ps1 unpacks it into a bare venv and checks
        it against its deps manifest, or checks the env there still has that manifest."""
        params = {"ReleaseDir": self.layout.release(release_id), "SharedDir": self.layout.shared, "Python": python,
                  "EnvDir": self.layout.dependency_env(bundle["key"]), "ManifestSha256": bundle["manifest_sha256"],
                  "SystemSitePackages": self.transport.host.system_site_packages, "TimeoutSec": int(self.timeout)}
        if local is not None:
            remote = self.upload(local, bundle["sha256"])
            params |= {"Bundle": remote, "BundleSha256": PureWindowsPath(remote).name.split(".")[0]}
        return self._call("install", params, timeout=self.timeout + 60)

    def write_files(self, release_id: str, files: dict[str, str], dirs: list[str]) -> None:
        """Each file through the transport's verified put (put_file.ps1 creates parent folders);
        an empty folder gets a `.keep` file the same way."""
        release = PureWindowsPath(self.layout.release(release_id))
        wanted = {str(release / windows_relative(p)): text for p, text in files.items()}
        wanted |= {str(PureWindowsPath(d) / ".keep"): "" for d in dirs}
        roots = [str(release), self.layout.shared]  # written through a shared link lands in shared/, never elsewhere
        with tempfile.TemporaryDirectory() as tmp:
            for remote, text in wanted.items():
                local = Path(tmp) / "file"
                local.write_bytes(text.encode("utf-8"))
                self.transport.put(local, remote, sha256=hashlib.sha256(local.read_bytes()).hexdigest(), roots=roots)

    def clean_leftovers(self) -> None:
        """unpack.ps1, install.ps1 and put_file.ps1 remove their own temp dirs and .part files
        (try/finally) on every failure a script sees; a killed session's leftovers stay until a
        script for it exists."""

    def disk_space(self, env_key: str) -> tuple[int, bool]:
        """facts.ps1 measures the drive, without its long-path probe (the check before any host is
        changed writes nothing); the env is counted as missing (no script checks it)."""
        return int(self.facts(probe_long_path=False).free_bytes), False

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
        """Files in use keep a release (returned); a `current` that is not a junction raises
        ScriptFailed instead of disabling retention silently (the flow reports it, never fails on it)."""
        return [kept.id for kept in self._retention(release_ids, prune=False).kept]

    def prune_unused(self) -> list[str]:
        """Uploads (artifacts, payloads, dependency bundles) no remaining release came from, deleted by
        remove_releases.ps1 once retention has removed releases; never during a deploy's own update.
        What could not go (or why nothing did) lands in left_in_trash."""
        data = self._retention([], prune=True)
        self.left_in_trash += [f"{left.path}: {left.error}" for left in data.not_pruned]
        return [str(PureWindowsPath(".shipyard", "artifacts", name)) for name in data.pruned]

    def _retention(self, release_ids: list[str], prune: bool) -> Any:
        data = self._call("remove_releases", {"DeployTo": self.layout.deploy_to, "ReleaseIds": release_ids,
                                              "PruneArtifacts": prune})
        self.left_in_trash = [f"{left.path}: {left.error}" for left in data.left_in_trash]
        return data

    def append_journal(self, entry: dict[str, Any]) -> None:
        self._call("journal", {"Path": self.layout.journal, "Action": "append", "Entry": json.dumps(entry)})

    def read_journal(self) -> list[dict[str, Any]]:
        return list(self._call("journal", {"Path": self.layout.journal, "Action": "read"}).entries or [])

    def run_hook(self, release_id: str | None, command: str, env: dict[str, str], secrets: dict[str, Secret]) -> Result:
        """A hook in its own process in releases/<id>/app (deploy_to before unpacking): PowerShell
        under Set-StrictMode, or cmd.exe for a .cmd/.bat. Non-zero exit raises CommandFailed."""
        started = time.monotonic()
        shell, text = hook_invocation(command)
        lines = [base64.b64encode(s.reveal().encode("utf-8")) + b"\r\n" for s in secrets.values()]
        workdir = self.layout.release_app(release_id) if release_id else self.layout.deploy_to
        data = self._call("run_hook", {"WorkDir": workdir, "Shell": shell, "Command": text, "Variables": json.dumps(env),
                                       "SecretNames": list(secrets), "TimeoutSec": int(self.timeout)},
                          stdin=lines, timeout=self.timeout + 60)
        if data.timed_out:
            raise CommandTimeout(self.host, command, self.timeout)
        result = Result(self.host, command, data.rc, data.stdout, clean_stderr(data.stderr), time.monotonic() - started)
        if result.rc != 0:
            raise CommandFailed(result)
        return result

    # ------------------------------------------------------------ Windows-only hands

    def service(self, name: str, action: str, timeout: float = 60.0) -> Any:
        """stop/start/restart a Windows service with its dependents; final state verified."""
        return self._call("service", {"Name": name, "Action": action, "TimeoutSec": int(timeout)},
                          timeout=timeout + SERVICE_GRACE + 30)

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

    def configure_iis(self, env: Any, project: str, release_id: str) -> Any:
        """App pool + site (id, bindings) at current, then the FastCGI application and the
        handler mapping in applicationHost.config, checked against the release about to go live."""
        plan = iis_plan(env, self.transport.host, project)
        if plan is None:
            return None
        self._call("iis_site", plan.site)
        deps = str(PureWindowsPath(self.layout.release(release_id), ".deps"))
        return self._call("iis_fastcgi", {**plan.fastcgi, "DepsDir": deps})

    def check_health(self, url: str, timeout: float = 30.0, expect: str = "", cert_validation: str = "validate") -> Any:
        return self._call("health", {"Url": url, "TimeoutSec": int(timeout), "Expect": expect,
                                     "CertValidation": cert_validation}, timeout=timeout + 30)

    def facts(self, probe_long_path: bool = True, python: str = "", env_keys: list[str] = ()) -> Any:
        params: dict[str, Any] = {"DeployTo": self.layout.deploy_to, "ProbeLongPath": probe_long_path}
        if python:
            params["Python"] = python
        if env_keys:
            params["EnvKeys"] = list(env_keys)
        return self._call("facts", params)

    def dependency_facts(self, python: str, env_keys: list[str]) -> dict[str, Any]:
        """Read-only, before any host is changed: the platform tag of the host's Python and which
        dependency envs it has (the same answer PosixHostOps.facts gives)."""
        data = self.facts(probe_long_path=False, python=python, env_keys=env_keys)
        return {"platform": data.python_platform or "unknown", "envs": list(data.envs), "python_error": data.python_error}

    def doctor_facts(self) -> Any:
        return self._call("doctor", {"DeployTo": self.layout.deploy_to, "SitePath": self.layout.current})


def zip_artifact(artifact: Path) -> Path:
    """The artifact's tree as a zip beside it (hosts without tar.exe unpack it with .NET):
    files and directories only, in the tar's order, with the tar's times, so the same artifact
    always gives the same bytes."""
    target = artifact.with_name(artifact.name.removesuffix(".tar.gz") + ".zip")
    if target.exists() and target.stat().st_mtime >= artifact.stat().st_mtime:
        return target
    partial = target.with_name(target.name + ".part")
    with tarfile.open(artifact, "r:gz") as tar, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
        for member in tar:
            if not (member.isfile() or member.isdir()):
                raise ArtifactError(f"{artifact}: {member.name} is a link or special file, which a zip cannot carry")
            stamp = time.gmtime(max(member.mtime, 315532800))[:6]  # zip times start in 1980
            info = zipfile.ZipInfo(member.name + ("/" if member.isdir() else ""), stamp)
            info.external_attr = (member.mode & 0xFFFF) << 16
            source = tar.extractfile(member) if member.isfile() else None
            out.writestr(info, source.read() if source else b"", zipfile.ZIP_DEFLATED)
    partial.replace(target)
    return target


def _check_id(release_id: str) -> None:
    if not is_release_id(release_id):
        raise ValueError(f"not a release id: {release_id!r}")


def _describe_holder(holder: dict[str, Any]) -> str:
    shown = {k: v for k, v in holder.items() if k != "token"}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "unknown holder"
