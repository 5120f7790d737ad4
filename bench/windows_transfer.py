"""Artifact upload to a Windows host: WinRM stdin chunks vs SMB, measured in the same run.

Both go to the test doubles (the WS-Man fake + contract model, and a private Samba over
the same directory), so the figures compare Shipyard's two paths on this machine, not a
real Windows host. Needs root (smbd). Run: PYTHONPATH=$PWD python bench/windows_transfer.py [MB]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from deploy.config import SmbOptions
from deploy.transport import open_transport
from tests.integration.windows import samba as smb
from tests.integration.windows.harness import windows_endpoint


def timed_put(transport, blob: Path, remote: str) -> float:
    started = time.perf_counter()
    transport.put(blob, remote)
    return time.perf_counter() - started


def main(megabytes: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="shipyard-bench-"))
    server = smb.start(root)
    try:
        blob = root / "artifact.bin"
        blob.write_bytes(os.urandom(megabytes << 20))
        os.environ["SHIPYARD_BENCH_SMB"] = smb.PASSWORD
        with windows_endpoint(server.fs) as win:
            win.fake.username = smb.USER
            plain = win.host.model_copy(update={"user": smb.USER})
            stdin_transport = open_transport(plain, win.env)
            baseline = timed_put(stdin_transport, blob, "C:\\bench\\stdin.bin")
            with_smb = plain.model_copy(update={"smb": SmbOptions(port=server.port, password_secret="SMB")})
            env = win.env.model_copy(update={"secrets": {**win.env.secrets, "SMB": "SHIPYARD_BENCH_SMB"}})
            smb_transport = open_transport(with_smb, env)
            over_smb = timed_put(smb_transport, blob, "C:\\bench\\smb.bin")
            stdin_transport.close()
            smb_transport.close()
        print(f"{megabytes} MB  WinRM stdin (baseline): {megabytes / baseline:7.1f} MB/s  1.00x")
        print(f"{megabytes} MB  SMB + far-side sha256: {megabytes / over_smb:7.1f} MB/s  {baseline / over_smb:.2f}x")
    finally:
        smb.stop(server)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 32)
