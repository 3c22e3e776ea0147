"""PCL3/4/5 and PCL3GUI page counting on small hand-built jobs.

Every test runs twice: on the exact regex walk used for small jobs and on the
NumPy chain index used above `MIN_SIZE` (forced here with a tiny threshold), which
must give the same answers.
"""

from __future__ import annotations

import random

import pytest

from pagetally.errors import PdlError
from pagetally.pdl.formats import pcl
from tests.pdl.fuzzing import Outcomes

ESC = b"\x1b"
RESET = ESC + b"E"
UEL = ESC + b"%-12345X"


@pytest.fixture(params=["exact", "vectorised"])
def scan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """pcl.scan on one of its two raster paths."""
    monkeypatch.setattr(pcl, "MIN_SIZE", 1 << 40 if request.param == "exact" else 0)
    return pcl.scan


def row(data: bytes) -> bytes:
    return ESC + b"*b%dW" % len(data) + data


def test_text_pages_end_at_form_feeds(scan) -> None:  # type: ignore[no-untyped-def]
    job = RESET + b"page one\r\n\x0cpage two\r\n\x0c" + RESET
    a = scan(job)
    assert (a.pages, a.copies, a.format) == (2, 1, "PCL")
    assert a.notes == ()


def test_a_marked_last_page_without_form_feed_is_printed(scan) -> None:  # type: ignore[no-untyped-def]
    assert scan(RESET + b"one\x0ctwo" + RESET).pages == 2
    assert scan(RESET + b"one\x0ctwo").pages == 2


def test_reset_on_a_blank_page_prints_nothing(scan) -> None:  # type: ignore[no-untyped-def]
    assert scan(RESET + RESET + b"\r\n   " + RESET).pages == 0
    assert scan(RESET + b"x" + RESET + b"y" + RESET).pages == 2


def test_paper_source_ejects_only_a_marked_page(scan) -> None:  # type: ignore[no-untyped-def]
    job = RESET + ESC + b"&l0H" + b"text" + ESC + b"&l0H" + ESC + b"&l0H" + RESET
    assert scan(job).pages == 1


def test_raster_rows_are_skipped_by_length(scan) -> None:  # type: ignore[no-untyped-def]
    evil = b"\x0c\x1bE\x0c" + ESC + b"*b9W" + b"\x0c" * 9  # page ejects inside the data
    page = ESC + b"*r1A" + b"".join(row(evil) for _ in range(40)) + ESC + b"*rB\x0c"
    a = scan(RESET + page * 3 + RESET)
    assert a.pages == 3


def test_raster_y_offset_and_compression_rows_mix(scan) -> None:  # type: ignore[no-untyped-def]
    rows = b"".join(ESC + b"*b2M" + row(b"\x0c7W" * 5) + ESC + b"*b12Y" for _ in range(30))
    assert scan(RESET + rows + b"\x0c" + rows + b"\x0c" + RESET).pages == 2


def test_combined_plane_sequences_pcl3(scan) -> None:  # type: ignore[no-untyped-def]
    # one long combined sequence: planes v, empty planes w, data with FF/ESC/digits
    planes = b"".join(b"5v" + b"\x0c3v\x1b\x0c" + b"w" + b"4w" + b"12v\x0c" for _ in range(50))
    page = ESC + b"*r1A" + ESC + b"*b2m3y" + planes + b"0W" + ESC + b"*rC\x0c"
    assert scan(RESET + page * 4 + RESET).pages == 4


def test_blank_raster_marks_nothing(scan) -> None:  # type: ignore[no-untyped-def]
    blank = (ESC + b"*b0W") * 20
    assert scan(RESET + blank + RESET).pages == 0


def test_copies_multiply_the_pages(scan) -> None:  # type: ignore[no-untyped-def]
    a = scan(RESET + ESC + b"&l3X" + b"a\x0cb\x0c" + RESET)
    assert (a.pages, a.copies) == (6, 3)


def test_copies_in_effect_at_each_eject(scan) -> None:  # type: ignore[no-untyped-def]
    a = scan(RESET + ESC + b"&l2X" + b"a\x0c" + ESC + b"&l1x3X" + b"b\x0c" + RESET)
    assert a.pages == 5
    assert a.copies == 3
    assert any("copies vary" in n for n in a.notes)


def test_absurd_copies_fall_back_to_one(scan) -> None:  # type: ignore[no-untyped-def]
    assert scan(RESET + ESC + b"&l0X" + b"a\x0c").pages == 1
    assert scan(RESET + ESC + b"&l100000X" + b"a\x0c").pages == 32767  # GhostPCL: the most


def test_hpgl2_block_draws_and_its_form_feeds_are_not_ejects(scan) -> None:  # type: ignore[no-untyped-def]
    hpgl = ESC + b"%0BIN;SP1;PU10,10;PD100,100;\x0cLBtext\x03;" + ESC + b"%0A"
    assert scan(RESET + hpgl + b"\x0c" + RESET).pages == 1
    assert scan(RESET + hpgl + RESET).pages == 1  # marked by the drawing, ejected by reset


def test_hpgl2_setup_only_marks_nothing(scan) -> None:  # type: ignore[no-untyped-def]
    assert scan(RESET + ESC + b"%0BIN;SP1;" + ESC + b"%0A" + RESET).pages == 0


def test_pjl_wrapper_is_tolerated(scan) -> None:  # type: ignore[no-untyped-def]
    job = (
        UEL
        + b'@PJL JOB NAME="x"\r\n@PJL ENTER LANGUAGE=PCL\r\n'
        + RESET
        + b"hello\x0c"
        + RESET
        + UEL
        + b"@PJL EOJ\r\n"
        + UEL
    )
    assert scan(job).pages == 1


def test_uel_ends_a_marked_page(scan) -> None:  # type: ignore[no-untyped-def]
    assert scan(RESET + b"hello" + UEL + b"@PJL EOJ\r\n").pages == 1


def test_fonts_and_patterns_are_skipped(scan) -> None:  # type: ignore[no-untyped-def]
    font = ESC + b")s12W" + b"\x0c" * 12 + ESC + b"(s4W" + b"\x0c\x0c\x0c\x0c"
    pattern = ESC + b"*c5W" + b"\x0c" * 5
    assert scan(RESET + font + pattern + b"A\x0c" + RESET).pages == 1


def test_pcl3gui_ungrouped_escape_is_not_text(scan) -> None:  # type: ignore[no-untyped-def]
    job = RESET + ESC + b"u300D" + ESC + b"*g2W\x0c\x0c" + ESC + b"&l0H" + RESET
    assert scan(job).pages == 0


def test_truncated_raster_counts_the_page_and_says_so(scan) -> None:  # type: ignore[no-untyped-def]
    a = scan(RESET + b"text\x0c" + ESC + b"*b100W" + b"\x00" * 10)
    assert a.pages == 2
    assert any("truncated" in n for n in a.notes)


def test_random_jobs_same_count_on_both_paths() -> None:
    """Randomly built jobs: the vectorised path agrees with the exact one and the truth."""
    rnd = random.Random(1234)
    alphabet = b"\x0c\x1b*b0123456789vwVWmyMY\x00\xff"
    for _ in range(30):
        pages = rnd.randint(0, 4)
        job = bytearray(RESET)
        for _ in range(pages):
            for _ in range(rnd.randint(1, 60)):
                data = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(1, 30)))
                if rnd.random() < 0.5:
                    job += row(data)
                else:
                    job += ESC + b"*b2m%dv" % len(data) + data + b"w" * rnd.randint(0, 3)
                    job += b"%dW" % len(data) + data
            job += b"\x0c"
        job += RESET
        exact = pcl.scan(bytes(job))
        old = pcl.MIN_SIZE
        try:
            pcl.MIN_SIZE = 0
            fast = pcl.scan(bytes(job))
        finally:
            pcl.MIN_SIZE = old
        assert exact.pages == fast.pages == pages


# fragments a refusal starts from: bare raster planes running into text, PJL
# entering another language
_REFUSED_FROM = (ESC + b"*b507Y0v0v12vQ", ESC + b"%-12345X@PJL ENTER LANGUAGE=PCLXL\n")


def test_garbage_is_refused_with_an_offset_or_counted_within_bounds() -> None:
    rnd = random.Random(99)
    outcomes = Outcomes(max_copies=pcl.MAX_COPIES)
    for _ in range(200):
        blob = bytes(rnd.choice(b"\x1b\x0c*&%b()lsWVXHEA0123456789-.+\x00\xff") for _ in range(200))
        if rnd.random() < 0.2:
            cut = rnd.randrange(len(blob))
            blob = blob[:cut] + rnd.choice(_REFUSED_FROM) + blob[cut:]
        outcomes.check(pcl.scan, blob)
    outcomes.assert_both_paths()


def test_detect() -> None:
    parser = pcl.PARSERS[0]
    assert parser.detect(RESET + ESC + b"&l0O" + ESC + b"*r0F") >= 0.9
    assert parser.detect(b"\x00" * 600 + RESET + ESC + b"&l1H") >= 0.9  # PCL3GUI padding
    assert parser.detect(ESC + b"*rbC" + ESC + b"*t150R" + ESC + b"&l2A" + ESC + b"*o1D") >= 0.9
    assert parser.detect(b"%!PS-Adobe-3.0\n") == 0.0
    assert parser.detect(b") HP-PCL XL;2;0\n") == 0.0
    assert parser.detect(b"") == 0.0


def test_limits_stop_hostile_jobs() -> None:
    from pagetally.errors import LimitReached
    from pagetally.pdl.base import Limits

    with pytest.raises(LimitReached):
        pcl.scan(RESET + b"x\x0c" * 20, Limits(max_pages=10))
    with pytest.raises(LimitReached):
        pcl.scan(RESET + (ESC + b"&a1R") * 40_000, Limits(max_seconds_per_mb=0.0))


# --- DeskJet and PaintJet dialects (shapes of Ghostscript's cdj850/cdj1600/pj/lj250) ---

CONFIG = ESC + b"*g26W" + bytes(26)  # configure raster data (PCL3GUI)


def deskjet_page(rows: int, blank_first: bool = True) -> bytes:
    """A cdj850-style page: a combined sequence, ended by ESC *b#Y, then bare planes."""
    body = ESC + b"*b9m"
    if blank_first:
        body += ESC + b"*b507Y"
    for _ in range(rows):
        body += b"0v0v5v\x0c\x1bE\x0c\x0c" + b"3w\x0c\x0c\x0c"
    body += ESC + b"*b0V" + b"0v4v\x0c\x0c\x0c\x0c0w"
    return body + b"0M" + ESC + b"*rC" + RESET + ESC + b"&l0H"


def test_deskjet_bare_planes_after_an_ended_sequence(scan) -> None:  # type: ignore[no-untyped-def]
    """cdj850/cdj670/cdj890 write `ESC *b507Y` then `0v0v12v…`: counted 116,146 for 16 once."""
    job = ESC + b"*rbC" + RESET + CONFIG + b"".join(deskjet_page(30) for _ in range(4))
    a = scan(job)
    assert a.pages == 4


def test_deskjet_bare_planes_with_planes_set_by_raster_start(scan) -> None:  # type: ignore[no-untyped-def]
    """cdj1600: `ESC *r2329s-3u0A`, then `ESC *b617Yv120v…` (an empty parameter)."""
    page = ESC + b"*r2329s-3u0A" + ESC + b"*b3m" + ESC + b"*b368Y" + b"v6v\x0c\x0c\x0c\x0c\x0c\x0c"
    page += b"6w" + b"\x0c" * 6 + b"0M" + ESC + b"*rC" + RESET + ESC + b"&l0H"
    assert scan(UEL + b"@PJL enter language = PCL\n" + page * 3).pages == 3


def test_bare_planes_that_do_not_end_at_an_escape_are_refused(scan) -> None:  # type: ignore[no-untyped-def]
    job = RESET + CONFIG + ESC + b"*b5Y" + b"3v\x0c\x0c\x0c" + b"hello\x0c" + RESET
    with pytest.raises(PdlError, match=r"offset \d+"):
        scan(job)


def test_bare_parameters_are_text_without_deskjet_planes(scan) -> None:  # type: ignore[no-untyped-def]
    """A LaserJet job has no plane set-up: `3v` after a row is text, its form feeds eject."""
    job = RESET + ESC + b"*b5Y" + b"3v\x0c\x0c\x0c" + RESET
    assert scan(job).pages == 3


def test_paintjet_reset_then_form_feed_is_one_page(scan) -> None:  # type: ignore[no-untyped-def]
    for res in (b"180", b"90"):
        page = ESC + b"*rbC" + ESC + b"*t" + res + b"R" + ESC + b"*r3u0A"
        page += ESC + b"*b1m4v\x0c\x0c\x0c\x0c0W"
        job = page + b"0M" + ESC + b"*rbC" + RESET + b"\x0c"
        assert scan(job * 4).pages == 4
    # a LaserJet prints the reset's page and a blank one (GhostPCL: 2)
    assert scan(RESET + b"text" + RESET + b"\x0c" + RESET).pages == 2


def test_dec_lj250_pcl_emulation_brackets(scan) -> None:  # type: ignore[no-untyped-def]
    page = ESC + b"%8" + ESC + b"*rB" + ESC + b"*t180R" + ESC + b"*r3U" + row(b"\x0c\x0cab")
    page += ESC + b"*r0B\x0c" + ESC + b"%@"
    assert scan(page * 3).pages == 3
    assert pcl.PARSERS[0].detect(page) >= 0.9


def test_pjl_entering_another_language_is_refused_not_read_as_pcl(scan) -> None:  # type: ignore[no-untyped-def]
    """hpcups' JetReady: `ESC E`, then PJL entering PCL XL (was read as PCL: 5,230 for 2)."""
    xl = RESET + UEL + b"@PJL SET RESOLUTION=600\n@PJL ENTER LANGUAGE=PCLXL\n"
    xl += b") HP-PCL XL;3;0;Comment\n" + b"\x0c\x1bE\x0c" * 50
    assert pcl.PARSERS[0].detect(xl) == 0.0
    with pytest.raises(PdlError, match=r"offset \d+ enters LANGUAGE=PCLXL"):
        scan(xl)
    gui = UEL + b"@PJL ENTER LANGUAGE=PCL3GUI\n" + RESET + b"text\x0c"
    assert scan(RESET + gui).pages == 1


def test_configure_image_data_draws_nothing(scan) -> None:  # type: ignore[no-untyped-def]
    """hpijs' PCL3GUI set-up: `ESC *v6W` + data, then `ESC &l-2H` (3 counted for 2 once)."""
    setup = ESC + b"*o5W" + b"\x0c" * 5 + ESC + b"*v6W" + b"abcdef" + ESC + b"*g20W" + bytes(20)
    page = ESC + b"*r1A" + row(b"\xff" * 8) + ESC + b"*b0Y\x0c"
    job = b"\x00" * 600 + RESET + UEL + b"@PJL ENTER LANGUAGE=PCL3GUI\n"
    job += ESC + b"&l7H" + setup + ESC + b"&l-2H" + page * 2 + RESET + UEL
    assert scan(job).pages == 2


def test_fractional_line_spacing_still_fills_pages(scan) -> None:  # type: ignore[no-untyped-def]
    """ESC &l0.5C: 1/96 inch a line, 960 lines on a letter page (GhostPCL: 3 pages)."""
    job = RESET + ESC + b"&l0.5C" + b"x\r\n" * 2000 + RESET
    assert scan(job).pages == 3


def test_random_command_streams_raise_only_pdl_errors_and_agree_on_both_paths() -> None:
    """Macros, line settings, moves, raster and text in random order: no crash, one answer."""
    rnd = random.Random(77)
    pieces = [b"&f1Y", b"&f0X", b"&f1X", b"&f2X", b"&f3X", b"&f4X", b"&f5X", b"&f10X",
              b"&l3C", b"&l12D", b"&l5E", b"&l20F", b"&l0L", b"&l1O", b"&l26A", b"&l2X",
              b"&a30R", b"&a+400V", b"*p900Y", b"&k1G", b"&s0C", b"*r-3U", b"*g4W\x0c\n\x1bE",
              b"*b3W\x0c\n\x0c", b"*b2Y", b"&l1H", b"&a2G", b"=", b"E",
              b"*b507Y0v0v12vQ"]  # fmt: skip
    outcomes = Outcomes(max_copies=pcl.MAX_COPIES)
    for _ in range(150):
        job = bytearray(RESET)
        for _ in range(rnd.randint(1, 40)):
            r = rnd.random()
            if r < 0.6:
                job += ESC + rnd.choice(pieces)
            elif r < 0.9:
                job += b"text line\r\n" * rnd.randint(1, 90)
            else:
                job += b"\x0c"
        answers = []
        for size in (1 << 40, 0):
            old = pcl.MIN_SIZE
            pcl.MIN_SIZE = size
            try:
                got = outcomes.check(pcl.scan, bytes(job))
                answers.append(got if isinstance(got, str) else got.pages)
            finally:
                pcl.MIN_SIZE = old
        assert answers[0] == answers[1], bytes(job)
    outcomes.assert_both_paths()
