"""Colour pages of host-based jobs, from the colour planes the job carries.

A page is colour only when the data prints colour: the verdicts are checked
against Ghostscript's inkcov device on the very document the driver printed
(a page with cyan, magenta or yellow coverage is colour), and crafted jobs show
what gives no verdict.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from pagetally.errors import AnalysisUnavailable
from pagetally.pdl import analyse
from tests.pdl._hostbased_samples import TRAP, UEL, pjl

GS = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE"]
# Mono, colour, colour (blue: cyan and magenta), grey, mono.
SOURCE = """%!PS
/Helvetica findfont 20 scalefont setfont
72 700 moveto (mono page) show showpage
72 700 moveto (colour page) show 1 0 0 setrgbcolor 100 300 100 100 rectfill showpage
0 0 1 setrgbcolor 100 300 100 100 rectfill 0 setgray 72 700 moveto (blue) show showpage
0.5 setgray 100 300 100 100 rectfill 72 700 moveto (grey) show showpage
72 700 moveto (mono again) show showpage
"""


def inkcov_colour(src: Path) -> list[bool]:
    """Per page: does Ghostscript's inkcov see cyan, magenta or yellow?"""
    out = subprocess.run(
        [*GS, "-sDEVICE=inkcov", "-sOutputFile=-", str(src)],
        capture_output=True, check=True, timeout=120, text=True,
    )  # fmt: skip
    rows = [line.split() for line in out.stdout.splitlines() if line.strip().endswith("OK")]
    return [any(float(v) > 0 for v in row[:3]) for row in rows]


@pytest.mark.skipif(shutil.which("foo2qpdl-wrapper") is None, reason="needs foo2zjs")
@pytest.mark.parametrize("opts", [("-c", "-C", "10"), ()])
def test_foo2qpdl_colour_pages_agree_with_inkcov(tmp_path: Path, opts: tuple[str, ...]) -> None:
    src = tmp_path / "doc.ps"
    src.write_text(SOURCE)
    truth = inkcov_colour(src)
    assert truth == [False, True, True, False, False]
    job = tmp_path / "out.qpdl"
    with job.open("wb") as fh:
        subprocess.run(["foo2qpdl-wrapper", *opts, str(src)], stdout=fh, check=True, timeout=300)
    a = analyse(job, color=True)
    verdicts = [p.color for p in a.page_inks or ()]
    assert (a.pages, a.method) == (5, "parsed")
    assert verdicts == (truth if opts else [False] * 5)  # without -c the job is black


def _qpdl_page(planes: tuple[int, ...], copies: int = 1) -> bytes:
    """A QPDL page in foo2qpdl's colour layout: a band per plane (its number at byte 6)."""
    out = b"\x00\x06" + struct.pack(">H", copies) + b"\x02" + b"\x00" * 12
    for plane in planes:
        data = b"\x00" + TRAP
        out += struct.pack(">BBHHBB", 0x0C, 0, 1216, 128, plane, 0x13)
        out += struct.pack(">I", len(data)) + data
    return out + b"\x01" + struct.pack(">H", copies)


def test_qpdl_colour_pages_from_the_planes() -> None:
    pages = [(4,), (4, 1, 2, 3), (4,), (4, 3)]
    job = pjl("QPDL") + b"".join(_qpdl_page(p, copies=2) for p in pages) + b"\x09" + UEL
    a = analyse(job, color=True)
    assert (a.pages, a.color_pages) == (8, 4)
    assert [p.color for p in a.page_inks or ()] == [False, True, False, True]
    # Pages asking for different copies: per-page verdicts times one copies value
    # would be wrong, so no verdict is given.
    mixed = pjl("QPDL") + _qpdl_page((4, 1), copies=1) + _qpdl_page((4,), copies=3) + UEL
    with pytest.raises(AnalysisUnavailable):
        analyse(mixed, color=True)
