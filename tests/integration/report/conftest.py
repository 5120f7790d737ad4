"""Helpers for the report integration tests: headless Chromium (Debian's
`chromium`), a small PNG reader to look at screenshots, and the sample run
shared with the unit tests."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "report"))  # report_sample

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",
]


class Chromium:
    def __init__(self, binary: str, profile_root: Path):
        self.binary, self.profile_root, self.runs = binary, profile_root, 0

    def run(self, page: Path, *flags: str) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        profile = self.profile_root / f"profile{self.runs}"
        argv = [self.binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *flags, page.resolve().as_uri()]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)

    @staticmethod
    def console_lines(stderr: str) -> list[str]:
        """Every console message the page produced (Chromium logs them as INFO:CONSOLE)."""
        return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]

    @staticmethod
    def read_png(path: Path) -> tuple[int, int, list[bytes], int]:
        """(width, height, rows of raw pixel bytes, bytes per pixel) of an 8-bit,
        non-interlaced RGB or RGBA PNG, which is what Chromium writes."""
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
        pos, idat, header = 8, b"", b""
        while pos < len(data):
            length, kind = struct.unpack(">I4s", data[pos:pos + 8])
            chunk = data[pos + 8:pos + 8 + length]
            header = chunk if kind == b"IHDR" else header
            idat += chunk if kind == b"IDAT" else b""
            pos += 12 + length
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
        assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
        bpp = 3 if colour == 2 else 4
        raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
        for y in range(height):
            filt, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                if filt == 1:
                    line[i] = (line[i] + a) & 255
                elif filt == 2:
                    line[i] = (line[i] + b) & 255
                elif filt == 3:
                    line[i] = (line[i] + (a + b) // 2) & 255
                elif filt == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            rows.append(bytes(line))
            prev = line
        return width, height, rows, bpp


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    binary = shutil.which("chromium")
    assert binary, "Debian package chromium is missing (ci/apt-packages.txt lists it)"
    return Chromium(binary, tmp_path_factory.mktemp("chromium"))
