"""Generators of crafted PCL and PCL XL jobs: the classes a user could print for free with.

Each class is a function of a seeded `random.Random` that builds one job of the
class with varied parameters (copies above 999 and per page, macros run 30
times or as overlays, page size/orientation/duplex changes, text without form
feeds under any line spacing and margins, text then PCL, PCL XL PageCopies beside
white space, a second PCL XL stream far after the first). `cases()` gives a fixed
set (seeded), so a truth recorded once stays valid.

The truths live in data/pcl_crafted.json, recorded by running this module with
GhostPCL 10.09 (`python -m tests.pdl._pcl_crafted GPCL6`: pbmraw at 4 dpi, one
image per printed page, copies included); each with the job's SHA-256, so a
change of a generator shows as a changed job, not as a wrong count.
"""

from __future__ import annotations

import hashlib
import json
import random
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).with_name("data") / "pcl_crafted.json"
E = b"\x1b"
R = E + b"E"
UEL = E + b"%-12345X"


def _lines(rnd: random.Random, n: int, end: bytes = b"\r\n") -> bytes:
    words = [b"alpha", b"beta", b"gamma", b"delta", b"x", b"42"]
    return b"".join(b" ".join(rnd.choices(words, k=rnd.randint(1, 6))) + end for _ in range(n))


def copies(rnd: random.Random) -> bytes:
    """ESC &l#X: above 999, beyond 32,767, on one page only, zero or negative."""
    job = R
    for _ in range(rnd.randint(1, 4)):
        c = rnd.choice([rnd.randint(2, 999), rnd.randint(1000, 32767), 99999, 0, -3])
        job += E + b"&l%dX" % c + _lines(rnd, rnd.randint(1, 5)) + b"\x0c"
    return job + R


def macros(rnd: random.Random) -> bytes:
    """A macro with form feeds executed or called many times, nested, or as an overlay."""
    body = _lines(rnd, 2) + b"\x0c" * rnd.randint(1, 2)
    job = R + E + b"&f1Y" + E + b"&f0X" + body + E + b"&f1X"
    if rnd.random() < 0.3:
        job += E + b"&f10X"  # permanent: survives a reset
    how = rnd.choice(["run", "nest", "overlay", "reset"])
    n = rnd.randint(1, 35)
    if how == "run":
        job += (E + b"&f1Y" + E + b"&f%dX" % rnd.choice([2, 3])) * n
    elif how == "nest":
        job += E + b"&f2Y" + E + b"&f0X" + (E + b"&f1Y" + E + b"&f2X") * n + E + b"&f1X"
        job += (E + b"&f2Y" + E + b"&f3X") * rnd.randint(1, 8)
    elif how == "overlay":
        job += E + b"&f1Y" + E + b"&f4X" + (_lines(rnd, 3) + b"\x0c") * rnd.randint(1, 6)
    else:
        job += R + (E + b"&f1Y" + E + b"&f2X") * n
    return job + R


def page_changes(rnd: random.Random) -> bytes:
    """Page size, orientation, duplex, page side and paper source between texts."""
    cmds = [b"&l2A", b"&l26A", b"&l3A", b"&l1O", b"&l0O", b"&l0S", b"&l1S", b"&l2S",
            b"&a0G", b"&a1G", b"&a2G", b"&l1H", b"&l4H"]  # fmt: skip
    job = R
    for _ in range(rnd.randint(2, 12)):
        if rnd.random() < 0.7:
            job += _lines(rnd, rnd.randint(1, 3))
        job += E + rnd.choice(cmds)
    return job + _lines(rnd, 1) + R


def text_overflow(rnd: random.Random) -> bytes:
    """Hundreds of text lines, no form feed: line spacing, margins, page size, modes."""
    job = R
    if rnd.random() < 0.5:
        job += E + rnd.choice([b"&l2A", b"&l26A", b"&l3A", b"&l1A"])
    if rnd.random() < 0.3:
        job += E + b"&l1O"
    if rnd.random() < 0.5:
        job += E + b"&l%dD" % rnd.choice([3, 4, 6, 8, 12])
    if rnd.random() < 0.3:
        job += E + b"&l%dC" % rnd.choice([6, 7, 9, 16])
    if rnd.random() < 0.3:
        job += E + b"&l%dE" % rnd.randint(0, 20)
    if rnd.random() < 0.3:
        job += E + b"&l%dF" % rnd.randint(5, 50)
    if rnd.random() < 0.2:
        job += E + b"&l0L"
    end = b"\r\n"
    if rnd.random() < 0.25:
        job += E + b"&k1G"
        end = b"\r"
    job += _lines(rnd, rnd.randint(100, 1500), end)
    if rnd.random() < 0.3:
        job += E + b"&a%dR" % rnd.randint(0, 80) + _lines(rnd, rnd.randint(1, 5))
    return job + R


def line_settings(rnd: random.Random) -> bytes:
    """Line spacing and margins a printer ignores or takes in fractions, mid-job too."""
    job = R
    for _ in range(rnd.randint(1, 4)):
        settings = [b"&l0F", b"&l200E", b"&l5D", b"&l7D", b"&l0.5C", b"&l7.5C",
                    b"&l0C", b"&l24D", b"&l30P", b"&l2E", b"&l12F", b"&l-3F"]  # fmt: skip
        job += E + rnd.choice(settings)
        job += _lines(rnd, rnd.randint(20, 400))
        if rnd.random() < 0.3:
            job += b"\x0c"
    return job + R


def text_then_pcl(rnd: random.Random) -> bytes:
    """A job that starts as plain text and switches to PCL."""
    job = _lines(rnd, rnd.randint(10, 300))
    job += R + E + b"&l%dX" % rnd.randint(1, 3)
    return job + (_lines(rnd, 3) + b"\x0c") * rnd.randint(1, 4) + R


def _xl_stream(rnd: random.Random, pages: int) -> bytes:
    """A PCL XL stream with EndPage's PageCopies beside white space."""
    out = b") HP-PCL XL;2;0;Comment crafted\n"
    out += b"\xd1\x4b\x00\x4b\x00\xf8\x89\xc0\x00\xf8\x86\xc0\x03\xf8\x8f\x41"  # BeginSession
    out += b"\xc0\x00\xf8\x88\xc0\x01\xf8\x82\x48"  # OpenDataSource
    for _ in range(pages):
        out += b"\xc0\x00\xf8\x28\xc0\x02\xf8\x25\x43"  # BeginPage
        out += b"\xc0\x01\xf8\x03\x6a"  # SetColorSpace gray
        out += b"\xc0\x00\xf8\x09\x63"  # SetBrushSource black
        out += b"\x85\xd3" + struct.pack("<2h", 10, 10) + b"\xf8\x4c\x6b"  # NewPath SetCursor
        for x, y in ((60, 10), (60, 60)):
            out += b"\xd3" + struct.pack("<2h", x, y) + b"\xf8\x45\x9b"  # LinePath
        out += b"\x86"  # PaintPath
        if rnd.random() < 0.6:
            ws = rnd.choice([b" ", b"\x00", b"\r\n", b"\t\t"])
            n = rnd.randint(2, 1500)
            where = rnd.random()
            out += b"\xc1" + struct.pack("<H", n) + (ws if where < 0.7 else b"") + b"\xf8\x31"
            out += ws if where > 0.3 else b""
        out += b"\x44"
    return out + b"\x49\x42"  # CloseDataSource, EndSession


def pclxl_streams(rnd: random.Random) -> bytes:
    """Two PCL XL streams, the second far (beyond 64 KiB) after the first."""
    job = UEL + b"@PJL ENTER LANGUAGE=PCLXL\r\n" + _xl_stream(rnd, rnd.randint(1, 3))
    gap = rnd.choice([b"\r\n" * 36_000, b"@PJL COMMENT " + b"x" * 70_000 + b"\r\n"])
    job += UEL + gap + b"@PJL ENTER LANGUAGE=PCLXL\r\n" + _xl_stream(rnd, rnd.randint(1, 3))
    return job + UEL


CLASSES: dict[str, tuple[str, Callable[[random.Random], bytes], int]] = {
    # name → (parser, generator, variations)
    "copies": ("pcl", copies, 8),
    "macros": ("pcl", macros, 12),
    "page_changes": ("pcl", page_changes, 10),
    "text_overflow": ("pcl", text_overflow, 14),
    "line_settings": ("pcl", line_settings, 10),
    "text_then_pcl": ("pcl", text_then_pcl, 5),
    "pclxl_streams": ("pclxl", pclxl_streams, 6),
}


def cases() -> list[tuple[str, str, bytes]]:
    """(case name, parser, job) for every variation of every class."""
    out = []
    for name, (parser, make, n) in CLASSES.items():
        for k in range(n):
            out.append((f"{name}-{k}", parser, make(random.Random(f"{name}-{k}"))))
    return out


def digest(job: bytes) -> str:
    return hashlib.sha256(job).hexdigest()[:16]


def _gpcl6_pages(gpcl6: str, job: bytes) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "job", Path(tmp) / "out.pbm"
        src.write_bytes(job)
        subprocess.run(
            [gpcl6, "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pbmraw", "-r4",
             f"-sOutputFile={out}", str(src)],
            capture_output=True, timeout=600, check=False,
        )  # fmt: skip
        return out.read_bytes().count(b"P4\n") if out.exists() else 0


def record(gpcl6: str) -> None:
    """Run GhostPCL on every case and write the truths."""
    truths = {
        name: {"sha256": digest(job), "pages": _gpcl6_pages(gpcl6, job)} for name, _, job in cases()
    }
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(json.dumps(truths, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    record(sys.argv[1])
