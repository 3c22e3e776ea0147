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


@pytest.mark.slow  # foo2qpdl and Ghostscript's inkcov: third-party programs
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


# Mono, colour (red: magenta and yellow), colour (blue), mono: no grey fills, which
# a driver may print with composite colour inks (see the R3000 test below).
PLAIN = """%!PS
/Helvetica findfont 20 scalefont setfont
72 700 moveto (mono page) show showpage
72 700 moveto (red) show 1 0 0 setrgbcolor 100 300 100 100 rectfill showpage
0 0 1 setrgbcolor 100 300 100 100 rectfill 0 setgray 72 700 moveto (blue) show showpage
72 700 moveto (mono again) show showpage
"""


@pytest.mark.slow  # Ghostscript's devices and inkcov: third-party programs
@pytest.mark.parametrize(
    ("device", "resolution", "fmt"),
    [
        ("stcolor", "-r180", "ESC/P"),
        ("stcolor", "-r360", "ESC/P"),
        # DeskJet KCMY planes (ESC *r-4U), mode 9 rows
        ("cdj550", "-r150", "PCL"),
        ("cdj550", "-r300", "PCL"),
    ],
)
def test_ghostscript_colour_pages_agree_with_inkcov(
    tmp_path: Path, device: str, resolution: str, fmt: str
) -> None:
    src = tmp_path / "doc.ps"
    src.write_text(SOURCE)
    out = tmp_path / "out.prn"
    subprocess.run(
        [*GS, f"-sDEVICE={device}", resolution, f"-sOutputFile={out}", str(src)],
        check=True, timeout=300,
    )  # fmt: skip
    a = analyse(out, color=True)
    assert a.format == fmt
    assert [p.color for p in a.page_inks or ()] == inkcov_colour(src)


def _gutenprint(tmp_path: Path, model: str, src: Path, *opts: str) -> Path:
    ppd = tmp_path / f"{model}.ppd"
    with ppd.open("wb") as fh:
        subprocess.run(
            ["/usr/lib/cups/daemon/cups-driverd", "cat", f"gutenprint.5.3://{model}/expert"],
            stdout=fh, check=True, timeout=60,
        )  # fmt: skip
    out = tmp_path / f"{model}.escp"
    argv = ["cupsfilter", "-e", "-p", str(ppd), "-m", "printer/foo",
            "-o", "StpQuality=Economy", *opts, str(src)]  # fmt: skip
    with out.open("wb") as fh:
        subprocess.run(argv, stdout=fh, stderr=subprocess.DEVNULL, check=True, timeout=300)
    return out


needs_gutenprint = pytest.mark.skipif(
    not (
        shutil.which("cupsfilter") and Path("/usr/lib/cups/filter/rastertogutenprint.5.3").exists()
    ),
    reason="needs cupsfilter and Gutenprint",
)


def _sources(tmp_path: Path, text: str) -> tuple[Path, Path]:
    """The document as PostScript (for inkcov) and distilled to PDF (for cupsfilter)."""
    src = tmp_path / "doc.ps"
    src.write_text(text)
    pdf = tmp_path / "doc.pdf"
    subprocess.run(["ps2pdf", str(src), str(pdf)], check=True, timeout=120)
    return src, pdf


@pytest.mark.slow  # Gutenprint (cupsfilter) and Ghostscript: third-party programs
@needs_gutenprint
@pytest.mark.parametrize(("model", "fmt"), [("escp2-c88", "ESC/P"), ("pcl-550", "PCL")])
def test_gutenprint_colour_pages_agree_with_inkcov(tmp_path: Path, model: str, fmt: str) -> None:
    # escp2-c88: ESC i rows per ink; pcl-550 (DeskJet 550C): KCMY planes, mode 2
    src, pdf = _sources(tmp_path, PLAIN)
    truth = inkcov_colour(src)
    assert truth == [False, True, True, False]
    colour = analyse(_gutenprint(tmp_path, model, pdf), color=True)
    assert colour.format == fmt
    assert [p.color for p in colour.page_inks or ()] == truth
    if fmt == "ESC/P":  # (a grey PCL job has one plane: rendered, not read here)
        grey = analyse(_gutenprint(tmp_path, model, pdf, "-o", "ColorModel=Gray"), color=True)
        assert (grey.pages, grey.color_pages) == (4, 0)


@pytest.mark.slow  # Gutenprint (cupsfilter) and Ghostscript: third-party programs
@needs_gutenprint
def test_gutenprint_light_black_inks_are_not_colour(tmp_path: Path) -> None:
    # The R3000 prints grey with its light black inks (0x10, 0x30) and red with
    # magenta, light magenta and yellow; its PPD reverses the page order.
    src, pdf = _sources(tmp_path, SOURCE)
    a = analyse(_gutenprint(tmp_path, "escp2-r3000", pdf), color=True)
    assert [p.color for p in a.page_inks or ()] == inkcov_colour(src)[::-1]


def test_escp_colour_rows_of_zero_bytes_are_not_colour() -> None:
    def row(ink: int, data: bytes) -> bytes:  # ESC r ink, ESC . 0 (uncompressed) 1 row
        dots = len(data) * 8
        return b"\x1br" + bytes([ink]) + b"\x1b.\x00\x0a\x0a\x01" + struct.pack("<H", dots) + data

    head = b"\x1b@\x1b(G\x01\x00\x01"
    blank = head + row(0, b"\xff\x00") + row(1, b"\x00\x00") + row(4, b"\x00\x00") + b"\x0c"
    inked = head + row(0, b"\xff\x00") + row(2, b"\x00\x01") + b"\x0c"
    a = analyse(blank + inked, color=True)
    assert [p.color for p in a.page_inks or ()] == [False, True]
    with pytest.raises(AnalysisUnavailable):  # ESC r 5: red on ESC/P dot matrix
        analyse(head + row(5, b"\x01\x00") + b"\x0c", color=True)


def _deskjet(*pages: list[tuple[bytes, bytes, bytes, bytes]], planes: int = -4) -> bytes:
    """A DeskJet job: each page a list of rows, each row its K, C, M, Y planes (mode 0)."""
    out = b"\x1bE\x1b*t300R\x1b*r" + str(planes).encode() + b"U\x1b*r1A\x1b*b0M"
    for rows in pages:
        for row in rows:
            *first, last = row
            out += b"".join(b"\x1b*b%dV" % len(p) + p for p in first)
            out += b"\x1b*b%dW" % len(last) + last
        out += b"\x1b*rC\x0c\x1b*r1A"
    return out + b"\x1bE"


def test_deskjet_colour_comes_from_the_planes_dots() -> None:
    k = b"\xff\x00"
    zero = b"\x00\x00"
    mono = [(k, zero, zero, zero)] * 3  # colour planes of zero bytes: no colour
    composite = [(zero, k, k, k)]  # a dot in cyan, magenta and yellow: composite black
    red = [(k, zero, b"\x01\x00", b"\x01\x00")]
    a = analyse(_deskjet(mono, composite, red), color=True)
    assert (a.pages, [p.color for p in a.page_inks or ()]) == (3, [False, False, True])
    with pytest.raises(AnalysisUnavailable):  # CMY planes: no verdict
        analyse(_deskjet([(k, k, k)], planes=-3), color=True)
