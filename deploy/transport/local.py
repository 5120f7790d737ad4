"""This machine, through subprocess: the embedded `local` environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from deploy.errors import ArtifactError, CommandTimeout
from deploy.transport.base import Command, Result, Stdin, Transport, sha256_file


@dataclass
class LocalTransport(Transport):
    """Scripts run in /bin/sh; argv runs directly. The small override invoke's Local is to Runner."""

    def run(self, command: Command, *, timeout: float, env=None, stdin=None, cwd=None, check=True) -> Result:
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        started = time.monotonic()
        self.commands += 1
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                                env={**os.environ, **env} if env else None, start_new_session=True)
        pipe, proc.stdin = proc.stdin, None  # fed by the thread; communicate() only reads
        feeder = threading.Thread(target=_feed, args=(pipe, stdin), daemon=True)
        feeder.start()
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise CommandTimeout(self.name, Result(self.name, command, -1, "", "", 0).display_command, timeout) from None
        finally:
            feeder.join(timeout=5)
        result = Result(self.name, command, proc.returncode, out.decode("utf-8", "replace"),
                        err.decode("utf-8", "replace"), time.monotonic() - started)
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


def _feed(pipe: IO[bytes], stdin: Stdin) -> None:
    """Write stdin (bytes or chunks) to the child and close it; a child that stops reading ends it."""
    try:
        for chunk in [stdin] if isinstance(stdin, (bytes, bytearray)) else (stdin or ()):
            pipe.write(chunk)
    except (BrokenPipeError, ValueError, OSError):
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass
