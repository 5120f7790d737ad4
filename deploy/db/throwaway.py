"""A throwaway PostgreSQL server (initdb + pg_ctl as user postgres, fsync off, a free
127.0.0.1 port) for tests and benchmarks. Its directory sits directly under /tmp because
every parent must be traversable by postgres (pytest's tmp dirs are 0700)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from deploy.db.connect import DbUrl

PG_BIN = Path(os.environ.get("SHIPYARD_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Throwaway:
    """A server started for one use: `with ThrowawayX() as url: ...` stops it at the end."""

    def start(self) -> DbUrl:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> DbUrl:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ThrowawayPostgres(Throwaway):
    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="shipyard-pg-", dir="/tmp"))
        self.port = _free_port()
        self.url = DbUrl("postgres", "postgres", "127.0.0.1", self.port, "postgres")

    def _as_postgres(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=60)

    def start(self) -> DbUrl:
        self.base.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        data = self.base / "data"
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
        opts = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(self.base / "log"), "-o", opts, "start")
        return self.url

    def stop(self) -> None:
        try:
            self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
