"""The driver variants of issue 9 on small crafted jobs, shaped as the drivers write
them (tests/corpus/gen_drivers.py runs the drivers themselves): each is counted
exactly, or refused with an error naming the offset, never miscounted."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from pagetally.errors import AnalysisUnavailable, PdlError, TruncatedData
from pagetally.pdl import analyse
from pagetally.pdl.detect import detect
from pagetally.pdl.formats import bjc, escp, escpage, hiperc, printronix, qpdl, sixel
from tests.pdl._hostbased_samples import TRAP, UEL, pjl

ESC = b"\x1b"


def _escpr_cmd(letter: bytes, name: bytes, payload: bytes = b"") -> bytes:
    return ESC + letter + struct.pack("<I", len(payload)) + name + payload


def escpr_job(pages: int) -> bytes:
    """epson-escpr's shape: EJL, remote mode, ESC ( R ESCPR, then setq/setj and pages."""
    out = [b"\x00\x00\x00" + ESC + b"\x01@EJL 1284.4\n@EJL     \n" + ESC + b"@"]
    out.append(
        ESC + b"(R\x08\x00\x00REMOTE1" + b"JS\x04\x00\x00\x00\x00\x00" + ESC + b"\x00\x00\x00"
    )
    out.append(ESC + b"(R\x06\x00\x00ESCPR")
    out.append(_escpr_cmd(b"q", b"setq", bytes(9)) + _escpr_cmd(b"j", b"setj", bytes(22)))
    for left in range(pages - 1, -1, -1):
        out.append(_escpr_cmd(b"p", b"sttp") + _escpr_cmd(b"p", b"setn", bytes([left])))
        out += [_escpr_cmd(b"d", b"dsnd", b"\x00\x00\x02\x06\x01\x00" + TRAP * 3)] * 3
        out.append(_escpr_cmd(b"p", b"endp", b"\x00"))
    out.append(
        _escpr_cmd(b"j", b"endj") + ESC + b"@" + ESC + b"(R\x08\x00\x00REMOTE1JE\x01\x00\x00"
    )
    return b"".join(out) + ESC + b"\x00\x00\x00"


def test_escpr_pages_end_at_endp_and_form_feeds_in_data_are_data() -> None:
    job = escpr_job(3)
    found = detect(job)
    assert found.parser.name == "escpr" and not found.also
    assert (found.parser.count(job).pages, found.parser.count(job).format) == (3, "Epson ESC/P-R")
    # before: 0 pages (the ESC/P-R commands were skipped as unknown ESC/P)
    with pytest.raises(TruncatedData, match="ESC/P-R"):
        escp.scan(job[: len(job) // 2])
    bad = job.replace(b"dsnd", b"DSND", 1)
    with pytest.raises(PdlError, match=r"ESC/P-R: unexpected data at offset \d+"):
        escp.scan(bad)


def test_gutenprint_canon_bjl_blocks_and_pixma_xml_are_skipped() -> None:
    bjl = ESC + b"[K\x02\x00\x00\x1fBJLSTART\nControlMode=Common\nBJLEND\n"
    init = ESC + b"[K\x02\x00\x00\x0f" + ESC + b"(b\x01\x00\x01"
    page = (ESC + b"(A" + struct.pack("<H", 5) + b"K" + TRAP[:4] + b"\r") * 3 + b"\x0c"
    job = bjl + bjl + init + page * 4 + ESC + b"(b\x01\x00\x00" + ESC + b"@"
    parser = bjc.PARSERS[0]
    assert parser.count(job).pages == 4  # before: "unexpected data at offset 7"
    xml = (
        b'<?xml version="1.0" encoding="utf-8" ?><cmd xmlns:ivec='
        b'"http://www.canon.com/ns/cmd/2008/07/common/"><ivec:contents/></cmd>'
    )
    wrapped = xml + init + page * 2 + xml
    assert detect(wrapped).parser.name == "bjc" and parser.count(wrapped).pages == 2
    with pytest.raises(PdlError, match="offset"):
        parser.count(bjl[:-4] + init + page)


def test_bj10v_graphics_hold_form_feed_bytes() -> None:
    rows = (ESC + b"|*" + struct.pack("<H", 12) + b"\x0c" * 12 + ESC + b"J\x18") * 20
    job = ESC + b"@" + (rows + b"\r\x0c") * 3
    assert escp.scan(job).pages == 3  # before: 243


def test_jetprinter_rows_hold_form_feed_bytes() -> None:
    """Ghostscript's jetp3852: ESC e with one parameter, then ESC [ O nL nH rows."""
    row = ESC + b"[O" + struct.pack("<H", 30) + b"\x0c" * 30
    job = (ESC + b"@" + ESC + b"e\x82" + row * 10 + b"\x0c") * 3
    assert escp.scan(job).pages == 3  # before: 903


def test_pbmtoescp2_and_pbmtoepson_shapes_are_esc_p() -> None:
    row = ESC + b".\x01\x0a\x0a\x18" + struct.pack("<H", 64) + b"\xf9\x0c" * 24 + b"\n"
    escp2 = ESC + b"(G\x01\x00\x01" + ESC + b"+\x18" + row * 5 + ESC + b"@"
    assert detect(escp2).parser.name == "escp"  # before: PCL, 55 pages for 1
    assert escp.scan(escp2).pages == 1
    line = ESC + b"*\x05" + struct.pack("<H", 40) + b"\x0c" * 40 + b"\n"
    epson = ESC + b"A\x08" + b"\n" * 5 + line * 8 + b"\x0c" + ESC + b"@"
    assert detect(epson).parser.name == "escp" and escp.scan(epson).pages == 1


def test_lp8000_pages_leave_at_the_reset() -> None:
    head = b"\x1b\x01@EJL \n@EJL EN LA=ESC/PAGE\n"
    page = b"\x1d100Y\x1d4;32;1;0bi{I\x0c\x0c\x0c\x0c\x1d0bcI\x1d1coO\x1drhE" + head
    job = head + b"\x1drhE" + head + page * 3
    assert escpage.PARSERS[0].count(job).pages == 3  # before: 0


def test_hiperc_colour_page_is_one_page_of_four_planes() -> None:
    out = [pjl("HIPERC", "SET COPIES=1")]
    for planes in (1, 4, 1):
        for _ in range(planes):
            out.append(struct.pack(">II", 52, 0) + b"\x00" * 44)
            out.append(struct.pack(">II", 8 + len(TRAP), 1) + TRAP)
        out.append(struct.pack(">II", 8, 255))
    job = b"".join(out) + UEL
    assert hiperc.PARSERS[0].count(job).pages == 3  # before: 6


def test_qpdl_colour_models_extra_records() -> None:
    band = struct.pack(">BBHHBBI", 0x0C, 0, 1216, 128, 4, 0x15, 8) + TRAP[:8]
    page = (
        b"\x00\x06\x00\x01\x02"
        + b"\x00" * 12
        + b"\x13"
        + b"\x00" * 14
        + b"\x14"
        + b"\x00" * 24
        + band * 3
        + b"\x14"
        + b"\x00" * 7
        + b"\x01\x00\x01"
    )
    job = pjl("QPDL") + page * 2 + b"\x09" + UEL
    assert qpdl.PARSERS[0].count(job).pages == 2  # before: refused
    with pytest.raises(PdlError, match="offset"):
        qpdl.PARSERS[0].count(job.replace(b"\x01\x00\x01", b"\x07\x00\x01", 1))


def test_sixel_pictures_and_printronix_rows() -> None:
    pic = b'\x1bP0;0;1q"1;1' + b"~~@@??-\n" * 10 + b"\x1b\\"
    job = b"\x1b[!p\x1b[11h" + (pic + b"\x0c") * 2 + pic
    found = detect(job)
    assert found.parser.name == "sixel"  # before: plain text
    assert sixel.PARSERS[0].count(job).pages == 3
    with pytest.raises(PdlError, match="offset 9"):
        sixel.PARSERS[0].count(b"\x1b[!p\x1b[11hHello\x0c")
    rows = b"@AB\x7f" * 20 + b"\x05\n"
    assert detect(rows * 50).parser.name == "printronix"  # before: text, 18 pages for 1
    with pytest.raises(PdlError, match="no page break"):
        printronix.PARSERS[0].count(rows * 50)


def _hiperc_page(planes: tuple[int, ...]) -> bytes:
    """One HIPERC page: a type 0 record per plane (its number at byte 13), data, end."""
    out = b""
    for plane in planes:
        block = struct.pack(">IBB", 16, len(planes), plane).ljust(44, b"\x00")
        out += struct.pack(">II", 52, 0) + block
        out += struct.pack(">II", 8 + len(TRAP), 1) + TRAP
    return out + struct.pack(">II", 8, 255)


def test_hiperc_colour_pages_from_the_planes() -> None:
    # foo2hiperc: the black plane alone for a page without colour (even in colour
    # mode), cyan, magenta, yellow and black for a colour page.
    pages = [(3,), (0, 1, 2, 3), (3,), (0, 1, 2, 3)]
    job = pjl("HIPERC", "SET COPIES=2") + b"".join(map(_hiperc_page, pages)) + UEL
    a = analyse(job, color=True)
    assert (a.pages, a.color_pages, a.method) == (8, 4, "parsed")  # before: unavailable
    assert [p.color for p in a.page_inks or ()] == [False, True, False, True]
    mono = pjl("HIPERC") + _hiperc_page((3,)) * 3 + UEL
    assert analyse(mono, color=True).color_pages == 0
    # A plane number HIPERC does not have: no verdict is guessed.
    odd = pjl("HIPERC") + _hiperc_page((3,)) + _hiperc_page((7,)) + UEL
    with pytest.raises(AnalysisUnavailable):
        analyse(odd, color=True)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("foo2hiperc-wrapper") is None, reason="needs foo2zjs")
def test_hiperc_colour_pages_of_foo2hiperc(tmp_path: Path) -> None:
    src = tmp_path / "job.ps"
    src.write_text("%!PS\n1 0 0 setrgbcolor 100 100 200 200 rectfill showpage\n"
                   "0 setgray 100 100 200 200 rectfill showpage\n"
                   "0 0 1 setrgbcolor 100 100 50 50 rectfill showpage\n")  # fmt: skip
    for flags, colour in (["-c"], [True, False, True]), ([], [False, False, False]):
        out = subprocess.run(["foo2hiperc-wrapper", *flags, str(src)], capture_output=True,
                             check=True, timeout=120).stdout  # fmt: skip
        a = analyse(out, color=True)
        assert a.pages == 3 and [p.color for p in a.page_inks or ()] == colour
