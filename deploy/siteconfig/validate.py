"""Check rendered configs with the real tools before the switch, so a bad file
stops the deploy while the old release still serves.

apache2 -t, nginx -t, haproxy -c, supervisor's own config loader, varnishd -C,
systemd-analyze verify (any output is a failure: it only warns about unknown keys),
compile() for the WSGI script, and the documented element set for IIS web.config."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

from deploy.errors import ShipyardError
from deploy.siteconfig.iis import check_web_config
from deploy.siteconfig.render import DEBIAN_BUILTIN_MODULES, MANIFEST, kind_of
from deploy.siteconfig.sandbox import Sandbox

TIMEOUT = 60.0


class ConfigInvalid(ShipyardError):
    """A rendered server config failed its tool's check; nothing was switched."""

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = problems
        super().__init__("server config failed validation:\n" + "\n".join(
            f"  {file}: {tool}: {message}" for file, tool, message in problems))


def validate_files(files: dict[str, str]) -> None:
    """Raise ConfigInvalid naming every file whose tool rejects it."""
    manifest = json.loads(files[MANIFEST]) if MANIFEST in files else {}
    problems: list[tuple[str, str, str]] = []
    with Sandbox(manifest) as box:
        for path in sorted(files):
            box.write(path, files[path])
        for path in sorted(files):
            kind = kind_of(path)
            if kind is None:
                continue
            tool, check = CHECKS[kind]
            message = check(box, path, files[path])
            if message:
                problems.append((path, tool, box.unmap(message).strip()))
    if problems:
        raise ConfigInvalid(problems)


def _run(argv: list[str], cwd: Path | None = None) -> tuple[int, str]:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return 127, f"{argv[0]} is not installed on this machine"
    except subprocess.TimeoutExpired:
        return 124, f"did not finish within {TIMEOUT:g}s"
    return proc.returncode, (proc.stderr + proc.stdout).strip()


def _apache(box: Sandbox, path: str, text: str) -> str:
    conf = box.write(path, linux_platform(text))
    rc, out = _run(["apache2", "-t", "-f", str(conf)])
    return "" if rc == 0 and out == "Syntax OK" else out


def linux_platform(text: str) -> str:
    """Translate a Windows Apache platform block to Debian's module paths: the
    directives after it are the same on both, and only Debian's Apache runs here."""
    block = re.search(r"^# --- platform: windows ---\n(.*?)^# --- end platform ---$", text, re.M | re.S)
    if block is None:
        return text
    lines = ["# --- platform: windows (checked as linux) ---", 'ServerRoot "/etc/apache2"',
             "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so"]
    for line in block.group(1).splitlines():
        module = re.match(r'LoadModule (\w+)_module ', line)
        if module and module[1] not in DEBIAN_BUILTIN_MODULES:
            lines.append(f"LoadModule {module[1]}_module /usr/lib/apache2/modules/mod_{module[1]}.so")
        elif line.startswith("ThreadsPerChild"):
            lines.append(line)
    lines.append("# --- end platform ---")
    return text[: block.start()] + "\n".join(lines) + text[block.end():]


def _wsgi(box: Sandbox, path: str, text: str) -> str:
    try:
        compile(text, path, "exec")
    except SyntaxError as e:
        return f"line {e.lineno}: {e.msg}"
    return ""


def _nginx(box: Sandbox, path: str, text: str) -> str:
    prefix = box.scratch("nginx")
    (prefix / "tmp").mkdir(exist_ok=True)
    main = prefix / "nginx.conf"
    main.write_text(
        "pid nginx.pid;\nerror_log error.log warn;\nevents { worker_connections 64; }\nhttp {\n"
        "    include /etc/nginx/mime.types;\n"
        + "".join(f"    {t}_temp_path tmp/{t};\n" for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"    include {box.release / path};\n}}\n")
    rc, out = _run(["nginx", "-q", "-t", "-p", f"{prefix}/", "-c", str(main)])
    findings = [line for line in out.splitlines() if not line.endswith(" test failed")]
    return "\n".join(findings) or (f"exited {rc}" if rc else "")


def _haproxy(box: Sandbox, path: str, text: str) -> str:
    """-q would hide the alerts too: keep every line but the version notices."""
    rc, out = _run(["haproxy", "-c", "-f", str(box.release / path)])
    findings = [line for line in out.splitlines() if "[ALERT]" in line or "[WARNING]" in line]
    return "\n".join(findings) or (f"exited {rc}" if rc else "")


SUPERVISOR_LOADER = """
import sys
from supervisor.options import ServerOptions
options = ServerOptions()
options.realize(args=["-c", sys.argv[1]])
names = [p.name for g in options.process_group_configs for p in g.process_configs]
print(" ".join(names))
"""


def _supervisor(box: Sandbox, path: str, text: str) -> str:
    """supervisord's own loader reads the program blocks, as `supervisorctl reread` will."""
    home = box.scratch("supervisor")
    main = home / "supervisord.conf"
    main.write_text(
        f"[supervisord]\nlogfile={home}/supervisord.log\npidfile={home}/supervisord.pid\n"
        f"[unix_http_server]\nfile={home}/supervisor.sock\nchmod=0700\n"
        "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
        f"[include]\nfiles = {box.release / path}\n")
    rc, out = _run([sys.executable, "-c", SUPERVISOR_LOADER, str(main)])
    if rc != 0:
        return out.splitlines()[0] if out else f"exited {rc}"
    return "" if out else "no [program:x] block found"


def _systemd(box: Sandbox, path: str, text: str) -> str:
    unit = box.release / path
    rc, out = _run(["systemd-analyze", "verify", "--man=no", str(unit)], cwd=unit.parent)
    return "" if rc == 0 and not out else out or f"exited {rc}"


def _varnish(box: Sandbox, path: str, text: str) -> str:
    rc, out = _run(["varnishd", "-C", "-n", str(box.scratch("varnish")), "-f", str(box.release / path)])
    if rc == 0:
        return ""
    start = out.find("Message from VCC-compiler")
    return out[start:] if start >= 0 else out[-2000:]


def _iis(box: Sandbox, path: str, text: str) -> str:
    return "; ".join(check_web_config(text))


CHECKS: dict[str, tuple[str, Callable[[Sandbox, str, str], str]]] = {
    "apache": ("apache2 -t", _apache),
    "wsgi": ("python compile", _wsgi),
    "nginx": ("nginx -t", _nginx),
    "haproxy": ("haproxy -c", _haproxy),
    "supervisor": ("supervisord config loader", _supervisor),
    "systemd": ("systemd-analyze verify", _systemd),
    "varnish": ("varnishd -C", _varnish),
    "iis": ("web.config schema", _iis),
}
