"""The contract model's host verbs: hooks in a child process, services with dependents and shared
processes, IIS (app pool, site, FastCGI and handler mappings in applicationHost.config), health
from the host, facts and doctor facts."""

from __future__ import annotations

import base64
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path, PureWindowsPath
from typing import Any, Callable
from urllib.parse import urlparse

from deploy.transport.powershell import HOOK_PRELUDE
from tests.integration.windows.model_base import DotNetError, ModelError, retry_failure

HookRunner = Callable[[str, dict[str, str], Path], tuple]
BUSY = "Cannot commit configuration changes because the file has changed on disk"
RUNNING = ("Running", "StartPending", "ContinuePending")


class HostVerbs:
    """Mixed into WindowsHostModel. Tests set the state: services, IIS, facts, health."""

    def __init__(self) -> None:
        # (command, env, workdir) -> (rc, stdout[, stderr[, timed_out]])
        self.hook_runner: HookRunner = lambda command, env, workdir: (0, "")
        self.hooks: list[tuple[str, str]] = []  # (shell, the hook as the user wrote it)
        # name -> {"status", "dependents": [...], "hangs": bool, "pid": int, "starts": bool}
        self.services: dict[str, dict[str, Any]] = {}
        self.app_pools: dict[str, str] = {}
        self.recycles: list[str] = []
        self.sites: dict[str, dict[str, Any]] = {}
        self.fastcgi: dict[str, dict[str, str]] = {}  # "fullPath|arguments" -> environment variables
        self.handlers: dict[str, dict[str, str]] = {}  # <location path> -> handler name -> scriptProcessor
        self.iis_backend = "WebAdministration"
        self.iis_busy = 0  # writes to applicationHost.config that fail first ("changed on disk")
        self.health_ok: bool | Callable[[str], bool] = True

    # ------------------------------------------------------------ hooks
    def do_run_hook(self, WorkDir: str, Shell: str, Command: str, rest: bytes, Variables: str = "{}",
                    SecretNames: list[str] = (), TimeoutSec: int = 3600) -> dict:
        lines = rest.split(b"\r\n")
        for i, name in enumerate(SecretNames):
            if i >= len(lines) or not lines[i]:
                raise ModelError(f"stdin ended before secret {name}")
        env = {**json.loads(Variables), **{n: base64.b64decode(lines[i]).decode() for i, n in enumerate(SecretNames)}}
        if not self.local(WorkDir).is_dir():
            raise ModelError(f"hook working directory {WorkDir} does not exist")
        hook = Command
        if Shell == "powershell":  # the controller's wrapper around the hook: strict mode, exit code
            if not (Command.startswith(HOOK_PRELUDE) and Command.endswith("\nexit $LASTEXITCODE\n")):
                raise ModelError("model: a PowerShell hook without Shipyard's wrapper")
            hook = Command[len(HOOK_PRELUDE):-len("\nexit $LASTEXITCODE\n")]
        self.hooks.append((Shell, hook))
        ran = tuple(self.hook_runner(hook, env, self.local(WorkDir)))
        rc, stdout, stderr, timed_out = ran + ("", False)[len(ran) - 2:]
        return {"rc": -1 if timed_out else rc, "stdout": stdout, "stderr": stderr, "timed_out": timed_out}

    # ------------------------------------------------------------ services
    def do_service(self, Name: str, Action: str, rest: bytes, TimeoutSec: int = 60) -> dict:
        if Name not in self.services:
            raise DotNetError(f"Cannot find any service with service name '{Name}'.")
        dependents = list(self.services[Name].get("dependents", []))
        running = [n for n in [Name, *dependents] if self.services[n]["status"] in RUNNING]
        killed = False
        try:
            if Action != "start":
                for name in [*dependents, Name]:
                    killed = self._stop(name, TimeoutSec) or killed
            if Action != "stop":
                for name in [Name, *reversed([d for d in dependents if d in running])]:
                    self._start(name, TimeoutSec)
        except ModelError as e:
            raise ModelError(f"{e}{self._restore(running, TimeoutSec)}") from None
        return {"name": Name, "status": self.services[Name]["status"], "dependents": dependents, "killed": killed}

    def _stop(self, name: str, timeout: int) -> bool:
        service = self.services[name]
        if service["status"] == "Stopped":
            return False
        if not service.get("hangs"):
            service["status"] = "Stopped"
            return False
        pid = service.get("pid", 0)
        sharers = [n for n, s in self.services.items() if n != name and pid and s.get("pid") == pid]
        if sharers:
            raise ModelError(f"{name} did not stop within {timeout} s; its process {pid} also hosts "
                             f"{', '.join(sharers)}, so it was not killed")
        service["status"] = "Stopped"  # Stop-Process on its own process
        return True

    def _start(self, name: str, timeout: int) -> None:
        if self.services[name].get("starts", True):
            self.services[name]["status"] = "Running"
        else:
            raise ModelError(f"{name} did not reach Running within {timeout} s")

    def _restore(self, running: list[str], timeout: int) -> str:
        problems = []
        for name in running:
            try:
                self._start(name, timeout)
            except ModelError as e:
                problems.append(str(e))
        return f"; could not start again: {'; '.join(problems)}" if problems else "; every service that ran before runs again"

    # ------------------------------------------------------------ IIS
    def _iis_write(self, what: str) -> None:
        """Invoke-IisWrite: a busy applicationHost.config is retried, up to 7 attempts."""
        if self.iis_backend is None:
            raise ModelError("IIS is not installed here: neither the WebAdministration module nor appcmd.exe is available")
        failures, self.iis_busy = self.iis_busy, 0
        if failures >= 7:
            raise retry_failure(what, 7, BUSY)

    def do_iis_recycle(self, AppPool: str, rest: bytes) -> dict:
        if AppPool not in self.app_pools:
            raise ModelError(f"Cannot find app pool '{AppPool}'")
        self._iis_write(f"recycle {AppPool}")
        was, self.app_pools[AppPool] = self.app_pools[AppPool], "Started"
        self.recycles.append(AppPool)
        return {"app_pool": AppPool, "state": "Started", "was": was, "backend": self.iis_backend}

    def do_iis_site(self, SiteName: str, AppPool: str, PhysicalPath: str, Bindings: str, rest: bytes, SiteId: int = 0) -> dict:
        self._iis_write(f"create site {SiteName}")
        wanted = json.loads(Bindings)
        if not wanted:
            raise ModelError("no bindings given")
        for b in wanted:
            if b["protocol"] not in ("http", "https"):
                raise ModelError(f"binding protocol must be http or https, got {b['protocol']}")
        created = SiteName not in self.sites
        if created:
            taken = [n for n, s in self.sites.items() if s["id"] == SiteId]
            if SiteId and taken:
                raise ModelError(f"site id {SiteId} is taken by site '{taken[0]}'")
            site_id = SiteId or 1 + max([s["id"] for s in self.sites.values()] + [0])
            self.sites[SiteName] = {"id": site_id}
        self.app_pools.setdefault(AppPool, "Started")
        listed = [f"{b['protocol']}/{b['ip']}:{b['port']}:{b['host']}" for b in wanted]
        self.sites[SiteName].update(app_pool=AppPool, physical_path=PhysicalPath, bindings=listed,
                                    certificates={b["port"]: b["thumbprint"] for b in wanted if b["thumbprint"]})
        return {"site": SiteName, "app_pool": AppPool, "physical_path": PhysicalPath, "site_id": self.sites[SiteName]["id"],
                "bindings": listed, "created": created, "backend": self.iis_backend}

    def do_iis_fastcgi(self, SiteName: str, Python: str, Arguments: str, DepsDir: str, WsgiHandler: str,
                       PythonPath: str, rest: bytes, StaticPath: str = "", HandlerName: str = "Shipyard-Django") -> dict:
        for relative in ("Scripts\\python.exe", "Lib\\site-packages\\wfastcgi.py"):
            if not self.local(str(PureWindowsPath(DepsDir, relative))).is_file():
                raise ModelError(f"{PureWindowsPath(DepsDir, relative)} is missing: the release's environment needs "
                                 "wfastcgi (add it to the app's requirements)")
        self._iis_write("add the FastCGI application")
        processor = f"{Python}|{Arguments}"
        added = processor not in self.fastcgi
        self.fastcgi[processor] = {"WSGI_HANDLER": WsgiHandler, "PYTHONPATH": PythonPath}
        site_handlers = self.handlers.setdefault(SiteName, {})
        added = added or HandlerName not in site_handlers
        site_handlers[HandlerName] = processor
        static = f"{SiteName}/{StaticPath.strip('/')}" if StaticPath else ""
        if static:
            self.handlers[static] = {}  # <remove name="Shipyard-Django"/>: IIS serves the files itself
        return {"fastcgi": processor, "handler": HandlerName, "site": SiteName, "static_location": static,
                "created": added, "backend": self.iis_backend}

    def serving_problem(self, url: str) -> str:
        """Why IIS would not run the app behind `url` ('' when it would): pool, FastCGI, interpreter."""
        port = urlparse(url).port or (443 if url.startswith("https") else 80)
        site = next((n for n, s in self.sites.items() if any(b.endswith(f":{port}:") or f":{port}:" in b for b in s["bindings"])), None)
        if site is None:
            return f"nothing listens on port {port}"
        if self.app_pools.get(self.sites[site]["app_pool"]) != "Started":
            return "HTTP 503"
        processor = self.handlers.get(site, {}).get("Shipyard-Django")
        if processor is None or processor not in self.fastcgi:
            return "HTTP 404"  # no handler: the static file handler answers
        python, arguments = processor.split("|", 1)
        for path in (python, arguments.strip('"')):
            if not os.path.exists(self.local(path)):  # follows the current junction, as IIS does
                return "HTTP 500"
        return ""

    # ------------------------------------------------------------ health, facts
    def do_health(self, Url: str, rest: bytes, TimeoutSec: int = 30, Expect: str = "", CertValidation: str = "validate") -> dict:
        problem = self.serving_problem(Url) if self.sites else ""
        healthy = self.health_ok(Expect) if callable(self.health_ok) else self.health_ok
        if problem or not healthy:
            raise ModelError(f"health check {Url} failed after 3 attempts: {problem or 'HTTP 500'}")
        return {"url": Url, "status": 200, "attempts": 1}

    def do_facts(self, DeployTo: str, rest: bytes, ProbeLongPath: bool = True, Python: str = "",
                 EnvKeys: list[str] = ()) -> dict:
        envs = [k for k in EnvKeys if (self.local(DeployTo) / "shared" / "envs" / k / ".shipyard-complete").is_file()]
        python = self.host_facts.python if Python else {"python_platform": "", "python_error": ""}
        facts = {**self.host_facts.facts, **python, "envs": envs}
        if not ProbeLongPath:
            return {**facts, "long_paths": False, "long_path_error": "not probed"}
        return facts

    def do_doctor(self, DeployTo: str, rest: bytes, SitePath: str = "") -> dict:
        facts = dict(self.host_facts.doctor)
        iis = dict(facts["iis"])
        iis["fastcgi"] = sorted(set(iis["fastcgi"]) | set(self.fastcgi))
        if SitePath:
            config = self.local(str(PureWindowsPath(SitePath, "web.config")))
            iis["web_config_handlers"] = config.is_file() and ET.fromstring(config.read_bytes()).find("system.webServer/handlers") is not None
        return {**facts, "iis": iis}


class WindowsFacts:
    """What facts.ps1 / doctor.ps1 report on the modelled host; tests change fields."""

    def __init__(self) -> None:
        self.facts = {"hostname": "WIN1", "os": "Microsoft Windows Server 2022 Standard", "os_version": "10.0.20348",
                      "ps_version": "5.1.20348.2849", "language_mode": "FullLanguage", "is64_os": True,
                      "is64_process": True, "free_bytes": 50 * 2**30, "long_paths": True, "long_path_error": "",
                      "long_paths_enabled": True, "tar": True}
        self.python = {"python_platform": "win-amd64-cpython-311", "python_error": ""}  # what `Python -c ...` says
        self.doctor = {"account": "CORP\\deployer", "account_kind": "domain", "is_admin": True, "token_filter_policy": 0,
                       "max_envelope_kb": 500, "max_timeout_ms": 60000, "max_memory_per_shell_mb": 2048,
                       "max_shells_per_user": 30, "junction_error": "",
                       "iis": {"web_administration": True, "iis_administration": True, "appcmd": True,
                               "handlers_override": "Deny", "fastcgi": [], "web_config_handlers": False}}
