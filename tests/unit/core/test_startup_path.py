"""`invoke --list` loads invoke and the task definitions only (issue 15: start-up <= 0.3 s,
measured by bench/startup.py). The oracle is CPython's own import log (`-X importtime`) of
the real command, not a list Shipyard keeps of itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = {"pydantic", "fabric", "paramiko", "invocations", "rich", "winrm", "pypsexec", "smbprotocol", "jinja2",
         "pyodbc", "sqlglot", "pglast", "hypothesis", "cryptography", "psycopg", "pymysql"}


def imported_by_invoke_list() -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "invoke", "--list"], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=60)
    assert "deploy" in proc.stdout  # it really listed Shipyard's tasks
    return {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}


def test_invoke_list_imports_no_heavy_library_and_nothing_of_shipyard_but_its_tasks():
    modules = imported_by_invoke_list()
    assert not {m for m in modules if m.split(".")[0] in HEAVY}
    assert {m for m in modules if m.split(".")[0] == "deploy"} - {"deploy"} <= {
        m for m in modules if m.startswith("deploy.tasks")}
