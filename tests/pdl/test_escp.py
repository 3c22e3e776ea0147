"""ESC/P and ESC/P2 page counting on small hand-built jobs."""

from __future__ import annotations

import random

from pagetally.errors import PdlError
from pagetally.pdl.formats import escp

ESC = b"\x1b"
INIT = ESC + b"@"
FF = b"\x0c"


def packbits(raw: bytes) -> bytes:
    """TIFF packbits: literal runs only, at most 128 bytes each (enough for tests)."""
    out = b""
    for i in range(0, len(raw), 128):
        chunk = raw[i : i + 128]
        out += bytes([len(chunk) - 1]) + chunk
    return out


def test_text_pages_end_at_form_feeds() -> None:
    a = escp.scan(INIT + b"page one\r\n" + FF + b"page two\r\n" + FF + INIT)
    assert (a.pages, a.copies, a.format, a.notes) == (2, 1, "ESC/P", ())


def test_last_page_without_form_feed_is_counted_with_a_note() -> None:
    a = escp.scan(INIT + b"one" + FF + b"two")
    assert a.pages == 2
    assert any("no form feed" in n for n in a.notes)


def test_bit_images_are_skipped_by_columns() -> None:
    cols = 40
    star = ESC + b"*!" + bytes([cols, 0]) + FF * (cols * 3)  # 24-pin: 3 bytes a column
    eight = ESC + b"L" + bytes([cols, 0]) + FF * cols  # 8-pin: 1 byte a column
    nine = ESC + b"^\x00" + bytes([cols, 0]) + FF * (cols * 2)  # 9-pin: 2 bytes a column
    assert escp.scan(INIT + (star + eight + nine + b"\r" + FF) * 3).pages == 3


def test_unknown_bit_image_mode_is_not_data() -> None:
    # Ghostscript's escp device opens with PCL-like ESC*rbC ESC*t150R
    job = ESC + b"*rbC" + ESC + b"*t150R" + ESC + b"|J\x00a\r" + ESC + b"\\\x10\x00"
    row = ESC + b"|B0" + bytes([6, 0]) + FF * 6
    assert escp.scan(job + row * 5 + FF + row + FF + INIT).pages == 2


def test_esc_p2_raster_uncompressed_and_run_length() -> None:
    dots, rows = 64, 2  # 8 bytes a row
    plain = ESC + b".\x00\x14\x14" + bytes([rows]) + bytes([dots, 0]) + FF * 16
    rle = ESC + b".\x01\x14\x14" + bytes([rows]) + bytes([dots, 0]) + packbits(FF * 16)
    repeat = ESC + b".\x01\x14\x14\x01" + bytes([dots, 0]) + b"\xf9" + FF  # 8 × FF
    page = ESC + b"(V\x02\x00\x10\x00" + plain + rle + repeat + b"\r"
    assert escp.scan(INIT + (page + FF) * 4 + INIT).pages == 4


def test_stylus_raster_esc_i() -> None:
    width, lines = 10, 3
    raw = ESC + b"i\x00\x00\x01" + bytes([width, 0, lines]) + FF * (width * lines)
    rle = ESC + b"i\x02\x01\x01" + bytes([width, 0, lines]) + packbits(FF * (width * lines))
    assert escp.scan(INIT + raw + rle + FF + raw + FF).pages == 2


def test_remote_mode_and_extended_commands_are_skipped() -> None:
    remote = ESC + b"(R\x08\x00\x00REMOTE1" + b"SN\x03\x00\x00\x00\x0c" + FF + ESC + b"\x00\x00\x00"
    ext = ESC + b"(G\x01\x00\x01" + ESC + b"(C\x02\x00" + FF * 2 + ESC + b"(c\x04\x00" + FF * 4
    assert escp.scan(remote + INIT + ext + b"x" + FF + INIT + remote).pages == 1


def test_ejl_wrapper_is_skipped() -> None:
    ejl = ESC + b"\x01@EJL \n@EJL SELECT LANGUAGE=ESC/P2\n"
    assert escp.scan(ejl + INIT + b"a" + FF + b"b" + FF).pages == 2


def test_stcolor_trap_compressed_rows_full_of_form_feeds() -> None:
    """pkpgcounter's miscount: FF bytes in ESC . 1 rows are data, not page ejects."""
    row = ESC + b"(V\x02\x00\x3a\x00" + ESC + b".\x01(\x18\x01\x18\x04" + packbits(FF * 131) + b"\r"
    assert escp.scan(INIT + row * 50 + INIT + FF + INIT + row * 20 + INIT + FF).pages == 2


def test_truncated_graphics_says_so() -> None:
    a = escp.scan(INIT + b"a" + FF + ESC + b"*!" + bytes([200, 0]) + b"\x00" * 10)
    assert a.pages == 2  # the partly sent graphics still put a page out
    assert any("truncated" in n for n in a.notes)


def test_garbage_raises_only_pdl_errors() -> None:
    rnd = random.Random(5)
    for _ in range(300):
        blob = bytes(rnd.choice(b"\x1b\x0c*.(i|KL^&R@\x00\x01\x80\xff") for _ in range(200))
        try:
            escp.scan(blob)
        except PdlError:
            pass


def test_detect() -> None:
    parser = escp.PARSERS[0]
    assert parser.detect(INIT + ESC + b"(G\x01\x00\x01") >= 0.9
    assert parser.detect(ESC + b"\x01@EJL \n") >= 0.9
    assert parser.detect(INIT + b"plain text") > 0.0
    gs_escp = (
        ESC + b"*rbC" + ESC + b"*t150R" + ESC + b"|J\x00a\r" + ESC + b"\\\xa3\x00" + ESC + b"|B0"
    )
    assert parser.detect(gs_escp) > 0.6  # beats PCL's guess on its ESC*rbC prefix
    assert parser.detect(b"\x1bE\x1b&l0O") == 0.0
    assert parser.detect(b"") == 0.0
