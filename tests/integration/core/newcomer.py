"""A newcomer's first minutes, for real: a clean clone, a PATH of system directories only,
Debian's /usr/bin/python3, the README's first command in a terminal (a pty) — and what
that terminal then shows, emulated from the bytes the run wrote.

    python -m tests.integration.core.newcomer     # print the screen of a real first run
                                                  # (the README's sample is pasted from it)
"""

from __future__ import annotations

import os
import re
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[3]
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
COLUMNS, ROWS = 100, 60
README_PATH = "~/shipyard"  # how the README's sample writes the clone's directory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_clone(dest: Path, port: int) -> Path:
    """`git clone` of the project's committed HEAD; the example's port moved to a free one."""
    subprocess.run(["git", "clone", "-q", str(PROJECT), str(dest)], check=True, env={"PATH": SYSTEM_PATH})
    config = dest / "shipyard.toml"
    config.write_text(config.read_text().replace("app_port = 8000", f"app_port = {port}"))
    return dest


def stock_env(home: str, **extra: str) -> dict[str, str]:
    """What a login on a stock machine has: system PATH, HOME, a terminal; the machine's own
    pip settings (PIP_*) are kept, nothing of this test process's Python."""
    pip = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    return {"PATH": SYSTEM_PATH, "HOME": home, "TERM": "xterm-256color", "LANG": "C.UTF-8", **pip, **extra}


def readme_command() -> str:
    """The first ```sh block of the README, as written."""
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    return re.search(r"```sh\n(.*?)\n```", text, re.S).group(1).strip()


def readme_sample() -> list[str]:
    """The README's sample output: the first plain ``` block after the first command."""
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    after = text.split("```sh\n", 1)[1].split("\n```", 1)[1]
    return re.search(r"```\n(.*?)\n```", after, re.S).group(1).splitlines()


def run_in_terminal(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 900,
                    preexec=None) -> tuple[int, bytes]:
    """Run with stdin/stdout/stderr on a pty of COLUMNS x ROWS; return (exit code, bytes written)."""
    import fcntl
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, preexec_fn=preexec)
    os.close(slave)
    out, deadline = bytearray(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer has gone
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    else:
        proc.kill()
    os.close(master)
    return proc.wait(timeout=60), bytes(out)


_CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


def screen(raw: bytes) -> list[str]:
    """The terminal's lines after `raw`, for the control sequences rich and a shell write:
    cursor up/down, erase line, carriage return; colours and cursor visibility dropped."""
    lines, row, col = [""], 0, 0
    text, i = raw.decode("utf-8", "replace"), 0
    while i < len(text):
        m = _CSI.match(text, i)
        if m:
            n = int(m.group(1)) if m.group(1).isdigit() else 1
            if m.group(2) == "A":
                row = max(0, row - n)
            elif m.group(2) == "B":
                row += n
            elif m.group(2) == "K":
                lines[row] = "" if m.group(1) == "2" else lines[row][:col]
            i = m.end()
            continue
        ch, i = text[i], i + 1
        while len(lines) <= row:
            lines.append("")
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row, col = row + 1, 0
            while len(lines) <= row:
                lines.append("")
        elif ch >= " ":
            line = lines[row].ljust(col)
            lines[row] = line[:col] + ch + line[col + 1:]
            col += 1
    while lines and not lines[-1].strip():
        lines.pop()
    return [line.rstrip() for line in lines]


_SHAPE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?"), "<time>"),
    (re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{7}\b"), "<release>"),
    (re.compile(r"\b[0-9a-f]{7,64}\b"), "<hex>"),
    (re.compile(r"\bPython 3\.\d+\.\d+"), "Python <version>"),
    (re.compile(r"\d+(\.\d+)? ?(B|KiB|MiB|GiB|kB|MB)\b"), "<size>"),
    (re.compile(r"\d+(\.\d+)?(s|m)\b"), "<secs>"),
    (re.compile(r"\b(by|as) [a-z_][a-z0-9_-]*"), r"\1 <user>"),
    (re.compile(r"\d+"), "<n>"),
    (re.compile(r"([━─ ])\1+"), r"\1"),  # table columns are as wide as their content
]


def shape(lines: list[str], repo: str) -> list[str]:
    """A line's shape: what stays the same from run to run (ids, times, sizes, widths go)."""
    out = []
    for line in lines:
        line = line.replace(repo, "<repo>").replace(README_PATH, "<repo>")
        for pattern, placeholder in _SHAPE:
            line = pattern.sub(placeholder, line)
        out.append(line.strip())
    return out


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="shipyard-newcomer-") as tmp:
        repo = clean_clone(Path(tmp) / "shipyard", free_port())
        code, raw = run_in_terminal(["sh", "-c", readme_command()], repo, stock_env(os.environ.get("HOME", "/root")))
        subprocess.run([".venv/bin/invoke", "stop"], cwd=repo, capture_output=True)
        print("\n".join(line.replace(str(repo), README_PATH) for line in screen(raw)))
        print(f"(exit {code})", file=sys.stderr)


if __name__ == "__main__":
    main()
