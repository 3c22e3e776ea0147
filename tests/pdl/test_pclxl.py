"""PCL XL page counting on small hand-built streams.

Every test runs on both walkers: the interpreted regular-expression walker and the
plain token loop (`_pclxl_tokens.walk`, compiled by mypyc when built, interpreted
otherwise; fed in windows).
"""

from __future__ import annotations

import functools
import random
import struct

import pytest

from pagetally.errors import CorruptData, PdlError
from pagetally.pdl.formats import _pclxl_tokens, pclxl
from tests.pdl.fuzzing import Outcomes

_MAX_COPIES = 0xFFFF  # PageCopies is read from a ubyte or uint16 value (pclxl.py)
HEADER_LE = b") HP-PCL XL;2;0;Comment made by hand\n"
HEADER_BE = b"( HP-PCL XL;2;0\n"
UEL = b"\x1b%-12345X"
SESSION = b"\xd1\x58\x02\x58\x02\xf8\x89\xc0\x00\xf8\x86\x41"  # UnitsPerMeasure, BeginSession
OPEN_DS = b"\xc0\x00\xf8\x88\xc0\x01\xf8\x82\x48"  # OpenDataSource
BEGIN = b"\xc0\x00\xf8\x28\xc0\x02\xf8\x25\x43"  # Orientation, MediaSize, BeginPage
END = b"\x44"
CLOSE = b"\x49\x42"  # CloseDataSource, EndSession


def text(chars: bytes) -> bytes:
    """SetCursor + Text: the idiom of Ghostscript's text output."""
    return b"".join(
        b"\xd3\x10\x00\x20\x00\xf8\x4c\x6b" + b"\xc8\xc0\x01" + bytes([c]) + b"\xf8\xab\xa8"
        for c in chars
    )


def image_rows(rows: list[bytes], big: bool = False) -> bytes:
    """ReadImage rows with ubyte (0xFB) or uint32 (0xFA) embedded data lengths."""
    out = []
    for r in rows:
        out.append(b"\xc1\x01\x00\xf8\x6d\xc1\x01\x00\xf8\x63\xc0\x01\xf8\x65\xb1")
        long = big or len(r) > 255
        out.append(b"\xfa" + struct.pack("<I", len(r)) if long else b"\xfb" + bytes([len(r)]))
        out.append(r)
    return b"".join(out)


def page(body: bytes = b"", copies: bytes = b"") -> bytes:
    return BEGIN + body + copies + END


def stream(*pages: bytes, header: bytes = HEADER_LE) -> bytes:
    return (
        UEL
        + b"@PJL ENTER LANGUAGE = PCLXL\r\n"
        + header
        + SESSION
        + OPEN_DS
        + b"".join(pages)
        + CLOSE
        + UEL
    )


@pytest.fixture(params=["regex", "loop"])
def scan(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    compiled = request.param == "loop"
    return lambda data: pclxl.scan(data, compiled=compiled)


def test_pages_are_end_page_operators(scan) -> None:  # type: ignore[no-untyped-def]
    a = scan(stream(page(text(b"Hello")), page(text(b"CD" * 20)), page()))
    assert (a.pages, a.copies, a.format, a.notes) == (3, 1, "PCL XL", ())


def test_operator_bytes_inside_data_are_skipped(scan) -> None:  # type: ignore[no-untyped-def]
    cd = b"CDCDCD\x1b\x44\x43" * 10
    body = (
        text(b"CDCD")
        + image_rows([cd[:40]] * 30)
        + image_rows([cd * 5], big=True)
        + b"\xc8\xc1\x2c\x01" + b"D" * 300 + b"\xf8\xab\xa8"  # uint16-length array
        + b"\xc9\xc0\x03" + b"CDCDCD" + b"\xf8\xab\xa8"  # uint16 elements
        + b"\xe1" + b"C" * 8 + b"\xf8\x4c\x6b"  # uint16 box with C bytes
    )  # fmt: skip
    assert scan(stream(page(body), page(body))).pages == 2


def test_page_copies_attribute_multiplies(scan) -> None:  # type: ignore[no-untyped-def]
    a = scan(
        stream(page(text(b"a"), b"\xc1\x03\x00\xf8\x31"), page(text(b"b"), b"\xc1\x03\x00\xf8\x31"))
    )
    assert (a.pages, a.copies) == (6, 3)


def test_page_copies_as_ubyte_and_varying(scan) -> None:  # type: ignore[no-untyped-def]
    a = scan(stream(page(b"", b"\xc0\x02\xf8\x31"), page(b"")))
    assert (a.pages, a.copies) == (3, 2)
    assert any("copies vary" in n for n in a.notes)


def test_big_endian_binding(scan) -> None:  # type: ignore[no-untyped-def]
    be_image = b"\xb1\xfa" + struct.pack(">I", 300) + b"D" * 300
    data = stream(page(be_image, b"\xc1\x00\x02\xf8\x31"), header=HEADER_BE)
    assert scan(data).pages == 2


def test_two_streams_in_one_job(scan) -> None:  # type: ignore[no-untyped-def]
    assert scan(stream(page(), page()) + stream(page())).pages == 3


def test_truncated_stream_counts_the_open_page(scan) -> None:  # type: ignore[no-untyped-def]
    data = stream(page(text(b"x")), page(image_rows([b"\x00" * 200])))
    cut = data[: data.rindex(b"\x00" * 200) + 50]
    a = scan(cut)
    assert a.pages == 2
    assert any("truncated" in n for n in a.notes)
    assert any("not ended" in n for n in a.notes)


def test_invalid_byte_after_pages_is_lenient(scan) -> None:  # type: ignore[no-untyped-def]
    data = UEL + HEADER_LE + SESSION + page() + b"\x01\x02garbage"
    a = scan(data)
    assert a.pages == 1
    assert any("invalid PCL XL byte" in n for n in a.notes)


def test_invalid_stream_without_pages_is_corrupt(scan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CorruptData):
        scan(HEADER_LE + b"\x01\x02\x03")


def test_no_header_is_corrupt(scan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CorruptData):
        scan(b"\x1bE\x1b&l0O hello")


def test_ascii_binding() -> None:
    data = b"' HP-PCL XL;2;0\nBeginSession\nBeginPage\nEndPage\nBeginPage\n3 PageCopies EndPage\n"
    a = pclxl.scan(data)
    assert (a.pages, a.copies) == (4, 3)


def test_loop_walker_across_small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows cut tokens, arrays and a PageCopies value: the answers do not change."""
    data = stream(
        page(text(b"CDx") + image_rows([b"D" * 30] * 3), b"\xc1\x02\x00\xf8\x31"),
        page(text(b"y"), b"\xc1\x05\x00\xf8\x31"),
    )
    want = pclxl.scan(data, compiled=False)
    for window in range(7, 40):
        monkeypatch.setattr(pclxl, "_WINDOW", window)
        got = pclxl.scan(data, compiled=True)
        assert (got.pages, got.copies) == (want.pages, want.copies) == (7, 5), window


def test_walkers_agree_on_random_streams() -> None:
    rnd = random.Random(7)
    for _ in range(40):
        pages = []
        for _ in range(rnd.randint(0, 5)):
            body = b""
            for _ in range(rnd.randint(0, 8)):
                kind = rnd.random()
                blob = bytes(
                    rnd.choice(b"CD\x1b\xfa\xfb\xc8\xf8\x31") for _ in range(rnd.randint(1, 80))
                )
                body += text(blob[:5]) if kind < 0.5 else image_rows([blob], big=kind > 0.8)
            copies = (
                b"\xc1" + bytes([rnd.randint(1, 4), 0]) + b"\xf8\x31" if rnd.random() < 0.3 else b""
            )
            pages.append(page(body, copies))
        data = stream(*pages)
        a, b = pclxl.scan(data, compiled=False), pclxl.scan(data, compiled=True)
        assert (a.pages, a.copies, a.notes) == (b.pages, b.copies, b.notes)


def test_garbage_is_refused_with_an_offset_or_counted_within_bounds() -> None:
    rnd = random.Random(3)
    outcomes = Outcomes(max_copies=_MAX_COPIES)
    for _ in range(200):
        blob = HEADER_LE + bytes(
            rnd.choice(b"CD\x1b\xfa\xfb\xc0\xc1\xc8\xc9\xf8\x31\x00\xff") for _ in range(100)
        )
        for compiled in (False, True):
            outcomes.check(functools.partial(pclxl.scan, compiled=compiled), blob)
    outcomes.assert_both_paths()


def test_walk_status_codes() -> None:
    counts = [0, 0, 0, 0, 1 << 30, 0, -1, -1]
    assert _pclxl_tokens.walk(b"\x43\x44\x1b", 0, False, counts) == (2, _pclxl_tokens.AT_ESC)
    assert counts[:2] == [1, 1]
    assert _pclxl_tokens.walk(b"\x43\x07", 0, False, counts)[1] == _pclxl_tokens.INVALID
    assert _pclxl_tokens.walk(b"\xc1\x01", 0, False, counts)[1] == _pclxl_tokens.NEED_MORE


def test_detect() -> None:
    parser = pclxl.PARSERS[0]
    assert parser.detect(HEADER_LE + SESSION) == 1.0
    assert parser.detect(UEL + b"@PJL ENTER LANGUAGE=PCLXL\n" + HEADER_LE) == 1.0
    assert parser.detect(b"\x1bE\x1b&l0O") == 0.0
    assert parser.detect(b"") == 0.0


@pytest.mark.parametrize("compiled", [False, True])
def test_limits_stop_hostile_jobs(compiled: bool) -> None:
    from pagetally.errors import LimitReached
    from pagetally.pdl.base import Limits

    with pytest.raises(LimitReached):
        pclxl.scan(stream(*[page()] * 20), Limits(max_pages=10), compiled=compiled)
    many = stream(page(image_rows([b"\x00"] * 20_000)))
    with pytest.raises(LimitReached):
        pclxl.scan(many, Limits(max_seconds_per_mb=0.0), compiled=compiled)


def random_token(rnd: random.Random) -> bytes:
    """One valid PCL XL token (little-endian) of any kind, random values."""
    kind = rnd.randrange(9)
    anyb = bytes(rnd.randrange(256) for _ in range(16))
    if kind == 0:  # scalars, xy pairs, boxes
        tag = rnd.choice([0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xD0, 0xD1, 0xD2, 0xD3, 0xE0, 0xE1])
        return bytes([tag]) + anyb[: pclxl.tokens.SIZES[tag]]
    if kind == 1:  # attribute ids (PageCopies often)
        return b"\xf8" + rnd.choice([b"\x31", b"\x4c", b"\xab", b"\x0b", b"\x42", anyb[:1]])
    if kind == 2:
        return b"\xf9" + anyb[:2]
    if kind == 3:  # operators, page ones too
        return bytes(
            [rnd.choice([0x43, 0x44, 0x6B, 0xA8, 0x63, 0xA0, 0xB1, rnd.randrange(0x41, 0xC0)])]
        )
    if kind == 4:  # arrays with ubyte or uint16 lengths
        tag = rnd.choice(list(range(0xC8, 0xCE)))
        count = rnd.choice([0, 1, 2, 3, 5, 30, 300])
        size = {0xC8: 1, 0xC9: 2, 0xCA: 4, 0xCB: 2, 0xCC: 4, 0xCD: 4}[tag] * count
        length = b"\xc0" + bytes([count]) if count < 256 else b"\xc1" + struct.pack("<H", count)
        return bytes([tag]) + length + bytes(rnd.choice(b"CD\x1b\xfb") for _ in range(size))
    if kind == 5:
        n = rnd.choice([0, 1, 3, 40, 255])
        return b"\xfb" + bytes([n]) + bytes(rnd.choice(b"CD\x1b") for _ in range(n))
    if kind == 6:
        n = rnd.choice([0, 7, 300])
        return b"\xfa" + struct.pack("<I", n) + b"D" * n
    if kind == 7:  # the idioms the regex walker takes in one step
        return rnd.choice(
            [
                b"\xd3\x01\x02\x03\x04\xf8\x4c\x6b\xc8\xc0\x01C\xf8\xab\xa8",
                b"\xe1" + b"D" * 8 + b"\xf8\x42\xa0",
                b"\xc8\xc0\x03CDC\xf8\x0b\x63",
                b"\xc1\x01\x00\xf8\x6d\xc1\x01\x00\xf8\x63\xc0\x01\xf8\x65\xb1",
                b"\xc1\x04\x00\xf8\x31\x44",
                b"\xc0\x02\xf8\x31\x44",
                b"\xc1\x04\x00 \xf8\x31\r\n\x44",
                b"\xc1\x02\x00\xf9\x31\x00\x44",
                b"\xc2\x03\x00\x00\x00\xf8\x92\x46DCD",  # VendorUnique and 3 bytes
                b"\xc0\x02\xf8\x92 \x46CD",
                b"\xc2\x11\x20\x70\x68\xf8\x91\x46",
            ]
        )
    return rnd.choice([b" ", b"\x00", b"\r\n"])


def test_walkers_agree_on_random_token_streams() -> None:
    rnd = random.Random(2024)
    outcomes = Outcomes(max_copies=_MAX_COPIES)
    for _ in range(300):
        body = b"".join(random_token(rnd) for _ in range(rnd.randint(0, 60)))
        if rnd.random() < 0.1:  # a byte no PCL XL token starts with: refused, both ways
            cut = rnd.randint(0, len(body))
            body = body[:cut] + b"\xff" + body[cut:]
        data = HEADER_LE + body + UEL
        got: list[object] = []
        for compiled in (False, True):
            try:
                a = pclxl.scan(data, compiled=compiled)
                got.append((a.pages, a.copies, a.notes))
            except PdlError as exc:
                got.append((type(exc).__name__, str(exc)))
            outcomes.check(functools.partial(pclxl.scan, compiled=compiled), data)
        assert got[0] == got[1], body
    outcomes.assert_both_paths()


# --- crafted classes: copies and data a printer reads that a scan must not miss ---
# Truth from GhostPCL 10.09 (../shared/tools/gpcl6 -sDEVICE=pbmraw -r4, images
# counted) on Ghostscript's pxlmono output of a 2-page document with its EndPage
# attributes replaced: `c1 03 00 f8 31 44` → 6; white space (20, 00) between the
# value, the attribute and EndPage → 6; the uint16 attribute id `f9 31 00` → 6;
# 1200 and 40000 copies → 2400 and 80000 (no clamp); the value twice → the last.

SPACES = [b" ", b"\x00", b"\r\n", b"\t" * 3, b" " * 200]


@pytest.mark.parametrize("where", ["value|attr", "attr|end", "both"])
def test_page_copies_beside_white_space(scan, where: str) -> None:  # type: ignore[no-untyped-def]
    rnd = random.Random(where)
    for ws in SPACES:
        a = ws if where != "attr|end" else b""
        b = ws if where != "value|attr" else b""
        n = rnd.randint(2, 60000)
        copies = b"\xc1" + struct.pack("<H", n) + a + b"\xf8\x31" + b
        got = scan(stream(page(text(b"x"), copies), page(text(b"y"))))
        assert got.pages == n + 1, (ws, n)


def test_page_copies_with_a_uint16_attribute_id_and_given_twice(scan) -> None:  # type: ignore[no-untyped-def]
    assert scan(stream(page(b"", b"\xc1\x03\x00\xf9\x31\x00"))).pages == 3
    twice = b"\xc1\x03\x00\xf8\x31\xc1\x05\x00\xf8\x31"
    assert scan(stream(page(b"", twice))).pages == 5


def test_page_copies_cut_by_every_window(monkeypatch: pytest.MonkeyPatch) -> None:
    data = stream(page(text(b"a"), b"\xc1\x07\x00" + b" " * 40 + b"\xf8\x31" + b" " * 40))
    for window in range(20, 120, 7):
        monkeypatch.setattr(pclxl, "_WINDOW", window)
        assert pclxl.scan(data, compiled=True).pages == 7, window


def test_vendor_unique_raw_data_is_skipped(scan) -> None:  # type: ignore[no-untyped-def]
    """hpcups' JetReady/FastRaster: VUDataLength, VendorUnique, then raw bytes (no 0xFA)."""
    raw = b"\x44\x43\x44\x1b%-12345X" * 40
    vu = b"\xc2" + struct.pack("<I", len(raw)) + b"\xf8\x92\x46" + raw
    ext = b"\xc2\x11\x20\x70\x68\xf8\x91\x46"  # VendorUnique without data
    data = b"\x1bE" + stream(page(ext + vu * 3), page(vu))
    assert scan(data).pages == 2
    assert pclxl.PARSERS[0].detect(data[:4096]) == 1.0


def test_a_second_stream_far_after_the_first_is_counted(scan) -> None:  # type: ignore[no-untyped-def]
    for gap in (b"@PJL\r\n" + b"\r\n" * 35_000, b"@PJL COMMENT " + b"x" * 70_000 + b"\r\n"):
        data = stream(page()) + gap + stream(page(), page(b"", b"\xc1\x02\x00\xf8\x31"))
        assert scan(data).pages == 4, gap[:10]


def test_blank_lines_right_after_a_uel_are_pcl_pages(scan) -> None:  # type: ignore[no-untyped-def]
    """GhostPCL prints 600 blank pages for 36,000 line ends after a UEL (not PJL)."""
    data = stream(page()) + b"\r\n" * 36_000 + stream(page())
    a = scan(data)
    assert a.pages == 602
    assert any("blank lines after a UEL" in n for n in a.notes)


def test_another_language_after_a_stream_is_refused(scan) -> None:  # type: ignore[no-untyped-def]
    pcl_job = UEL + b"@PJL ENTER LANGUAGE=PCL\r\n\x1bEpage\x0c" * 5
    with pytest.raises(PdlError, match=r"offset \d+ enters LANGUAGE=PCL after"):
        scan(stream(page()) + pcl_job)
    with pytest.raises(PdlError, match=r"unexpected byte 0x50 after a PCL XL stream at offset"):
        scan(stream(page()) + b"PAGE\x0c" * 5)
