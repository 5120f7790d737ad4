"""A Python model of the scripts/ps1 contracts, answering the fake WS-Man endpoint.

It runs a command only if it is exactly Shipyard's bootstrap command line, reads the stdin
framing (call, library, script, rest), recognises library and script byte for byte among
the shipped files, and answers as that script's contract says, on a local directory that
stands in for the Windows file system (C:\\x -> <root>/C/x; junctions are symlinks).

What it may do is read from each script (ps1_contract.py): parameters bind as PowerShell
would, an answer must have one of the shapes the script can return, and a failure must be
a message the script (or the library) can throw. It proves the Python side drives the
contracts correctly; it does not prove the PowerShell implements them (that needs Windows).
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path, PureWindowsPath
from typing import Any, Callable

from deploy.transport.powershell import BOOTSTRAP, BOOTSTRAP_COMMAND_LINE, LIBRARY
from tests.integration.windows.model_base import ContractBreach, DotNetError, ModelError
from tests.integration.windows.model_files import FileVerbs
from tests.integration.windows.model_host import HostVerbs, WindowsFacts
from tests.integration.windows.ps1_contract import binding_error, contracts

# The bootstrap's own answer under ConstrainedLanguage, read from the bootstrap: '...' + mode + '...'
_LANGUAGE_REFUSAL = tuple(p.encode() for p in re.search(
    r"Write-Output \('(.*?)' \+ \$ExecutionContext\.SessionState\.LanguageMode \+ '(.*?)'\)", BOOTSTRAP).groups())
__all__ = ["WindowsHostModel", "ModelError", "DotNetError", "ContractBreach", "PROGRESS"]
PROGRESS = (b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
            b'<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T>'
            b'</TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV>'
            b'</PR></MS></Obj></Objs>')


class WindowsHostModel(FileVerbs, HostVerbs):
    def __init__(self, root: Path):
        self.root = root
        self.contracts = contracts()
        self.scripts = {c.source: name for name, c in self.contracts.items()}
        self.scripts_by_name = {name: c.source for name, c in self.contracts.items()}
        self.params = {name: c.params for name, c in self.contracts.items()}
        self.library = LIBRARY.read_text(encoding="utf-8-sig")
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[tuple[str, str]] = []
        self.fail: dict[str, str] = {}  # script name -> error message to answer with
        self.adhoc: Callable[[str, bytes], tuple[bytes, bytes, int]] = self._no_adhoc
        self.host_facts = WindowsFacts()
        FileVerbs.__init__(self)
        HostVerbs.__init__(self)

    # ------------------------------------------------------------ wire side
    def __call__(self, command_line: str, stdin: bytes) -> tuple[bytes, bytes, int]:
        if command_line != BOOTSTRAP_COMMAND_LINE:
            return b"", b"'" + command_line[:40].encode() + b"' is not Shipyard's bootstrap\r\n", 9009
        mode = self.host_facts.facts["language_mode"]
        if mode != "FullLanguage":  # the bootstrap's first statement, before it reads stdin
            return _LANGUAGE_REFUSAL[0] + mode.encode() + _LANGUAGE_REFUSAL[1] + b"\r\n", b"", 4
        lines = (stdin.split(b"\r\n", 3) + [b"", b"", b""])[:4]
        call = json.loads(base64.b64decode(lines[0]).decode("utf-8"))
        library, script = (base64.b64decode(line).decode("utf-8") for line in lines[1:3])
        if not call["step"]:
            return self.adhoc(script, lines[3])
        name = self.scripts.get(script)
        if name is None or name != call["step"] or library != self.library:
            return self._answer(call["step"], None, "model: not a shipped script/library pair")
        params = call["params"]
        self.calls.append((name, params))
        problem = binding_error(self.params[name], params)
        if problem is not None:  # the binder throws before the script body; the envelope catches it
            return self._answer(name, None, problem)
        try:
            if name in self.fail:
                raise DotNetError(self.fail[name])
            data = getattr(self, f"do_{name}")(rest=lines[3], **params)
        except ModelError as e:
            if not isinstance(e, DotNetError) and not self.contracts[name].could_throw(str(e)):
                raise ContractBreach(f"{name}.ps1 cannot throw {str(e)!r}") from None
            self.failures.append((name, str(e)))
            return self._answer(name, None, str(e))
        except OSError as e:  # the file system refused: a .NET IOException in the script
            self.failures.append((name, str(e)))
            return self._answer(name, None, str(e))
        if not self.contracts[name].allows_answer(data):
            raise ContractBreach(f"{name}.ps1 never answers with keys {sorted(data)}")
        return self._answer(name, data, None)

    @staticmethod
    def _answer(step: str, data: Any, error: str | None) -> tuple[bytes, bytes, int]:
        answer = {"ok": error is None, "step": step, "data": data, "error": error}
        line = json.dumps(answer, ensure_ascii=False).encode("utf-8") + b"\r\n"
        return line, PROGRESS, 0 if error is None else 1

    def _no_adhoc(self, script: str, stdin: bytes) -> tuple[bytes, bytes, int]:
        return b"", b"model: not a scripts/ps1 script\r\n", 1

    # ------------------------------------------------------------ the modelled file system
    def local(self, windows_path: str) -> Path:
        p = PureWindowsPath(windows_path)
        if not p.drive.endswith(":"):
            raise ModelError(f"not an absolute path: {windows_path}")
        return self.root.joinpath(p.drive[0].upper(), *p.parts[1:])

    def windows(self, local: Path) -> str:
        parts = Path(os.path.abspath(local)).relative_to(os.path.abspath(self.root)).parts
        return str(PureWindowsPath(f"{parts[0]}:\\", *parts[1:]))

    def real(self, windows_path: str, follow: bool) -> Path:
        """Resolve-RealPath: every link followed (the entry itself only with `follow`)."""
        local = self.local(windows_path)
        if follow:
            return Path(os.path.realpath(local))
        return Path(os.path.realpath(local.parent)) / local.name

    def assert_inside(self, path: str, roots: list[str], action: str, follow: bool = False) -> None:
        """Assert-Inside of the library, on the modelled file system."""
        real = self.real(path, follow)
        for root in roots:
            base = Path(os.path.realpath(self.local(root)))
            if real == base or base in real.parents:
                return
        raise ModelError(f"refusing to {action} {path}: it resolves to {self.windows(real)}, outside {' and '.join(roots)}")

    def junction(self, link: Path, target: Path) -> None:
        if link.exists() or link.is_symlink():
            raise DotNetError(f"{link.name} already exists")
        link.symlink_to(target, target_is_directory=True)

    def link_target(self, windows_path: str) -> str:
        """Get-LinkTarget: what a junction points at, '' for anything else."""
        local = self.local(windows_path)
        return self.windows(Path(os.readlink(local))) if local.is_symlink() else ""
