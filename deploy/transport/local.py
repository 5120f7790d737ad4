"""This machine, through subprocess: the embedded `local` environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from deploy.errors import ArtifactError, CommandTimeout
from deploy.transport.base import Command, Result, Transport, sha256_file


@dataclass
class LocalTransport(Transport):
    """Scripts run in /bin/sh; argv runs directly. The small override invoke's Local is to Runner."""

    def run(self, command: Command, *, timeout: float, env=None, stdin=None, cwd=None, check=True) -> Result:
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        started = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                input=stdin if stdin is not None else b"",
                capture_output=True,
                timeout=timeout,
                cwd=cwd,
                env={**os.environ, **env} if env else None,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            raise CommandTimeout(self.name, Result(self.name, command, -1, "", "", 0).display_command, timeout) from None
        result = Result(
            self.name,
            command,
            proc.returncode,
            proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"),
            time.monotonic() - started,
        )
        return self._checked(result, check)

    def put(self, local: Path, remote: str, *, sha256: str | None = None) -> None:
        Path(remote).parent.mkdir(parents=True, exist_ok=True)
        tmp = f"{remote}.part"
        try:
            shutil.copyfile(local, tmp)
            if sha256 is not None and sha256_file(Path(tmp)) != sha256:
                raise ArtifactError(f"{self.name}: {remote}: sha256 mismatch after copy")
            os.replace(tmp, remote)
        except BaseException:  # a full disk, a bad copy, Ctrl-C: no partial upload is left behind
            Path(tmp).unlink(missing_ok=True)
            raise
        self.transferred_bytes += Path(local).stat().st_size

    def get(self, remote: str, local: Path) -> None:
        shutil.copyfile(remote, local)
