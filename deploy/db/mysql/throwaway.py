"""A throwaway MariaDB server for tests and benchmarks: its own data directory (on tmpfs when
there is one), a private socket and a free 127.0.0.1 port, never the system server. Root
may log in over TCP from 127.0.0.1 without a password (mariadb-install-db's `normal` auth)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from deploy.db.connect import DbUrl
from deploy.db.throwaway import Throwaway, _free_port

def _program(name: str) -> str:
    """Debian puts mariadbd in /usr/sbin, which a plain user's PATH lacks."""
    return shutil.which(name) or next((f"{d}/{name}" for d in ("/usr/sbin", "/usr/bin") if Path(d, name).exists()), name)


SERVER_OPTIONS = [
    "--skip-log-bin", "--skip-name-resolve", "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
    "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci", "--max-connections=60", "--performance-schema=OFF",
]


class ThrowawayMariaDB(Throwaway):
    def __init__(self) -> None:
        parent = "/dev/shm" if Path("/dev/shm").is_dir() else None
        self.base = Path(tempfile.mkdtemp(prefix="shipyard-mariadb-", dir=parent))
        self.port = _free_port()
        self.socket = self.base / "sock"
        self.url = DbUrl("mysql", "mysql", "127.0.0.1", self.port, "root")
        self.process: subprocess.Popen | None = None

    def _user(self) -> list[str]:
        return ["--user=root"] if os.geteuid() == 0 else []

    def start(self, timeout: float = 60) -> DbUrl:
        data = self.base / "data"
        subprocess.run([_program("mariadb-install-db"), "--no-defaults", f"--datadir={data}", *self._user(),
                        "--auth-root-authentication-method=normal", "--skip-test-db", *SERVER_OPTIONS],
                       check=True, capture_output=True, timeout=120)
        self.process = subprocess.Popen(
            [_program("mariadbd"), "--no-defaults", f"--datadir={data}", f"--socket={self.socket}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--pid-file={self.base / 'pid'}", f"--log-error={self.base / 'error.log'}",
             *self._user(), *SERVER_OPTIONS],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.base / "error.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"MariaDB did not start on port {self.port}:\n{log}")
            time.sleep(0.2)
        return self.url

    def _answers(self) -> bool:
        done = subprocess.run([_program("mariadb-admin"), "--no-defaults", f"--socket={self.socket}", "-uroot", "ping"],
                              capture_output=True, timeout=10)
        return done.returncode == 0

    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
