"""ESC/P and ESC/P2 page counting on small hand-built jobs.

The tests that take a `scan` run twice: on the exact walk used for small jobs and
on the NumPy command index used above `MIN_SIZE` (forced here with a zero
threshold), which must give the same answers.
"""

from __future__ import annotations

import random

import pytest

from pagetally.errors import PdlError
from pagetally.pdl.formats import escp
from tests.pdl.fuzzing import Outcomes

ESC = b"\x1b"
INIT = ESC + b"@"
FF = b"\x0c"
GRAPHICS = ESC + b"(G\x01\x00\x01"  # raster graphics mode: strict from here on


@pytest.fixture(params=["exact", "vectorised"])
def scan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """escp.scan on one of its two paths."""
    monkeypatch.setattr(escp, "MIN_SIZE", 1 << 40 if request.param == "exact" else 0)
    return escp.scan


def le16(n: int) -> bytes:
    return bytes([n & 0xFF, n >> 8])


def packbits(raw: bytes) -> bytes:
    """TIFF packbits: literal runs only, at most 128 bytes each (enough for tests)."""
    out = b""
    for i in range(0, len(raw), 128):
        chunk = raw[i : i + 128]
        out += bytes([len(chunk) - 1]) + chunk
    return out


def test_text_pages_end_at_form_feeds(scan) -> None:  # type: ignore[no-untyped-def]
    a = scan(INIT + b"page one\r\n" + FF + b"page two\r\n" + FF + INIT)
    assert (a.pages, a.copies, a.format, a.notes) == (2, 1, "ESC/P", ())


def test_last_page_without_form_feed_is_counted_with_a_note(scan) -> None:  # type: ignore[no-untyped-def]
    a = scan(INIT + b"one" + FF + b"two")
    assert a.pages == 2
    assert any("no form feed" in n for n in a.notes)


def test_bit_images_are_skipped_by_columns(scan) -> None:  # type: ignore[no-untyped-def]
    cols = 40
    star = ESC + b"*!" + bytes([cols, 0]) + FF * (cols * 3)  # 24-pin: 3 bytes a column
    eight = ESC + b"L" + bytes([cols, 0]) + FF * cols  # 8-pin: 1 byte a column
    nine = ESC + b"^\x00" + bytes([cols, 0]) + FF * (cols * 2)  # 9-pin: 2 bytes a column
    assert scan(INIT + (star + eight + nine + b"\r" + FF) * 3).pages == 3


def test_unknown_bit_image_mode_is_not_data(scan) -> None:  # type: ignore[no-untyped-def]
    # Ghostscript's escp device opens with PCL-like ESC*rbC ESC*t150R
    job = ESC + b"*rbC" + ESC + b"*t150R" + ESC + b"|J\x00a\r" + ESC + b"\\\x10\x00"
    row = ESC + b"|B0" + bytes([6, 0]) + FF * 6
    assert scan(job + row * 5 + FF + row + FF + INIT).pages == 2


def test_esc_p2_raster_uncompressed_and_run_length(scan) -> None:  # type: ignore[no-untyped-def]
    dots, rows = 64, 2  # 8 bytes a row
    plain = ESC + b".\x00\x14\x14" + bytes([rows]) + bytes([dots, 0]) + FF * 16
    rle = ESC + b".\x01\x14\x14" + bytes([rows]) + bytes([dots, 0]) + packbits(FF * 16)
    repeat = ESC + b".\x01\x14\x14\x01" + bytes([dots, 0]) + b"\xf9" + FF  # 8 × FF
    page = ESC + b"(V\x02\x00\x10\x00" + plain + rle + repeat + b"\r"
    assert scan(INIT + (page + FF) * 4 + INIT).pages == 4


def test_stylus_raster_esc_i(scan) -> None:  # type: ignore[no-untyped-def]
    """Gutenprint's rows: ESC i colour compression bits, bytes a row and rows (16-bit each)."""
    width, lines = 10, 3
    raw = ESC + b"i\x00\x00\x01" + le16(width) + le16(lines) + FF * (width * lines)
    rle = ESC + b"i\x02\x01\x02" + le16(width) + le16(lines) + packbits(FF * (width * lines))
    assert scan(INIT + raw + rle + FF + raw + FF).pages == 2
    many = 300  # more than 255 rows in one command (Gutenprint's 9600 at economy)
    tall = ESC + b"i\x00\x01\x02" + le16(width) + le16(many) + packbits(FF * (width * many))
    assert scan(INIT + GRAPHICS + tall + b"\r" + FF + tall + FF + INIT).pages == 2


def test_remote_mode_and_extended_commands_are_skipped(scan) -> None:  # type: ignore[no-untyped-def]
    remote = ESC + b"(R\x08\x00\x00REMOTE1" + b"SN\x04\x00\x00\x00\x0c" + FF + ESC + b"\x00\x00\x00"
    ext = ESC + b"(G\x01\x00\x01" + ESC + b"(C\x02\x00" + FF * 2 + ESC + b"(c\x04\x00" + FF * 4
    row = ESC + b"i\x00\x00\x01" + le16(2) + le16(1) + FF * 2
    assert scan(remote + INIT + ext + row + FF + INIT + remote).pages == 1


def test_graphics_mode_refuses_what_it_cannot_follow(scan) -> None:  # type: ignore[no-untyped-def]
    """After ESC ( G the job is a driver's: a stray byte, an unknown command, an unknown
    compression or a cut row is refused with its offset, never counted."""
    row = ESC + b"i\x00\x01\x01" + le16(4) + le16(2) + packbits(FF * 8)
    head = INIT + GRAPHICS + row
    bad = {
        b"x": "unexpected byte 0x78 at offset 26",
        ESC + b"\x11": "ESC 0x11 at offset 26",
        ESC + b".\x02\x14\x14\x01\x08\x00\x00": "ESC . compression 2 at offset 26",
    }
    for tail, message in bad.items():
        with pytest.raises(PdlError, match=message):
            scan(head + tail + FF + INIT)
    with pytest.raises(PdlError, match="ends inside a raster command"):
        scan(head + FF + row[:-3])
    with pytest.raises(PdlError, match="remote mode from offset 0"):
        scan(ESC + b"(R\x08\x00\x00REMOTE1" + b"SN\x09\x00\x00" + head)
    assert scan(head + b"\r\n\x00 " + FF + INIT + b"text after a reset" + FF).pages == 2


def test_ejl_wrapper_is_skipped(scan) -> None:  # type: ignore[no-untyped-def]
    ejl = ESC + b"\x01@EJL \n@EJL SELECT LANGUAGE=ESC/P2\n"
    assert scan(ejl + INIT + b"a" + FF + b"b" + FF).pages == 2


def test_stcolor_trap_compressed_rows_full_of_form_feeds(scan) -> None:  # type: ignore[no-untyped-def]
    """pkpgcounter's miscount: FF bytes in ESC . 1 rows are data, not page ejects."""
    row = ESC + b"(V\x02\x00\x3a\x00" + ESC + b".\x01(\x18\x01\x18\x04" + packbits(FF * 131) + b"\r"
    assert scan(INIT + row * 50 + INIT + FF + INIT + row * 20 + INIT + FF).pages == 2


def test_truncated_graphics_says_so(scan) -> None:  # type: ignore[no-untyped-def]
    a = scan(INIT + b"a" + FF + ESC + b"*!" + bytes([200, 0]) + b"\x00" * 10)
    assert a.pages == 2  # the partly sent graphics still put a page out
    assert any("truncated" in n for n in a.notes)


def test_random_jobs_same_count_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random rows of every modelled command: both paths agree with the truth."""
    rnd = random.Random(11)
    alphabet = b"\x1b\x0c.(*|iKL^\x01\x80\xff\r"
    for _ in range(40):
        pages = rnd.randint(0, 4)
        job = bytearray(INIT)
        for _ in range(pages):
            for _ in range(rnd.randint(1, 40)):
                data = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(1, 40)))
                kind = rnd.randrange(6)
                if kind == 0:
                    job += ESC + b".\x01\x14\x14\x01" + le16(len(data) * 8) + packbits(data)
                elif kind == 1:
                    job += ESC + b".\x00\x14\x14\x01" + le16(len(data) * 8) + data
                elif kind == 2:
                    job += ESC + b"(V\x02\x00" + data[:2].ljust(2, b"\x00")
                elif kind == 3:
                    job += ESC + b"*\x27" + bytes([len(data), 0]) + data * 3
                elif kind == 4:
                    job += ESC + b"|B0" + bytes([len(data), 0]) + data
                else:
                    job += ESC + b"i\x01\x01\x01" + le16(len(data)) + le16(1) + packbits(data)
                job += b"\r" * rnd.randint(0, 2)
            job += FF
        job += INIT
        monkeypatch.setattr(escp, "MIN_SIZE", 1 << 40)
        exact = escp.scan(bytes(job))
        monkeypatch.setattr(escp, "MIN_SIZE", 0)
        fast = escp.scan(bytes(job))
        assert exact.pages == fast.pages == pages


# fragments a refusal starts from: remote mode (ESC ( R) and raster graphics mode
_REFUSED_FROM = (ESC + b"(R\x08\x00\x00REMOTE1", ESC + b"(G\x01\x00\x01" + ESC + b".\x01")


def test_garbage_is_refused_with_an_offset_or_counted_within_bounds() -> None:
    rnd = random.Random(5)
    outcomes = Outcomes(max_copies=1)
    for _ in range(300):
        blob = bytes(rnd.choice(b"\x1b\x0c*.(i|KL^&R@\x00\x01\x80\xff") for _ in range(200))
        if rnd.random() < 0.2:
            cut = rnd.randrange(len(blob))
            blob = blob[:cut] + rnd.choice(_REFUSED_FROM) + blob[cut:]
        outcomes.check(escp.scan, blob)
    outcomes.assert_both_paths()


def test_detect() -> None:
    parser = escp.PARSERS[0]
    assert parser.detect(INIT + ESC + b"(G\x01\x00\x01") >= 0.9
    assert parser.detect(ESC + b"\x01@EJL 1284.4\n@EJL     \n" + INIT + INIT) >= 0.9
    esc_page = ESC + b"\x01@EJL \n@EJL SELECT LANGUAGE=ESC/PAGE\n@EJL ENTER LANGUAGE=ESC/PAGE\n"
    assert parser.detect(esc_page + ESC + b"\x1d1mmE") == 0.0  # Epson ESC/Page, not ESC/P
    assert parser.detect(INIT + b"plain text") > 0.0
    gs_escp = (
        ESC + b"*rbC" + ESC + b"*t150R" + ESC + b"|J\x00a\r" + ESC + b"\\\xa3\x00" + ESC + b"|B0"
    )
    assert parser.detect(gs_escp) > 0.6  # beats PCL's guess on its ESC*rbC prefix
    assert parser.detect(b"\x1bE\x1b&l0O") == 0.0
    assert parser.detect(b"") == 0.0


def test_limits_stop_hostile_jobs() -> None:
    from pagetally.errors import LimitReached
    from pagetally.pdl.base import Limits

    with pytest.raises(LimitReached):
        escp.scan(INIT + b"x\x0c" * 20, Limits(max_pages=10))
    with pytest.raises(LimitReached):
        escp.scan(INIT + (ESC + b"J\x01") * 40_000, Limits(max_seconds_per_mb=0.0))
