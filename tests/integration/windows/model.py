"""A small Python model of the scripts/ps1 contracts, answering the fake WS-Man endpoint.

It runs a command only if it is exactly Shipyard's bootstrap command line, reads the
stdin framing (script, params, rest), recognises the script as one of scripts/ps1
byte for byte, and answers as that script's contract says, on a local directory
that stands in for the Windows file system (C:\\x -> <root>/C/x; junctions are
symlinks). It proves the Python side drives the contracts correctly; it does not
prove the PowerShell implements them (that needs a real Windows host).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import tarfile
from pathlib import Path, PureWindowsPath
from typing import Any, Callable

from deploy.transport.powershell import BOOTSTRAP_COMMAND_LINE, SCRIPTS_DIR
from tests.integration.windows.ps1_params import binding_error, script_params

RELEASE_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{7,40}(-dirty)?$")
PROGRESS = (b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
            b'<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T>'
            b'</TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV>'
            b'</PR></MS></Obj></Objs>')


def _clixml_error(message: str) -> bytes:
    text = message.replace("&", "&amp;").replace("<", "&lt;") + "_x000D__x000A_"
    return ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
            f'<S S="Error">{text}</S></Objs>').encode("utf-8")


class ModelError(Exception):
    """The script would have thrown: answer ok=false with this message."""


class WindowsHostModel:
    def __init__(self, root: Path):
        self.root = root
        self.scripts = {p.read_text(encoding="utf-8-sig"): p.stem for p in SCRIPTS_DIR.glob("*.ps1")}
        self.scripts_by_name = {name: text for text, name in self.scripts.items()}
        self.params = {name: script_params(text) for text, name in self.scripts.items()}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail: dict[str, str] = {}  # script name -> error message to answer with
        self.in_use: set[str] = set()  # release ids whose files are "open"
        self.hook_runner: Callable[[str, dict[str, str], Path], tuple[int, str]] = lambda c, e, d: (0, "")
        self.adhoc: Callable[[str, bytes], tuple[bytes, bytes, int]] = self._no_adhoc
        self.host_facts = WindowsFacts()
        # name -> {"status": Running|Stopped, "dependents": [...], "hangs": bool}
        self.services: dict[str, dict[str, Any]] = {}
        self.app_pools: dict[str, str] = {}
        self.recycles: list[str] = []
        self.health_ok = True

    # ------------------------------------------------------------ wire side
    def __call__(self, command_line: str, stdin: bytes) -> tuple[bytes, bytes, int]:
        if command_line != BOOTSTRAP_COMMAND_LINE:
            return b"", b"'" + command_line[:40].encode() + b"' is not Shipyard's bootstrap\r\n", 9009
        script_line, params_line, rest = (stdin.split(b"\r\n", 2) + [b"", b""])[:3]
        script = base64.b64decode(script_line).decode("utf-8")
        params = json.loads(base64.b64decode(params_line).decode("utf-8"))
        name = self.scripts.get(script)
        if name is None:
            return self.adhoc(script, rest)
        self.calls.append((name, params))
        problem = binding_error(self.params[name], params)
        if problem is not None:  # PowerShell fails before the script body runs: no JSON answer
            return b"", _clixml_error(problem), 1
        try:
            if name in self.fail:
                raise ModelError(self.fail[name])
            data = getattr(self, f"do_{name}")(rest=rest, **params)
            answer = {"ok": True, "step": name, "data": data, "error": None}
        except (ModelError, OSError) as e:  # the scripts catch everything and answer ok=false
            answer = {"ok": False, "step": name, "data": None, "error": str(e)}
        line = json.dumps(answer, ensure_ascii=False).encode("utf-8") + b"\r\n"
        return line, PROGRESS, 0 if answer["ok"] else 1

    def _no_adhoc(self, script: str, stdin: bytes) -> tuple[bytes, bytes, int]:
        return b"", b"model: not a scripts/ps1 script\r\n", 1

    # ------------------------------------------------------------ file system
    def local(self, windows_path: str) -> Path:
        p = PureWindowsPath(windows_path)
        if not p.drive.endswith(":"):
            raise ModelError(f"not a drive path: {windows_path}")
        return self.root.joinpath(p.drive[0].upper(), *p.parts[1:])

    def junction(self, link: Path, target: Path) -> None:
        if link.exists() or link.is_symlink():
            raise ModelError(f"{link.name} already exists")
        link.symlink_to(target, target_is_directory=True)

    @staticmethod
    def _sha256(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    # ------------------------------------------------------------ the contracts
    def do_prepare(self, DeployTo: str, LinkedDirs: list[str], LinkedFiles: list[str], rest: bytes) -> dict:
        base = self.local(DeployTo)
        created = []
        for rel in ["releases", "shared", ".shipyard", ".shipyard\\artifacts"] + [f"shared\\{d}" for d in LinkedDirs]:
            path = base.joinpath(*PureWindowsPath(rel).parts)
            if not path.is_dir():
                path.mkdir(parents=True)
                created.append(str(PureWindowsPath(DeployTo, rel)))
        for rel in LinkedFiles:
            path = base.joinpath("shared", *PureWindowsPath(rel).parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_bytes(b"")
                created.append(str(PureWindowsPath(DeployTo, "shared", rel)))
        return {"created": created}

    def do_lock(self, Path: str, Action: str, rest: bytes, Owner: str = "{}", Token: str = "") -> dict:
        lock = self.local(Path)
        holder = json.loads(lock.read_text()) if lock.exists() else None
        if Action == "read":
            return {"holder": holder}
        if Action == "release":
            released = holder is not None and str(holder.get("token")) == Token
            if released:
                lock.unlink()
            return {"released": released}
        lock.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(lock, "x", encoding="utf-8") as f:
                f.write(Owner)
        except FileExistsError:
            return {"acquired": False, "holder": holder}
        return {"acquired": True, "holder": json.loads(Owner)}

    def do_file_hash(self, Path: str, rest: bytes) -> dict:
        path = self.local(Path)
        if not path.is_file():
            return {"path": Path, "exists": False, "sha256": "", "bytes": 0}
        return {"path": Path, "exists": True, "sha256": self._sha256(path), "bytes": path.stat().st_size}

    def do_put_file(self, Path: str, Sha256: str, rest: bytes) -> dict:
        data = b"".join(base64.b64decode(line) for line in rest.split(b"\r\n") if line)
        actual = hashlib.sha256(data).hexdigest()
        if actual != Sha256:
            raise ModelError(f"sha256 mismatch for {Path}: got {actual}, expected {Sha256}")
        target = self.local(Path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return {"path": Path, "sha256": actual, "bytes": len(data)}

    def do_verify_file(self, Path: str, Destination: str, Sha256: str, rest: bytes) -> dict:
        source = self.local(Path)
        actual = self._sha256(source)
        if actual != Sha256:
            source.unlink()
            raise ModelError(f"sha256 mismatch for {Path}: got {actual}, expected {Sha256}")
        size = source.stat().st_size
        os.replace(source, self.local(Destination))
        return {"path": Destination, "sha256": actual, "bytes": size}

    def do_get_file(self, Path: str, rest: bytes, MaxBytes: int = 16777216) -> dict:
        try:
            data = self.local(Path).read_bytes()
        except FileNotFoundError:
            raise ModelError(f"Cannot find path '{Path}' because it does not exist.") from None
        return {"content": base64.b64encode(data).decode(), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    def do_unpack(self, Archive: str, Sha256: str, ReleaseDir: str, rest: bytes, Info: str = "{}") -> dict:
        archive = self.local(Archive)
        actual = self._sha256(archive)
        if actual != Sha256:
            raise ModelError(f"artifact sha256 mismatch: got {actual}, expected {Sha256}")
        target = self.local(ReleaseDir)
        if target.exists():
            raise ModelError(f"release dir already exists: {ReleaseDir}")
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                parts = re.split(r"[\\/]", member.name)
                if member.name.startswith(("/", "\\")) or ":" in member.name or ".." in parts:
                    raise ModelError(f"refusing archive entry that escapes the release dir: {member.name}")
                if not (member.isfile() or member.isdir()):
                    raise ModelError(f"refusing link or special entry: {member.name}")
            temp = target.with_name(target.name + ".tmp-model")
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4+; members were checked above either way
                tar.extraction_filter = tarfile.data_filter
            tar.extractall(temp)
        for required in ("app", "manifest.json"):
            if not (temp / required).exists():
                shutil.rmtree(temp)
                raise ModelError(f"artifact has no {required} at its root")
        record = {**json.loads(Info), "id": target.name, "status": "pending", "artifact_sha256": actual}
        (temp / "release.json").write_text(json.dumps(record))
        temp.rename(target)
        return {"release_dir": ReleaseDir, "files": sum(1 for p in target.rglob("*") if p.is_file())}

    def do_link_shared(self, ReleaseDir: str, SharedDir: str, LinkedDirs: list[str], LinkedFiles: list[str], rest: bytes) -> dict:
        app, shared, links = self.local(ReleaseDir) / "app", self.local(SharedDir), []
        for rel, kind in [(d, "junction") for d in LinkedDirs] + [(f, "hardlink") for f in LinkedFiles]:
            link = app.joinpath(*PureWindowsPath(rel).parts)
            link.parent.mkdir(parents=True, exist_ok=True)
            if link.is_symlink() or link.is_file():
                link.unlink()
            elif link.is_dir():
                shutil.rmtree(link)
            target = shared.joinpath(*PureWindowsPath(rel).parts)
            self.junction(link, target) if kind == "junction" else os.link(target, link)
            links.append({"path": str(PureWindowsPath(ReleaseDir, "app", rel)), "kind": kind})
        return {"links": links}

    def do_install(self, ReleaseDir: str, Python: str, EnvDir: str, rest: bytes) -> dict:
        env = self.local(EnvDir)
        created = not (env / "Scripts" / "python.exe").exists()
        if created:
            (env / "Scripts").mkdir(parents=True)
            (env / "Scripts" / "python.exe").write_text(f"model venv made by {Python}")
        deps = self.local(ReleaseDir) / ".deps"
        if deps.is_symlink():
            deps.unlink()
        self.junction(deps, env)
        return {"env_dir": EnvDir, "created": created}

    def do_set_status(self, InfoPath: str, Status: str, rest: bytes, Extra: str = "{}") -> dict:
        if Status not in ("pending", "good", "failed", "rolled_back"):
            raise ModelError(f"Cannot validate argument on parameter 'Status': {Status}")
        path = self.local(InfoPath)
        path.write_text(json.dumps({**json.loads(path.read_text()), **json.loads(Extra), "status": Status}))
        return {"status": Status}

    def _current(self, deploy_to: str) -> str | None:
        link = self.local(deploy_to) / "current"
        return Path(os.readlink(link)).name if link.is_symlink() else None

    def do_releases(self, DeployTo: str, rest: bytes) -> dict:
        releases = []
        root = self.local(DeployTo) / "releases"
        for d in sorted(root.iterdir() if root.exists() else []):
            if d.is_dir() and RELEASE_ID.match(d.name):
                info = d / "release.json"
                releases.append({"id": d.name, "status": "incomplete", **(json.loads(info.read_text()) if info.exists() else {})})
        return {"current": self._current(DeployTo), "releases": releases}

    def do_switch(self, DeployTo: str, rest: bytes, ReleaseId: str = "") -> dict:
        base, previous = self.local(DeployTo), self._current(DeployTo)
        current = base / "current"
        if current.exists() and not current.is_symlink():
            raise ModelError(f"{current} is a real directory, not a junction; move it away first")
        if ReleaseId:
            target = base / "releases" / ReleaseId
            if not RELEASE_ID.match(ReleaseId) or not (target / "release.json").exists():
                raise ModelError(f"no such release: {ReleaseId}")
            temp = base / "current.tmp-model"
            self.junction(temp, target)
            os.replace(temp, current)  # POSIX can rename over; the script renames aside first
        elif current.is_symlink():
            current.unlink()
        return {"current": ReleaseId or None, "previous": previous}

    def do_remove_releases(self, DeployTo: str, ReleaseIds: list[str], rest: bytes) -> dict:
        removed, kept, current = [], [], self._current(DeployTo)
        for rid in ReleaseIds:
            d = self.local(DeployTo) / "releases" / rid
            if not RELEASE_ID.match(rid):
                kept.append({"id": rid, "reason": "not a release id"})
            elif rid == current:
                kept.append({"id": rid, "reason": "is current"})
            elif rid in self.in_use:
                kept.append({"id": rid, "reason": "in use: The process cannot access the file because it is being used by another process."})
            else:
                if d.exists():
                    shutil.rmtree(d)  # rmtree unlinks symlinks without following them, as Remove-Tree does
                removed.append(rid)
        return {"removed": removed, "kept": kept}

    def do_journal(self, Path: str, Action: str, rest: bytes, Entry: str = "{}") -> dict:
        path = self.local(Path)
        if Action == "append":
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(json.loads(Entry), separators=(",", ":")) + "\n")
            return {"appended": 1}
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return {"entries": [json.loads(line) for line in lines if line.strip()]}

    def do_run_hook(self, WorkDir: str, Command: str, rest: bytes, Variables: str = "{}", SecretNames: list[str] = ()) -> dict:
        lines = rest.split(b"\r\n")
        if len([x for x in lines if x]) < len(SecretNames):
            raise ModelError(f"stdin ended before secret {SecretNames[-1]}")
        env = {**json.loads(Variables), **{n: base64.b64decode(lines[i]).decode() for i, n in enumerate(SecretNames)}}
        rc, output = self.hook_runner(Command, env, self.local(WorkDir))
        return {"rc": rc, "output": output}

    def do_facts(self, DeployTo: str, rest: bytes) -> dict:
        return dict(self.host_facts.facts)

    def do_doctor(self, DeployTo: str, rest: bytes) -> dict:
        return dict(self.host_facts.doctor)

    def do_service(self, Name: str, Action: str, rest: bytes, TimeoutSec: int = 60) -> dict:
        if Name not in self.services:
            raise ModelError(f"Cannot find any service with service name '{Name}'.")
        svc = self.services[Name]
        running = [d for d in svc.get("dependents", []) if self.services[d]["status"] == "Running"]
        killed = False
        if Action != "start":
            for dep in running:
                self.services[dep]["status"] = "Stopped"
            killed = bool(svc.get("hangs"))  # did not stop in time: its process was killed
            svc["status"] = "Stopped"
        if Action != "stop":
            svc["status"] = "Running"
            for dep in running:
                self.services[dep]["status"] = "Running"
        return {"name": Name, "status": svc["status"], "dependents": running, "killed": killed}

    def do_iis_recycle(self, AppPool: str, rest: bytes) -> dict:
        if AppPool not in self.app_pools:
            raise ModelError(f"Cannot find app pool '{AppPool}'")
        was, self.app_pools[AppPool] = self.app_pools[AppPool], "Started"
        self.recycles.append(AppPool)
        return {"app_pool": AppPool, "state": "Started", "was": was}

    def do_iis_site(self, SiteName: str, AppPool: str, PhysicalPath: str, Python: str, Wfastcgi: str,
                    WsgiHandler: str, rest: bytes, Port: int = 80, HostHeader: str = "", PythonPath: str = "") -> dict:
        created = AppPool not in self.app_pools
        self.app_pools.setdefault(AppPool, "Started")
        return {"site": SiteName, "app_pool": AppPool, "physical_path": PhysicalPath, "created": created}

    def do_health(self, Url: str, rest: bytes, TimeoutSec: int = 30, Expect: str = "") -> dict:
        healthy = self.health_ok(Expect) if callable(self.health_ok) else self.health_ok  # per release
        if not healthy:
            raise ModelError(f"health check {Url} failed after 3 attempts: HTTP 500, expected text not found")
        return {"url": Url, "status": 200, "attempts": 1}


class WindowsFacts:
    """What facts.ps1 / doctor.ps1 report on the modelled host; tests change fields."""

    def __init__(self) -> None:
        self.facts = {"hostname": "WIN1", "os": "Microsoft Windows Server 2022 Standard", "os_version": "10.0.20348",
                      "ps_version": "5.1.20348.2849", "is64_os": True, "is64_process": True,
                      "free_bytes": 50 * 2**30, "long_paths": True, "tar": True}
        self.doctor = {"account": "CORP\\deployer", "account_kind": "domain", "is_admin": True,
                       "max_envelope_kb": 500, "max_memory_per_shell_mb": 2048, "junction_error": ""}
