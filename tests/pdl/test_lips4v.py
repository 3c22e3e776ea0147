"""Canon LIPS IV vector mode (Ghostscript's lips4v): followed to the end, or refused.

Real output comes from Ghostscript itself (two resolutions, downloaded glyphs,
colour, copies), its truth from Ghostscript's bbox device on the same source;
crafted jobs show that a page is counted only at a form feed in text mode and
that everything the driver would not write is refused with its offset.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pagetally.errors import CorruptData, TruncatedData
from pagetally.pdl import analyse
from pagetally.pdl.formats.lips import LipsParser, lips_numbers
from tests.pdl._hostbased_samples import TRAP

GS = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE"]
SOURCE = """%!PS-Adobe-3.0
/Helvetica findfont 14 scalefont setfont
1 1 4 {
  /n exch def
  72 700 moveto (LIPS IV vector page ) show n 3 string cvs show
  n 2 mod 0 eq { 0 0 1 setrgbcolor } { 0.5 setgray } ifelse
  100 300 150 150 rectfill
  /DeviceGray setcolorspace 72 72 translate 100 100 scale
  8 8 8 [8 0 0 8 0 0] {<00ff0c0c1b1b9b9b1e1e>} image
  showpage
} for
"""
PAGES = 4
needs_gs = pytest.mark.skipif(shutil.which("gs") is None, reason="needs Ghostscript")


def _lips(n: int, *extra: bytes) -> bytes:
    """The encoding lips4v writes for one number (gdevl4v.c's lips_param)."""
    sign = 0x10 if n >= 0 else 0
    n = abs(n)
    size = 1 if n < 16 else 2 if n < 1024 else 3 if n < 65536 else 4
    out = [(n & 0x0F) | 0x20 | sign]
    n >>= 4
    for _ in range(size - 1):
        out.insert(0, (n & 0x3F) | 0x40)
        n >>= 6
    return bytes(out)


def _page(body: bytes, copies: int = 1) -> bytes:
    head = b"\x9b?1;4;5;6;14l\x9b11h\x1b[0&}#\x1e!0" + _lips(300) + b"1\x1e"
    area = b"(00" + _lips(2400) + _lips(3300) + b"\x1e"
    return head + area + body + b"%\x1e}p\x1e\x9b" + str(copies).encode() + b"v\x0c"


def _job(*pages: bytes) -> bytes:
    return b'\x1b%@\x1bP41;300;1Jlips4v:2.3.6\x1b\\\x1b[0"p\x1b<' + b"".join(pages) + b"\x900J\x9c"


def _image(data: bytes) -> bytes:
    """An image-data command carrying `data` uncompressed."""
    return b"}Q110" + _lips(len(data)) + b"\x1e" + data


def test_lips_numbers_read_what_the_driver_writes() -> None:
    for n in (0, 5, 15, 16, 1023, 1024, 65535, 65536, -22, -3184):
        assert lips_numbers(_lips(n)) == [n]
    assert lips_numbers(b"A&CG0") == [-22, 3184]


def test_form_feeds_in_image_data_are_not_pages() -> None:
    job = _job(_page(_image(TRAP * 3)), _page(_image(b"\x0c" * 40), copies=3))
    a = LipsParser().count(job)
    assert (a.pages, a.copies) == (1 + 3, 3)


def test_glyphs_printed_in_text_mode_are_followed() -> None:
    glyphs = b"}p" + _lips(100) + _lips(200) + b"\x1e"
    font = b"\x9b13;0;8;300.q" + b"A\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c"
    text = glyphs + font + b"\x9b0%vA\x9b25aB\x9b1.v\x0c\x9b8kC\x9b&}P(00\x1e"
    assert LipsParser().count(_job(_page(text), _page(b""))).pages == 2


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"P(00\x0c\x1e", CorruptData),  # a form feed inside a vector command
        (b"}Q110" + _lips(500) + b"\x1e" + b"x" * 20, TruncatedData),  # image data cut
        (b"}Q1\x1e", CorruptData),  # an image command of no known form
        (b"}p" + _lips(100) + _lips(200) + b"\x1e" + b"A" * 17, CorruptData),  # a long run
        (b"}p" + _lips(100) + _lips(200) + b"\x1eA\nB", CorruptData),  # a line feed
        (b"}p" + _lips(100) + _lips(200) + b"\x1e\x9b9000kA", CorruptData),  # off the page
    ],
)
def test_what_the_driver_never_writes_is_refused(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"offset \d+|ends"):
        LipsParser().count(_job(_page(body)))


def test_a_job_ending_in_vector_mode_is_refused() -> None:
    job = _job(_page(b"")) + b"\x1b[0&}P(00\x1e"
    with pytest.raises(TruncatedData):
        LipsParser().count(job)


@pytest.mark.slow  # runs Ghostscript, a third-party program
@needs_gs
@pytest.mark.parametrize(
    ("opts", "copies"),
    [
        (("-r300",), 1),
        (("-r600",), 1),
        (("-r300", "-dFontDL=true"), 1),
        (("-r600", "-dFontDL=true", "-dBitsPerPixel=24"), 1),
        (("-r300", "-dNumCopies=2"), 2),
    ],
)
def test_ghostscript_lips4v_output_is_counted(
    tmp_path: Path, opts: tuple[str, ...], copies: int
) -> None:
    src = tmp_path / "src.ps"
    src.write_text(SOURCE)
    bbox = subprocess.run(
        [*GS, "-sDEVICE=bbox", str(src)], capture_output=True, check=True, timeout=120
    )
    assert bbox.stderr.count(b"%%BoundingBox") == PAGES
    out = tmp_path / "out.lips"
    subprocess.run(
        [*GS, "-sDEVICE=lips4v", *opts, f"-sOutputFile={out}", str(src)], check=True, timeout=120
    )
    a = analyse(out)
    assert (a.format, a.pages, a.copies) == ("Canon LIPS", PAGES * copies, copies)
