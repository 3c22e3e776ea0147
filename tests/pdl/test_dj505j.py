"""HP DeskJet 505J (`ESC _` commands, Ghostscript's dj505j): pages from form feeds."""

from __future__ import annotations

import pytest

from pagetally.errors import PdlError
from pagetally.pdl import analyse
from pagetally.pdl.formats import dj505j

SETUP = (
    b"\x1b@\x1b_R,\x01\x1b_D\x01\x1b_E\x00\x1b_N\x00\x1b_J\xc4\xff"
    b"\x1b_U\xff\xff\x1b_Sd\t\x1b_A\x01\x1b_M\x01"
)


def page(rows: int) -> bytes:
    data = b"\x0c\x1b@\x0c"  # form feeds and escapes inside row data mean nothing
    body = b"\x1b_Y\xd4\x01" + (b"\x1b_W\x04\x00" + data + b"\x1b_V\x00\x00") * rows
    return SETUP + body + b"\x1b_C\x0c\x1b@"


def test_pages_are_form_feeds_and_row_data_is_skipped() -> None:
    job = page(50) * 5
    a = analyse(job)
    assert (a.format, a.pages) == ("HP DeskJet 505J", 5)


def test_unknown_command_or_byte_is_refused_with_its_offset() -> None:
    with pytest.raises(PdlError, match=r"ESC _ 0x51 at offset \d+"):
        dj505j.scan(SETUP + b"\x1b_Q\x0c")
    with pytest.raises(PdlError, match=r"byte 0x41 in a DeskJet 505J job at offset 5"):
        dj505j.scan(b"\x1b@\x0c\x1b@AAAA")


def test_truncated_row_counts_the_drawn_page_and_says_so() -> None:
    a = dj505j.scan(SETUP + b"\x1b_W\x10\x00abc")
    assert a.pages == 1
    assert any("truncated" in n for n in a.notes)
