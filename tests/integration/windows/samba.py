"""A private smbd on 127.0.0.1 for the SMB transfer tests (Debian `samba`, run by hand).

SMB3 only, signing mandatory, every share `smb encrypt = required` — as strict as a
hardened Windows file server. Shares: `C$` (the admin-share layout) and `deploy`
(a configured share), both over directories the contract model also uses.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

USER, PASSWORD = "shipyardsmb", "Smb-S3cret!"


@dataclass
class Samba:
    root: Path
    port: int
    process: subprocess.Popen

    @property
    def conf(self) -> Path:
        return self.root / "smb.conf"

    @property
    def fs(self) -> Path:
        """What the contract model uses as the Windows file system root (C:\\ -> fs/C)."""
        return self.root / "fs"

    def status(self) -> str:
        return subprocess.run(["smbstatus", "-s", str(self.conf), "-b"], capture_output=True, text=True, check=True).stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _conf(root: Path, port: int) -> str:
    shares = {"C$": root / "fs" / "C", "deploy": root / "fs" / "D" / "apps"}
    text = f"""[global]
  server role = standalone server
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = {port}
  disable netbios = yes
  private dir = {root}/private
  lock directory = {root}/lock
  state directory = {root}/state
  cache directory = {root}/cache
  pid directory = {root}/run
  ncalrpc dir = {root}/run/ncalrpc
  passdb backend = tdbsam:{root}/private/passdb.tdb
  log file = {root}/log.%m
  server min protocol = SMB3
  server signing = mandatory
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
"""
    for name, path in shares.items():
        path.mkdir(parents=True, exist_ok=True)
        text += f"[{name}]\n  path = {path}\n  read only = no\n  smb encrypt = required\n  valid users = {USER}\n  admin users = {USER}\n"
    return text


def start(root: Path) -> Samba:
    for sub in ("private", "lock", "state", "cache", "run"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", USER], check=True)
    port = free_port()
    conf = root / "smb.conf"
    conf.write_text(_conf(root, port))
    subprocess.run(["smbpasswd", "-c", str(conf), "-s", "-a", USER], input=f"{PASSWORD}\n{PASSWORD}\n",
                   text=True, check=True, capture_output=True)
    log = open(root / "smbd.out", "wb")
    process = subprocess.Popen(["smbd", "-F", "--no-process-group", "--debug-stdout", "-s", str(conf)],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return Samba(root, port, process)
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"smbd did not listen on {port}: {(root / 'smbd.out').read_text()[-2000:]}")


def stop(samba: Samba) -> None:
    samba.process.terminate()
    try:
        samba.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        samba.process.kill()
        samba.process.wait()


def reset_fs(samba: Samba) -> None:
    """Empty the shares between tests, keeping the share roots."""
    for share_root in (samba.fs / "C", samba.fs / "D" / "apps"):
        for child in share_root.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
