"""Crafted jobs that try to print for free: the classes, not the samples.

Each class is a small generator, varied in the ways a crafted job varies (any
case, any line length, any arithmetic for copies). The truth of every class was
established by printing the generated files with GhostPDL's `gpdl` (which
switches language per PJL job like a printer) and with Ghostscript, on a
raster device that prints copies, and counting the pages written:

    gpdl -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pbmraw -r4 -sOutputFile=out.pbm job
    gs   -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pbmraw -r4 -sOutputFile=out.pbm job.ps

(GhostPDL 10.09 and Ghostscript 10.00, December 2026; `TRUTH` below says what
they printed, as a rule of the generator's parameters.) Where GhostPDL and a
printer's manual differ (gpdl's PostScript and PDF ignore PJL COPIES and QTY,
which HP's PJL reference applies to them), the count follows the manual: more
than gpdl, never less. A count below what the printer prints is the defect
these tests kill; where the answer is unsure the job must be refused.
"""

from __future__ import annotations

import random

import pytest

from pagetally.errors import CorruptData, LimitReached, PdlError, UnknownFormat
from pagetally.pdl import analyse
from pagetally.pdl.base import Limits
from tests.pdl._pdfmake import build_pdf, hybrid_disagreeing, simple_pdf

UEL = b"\x1b%-12345X"
RNG = random.Random(9)


def pcl(pages: int) -> bytes:
    """A PCL 5 job of `pages` text pages (gpdl: `pages` pages)."""
    return b"\x1bE\x1b&l0O" + b"".join(b"page %d\x0c" % i for i in range(pages)) + b"\x1bE"


def ps(pages: int, prolog: bytes = b"") -> bytes:
    """PostScript printing `pages` pages, with DSC comments that tell the truth."""
    body = b"".join(
        b"%%%%Page: %d %d\n/Helvetica findfont 20 scalefont setfont 72 72 moveto (p%d) show "
        b"showpage\n" % (i + 1, i + 1, i)
        for i in range(pages)
    )
    return b"%!PS-Adobe-3.0\n%%Pages: " + b"%d\n" % pages + prolog + body + b"%%EOF\n"


def pjl(*lines: bytes, newline: bytes = b"\r\n") -> bytes:
    return UEL + b"".join(line + newline for line in lines)


def any_case(word: bytes) -> bytes:
    return bytes(c ^ 0x20 if RNG.random() < 0.5 and chr(c).isalpha() else c for c in word)


def exact_or_refused(job: bytes, truth: int) -> None:
    """The count is the printer's, or the job is refused: never fewer pages."""
    try:
        pages = analyse(job).pages
    except PdlError:
        return
    assert pages == truth


# --- PJL: detection and copies that cannot be steered ------------------------------


@pytest.mark.parametrize("length", [0, 100, 4090, 4096, 5000, 70_000, 1_200_000])
def test_a_long_comment_line_hides_no_copies(length: int) -> None:
    # gpdl: a PJL line ends at LF whatever its length; COPIES=3 of 2 pages prints 6.
    job = pjl(
        b"@PJL JOB",
        b"@PJL COMMENT " + b"x" * length,
        b"@PJL " + any_case(b"SET COPIES") + b" = 3",
        b"@PJL " + any_case(b"ENTER LANGUAGE") + b"=" + any_case(b"PCL"),
    )
    assert analyse(job + pcl(2) + UEL + b"@PJL EOJ\r\n" + UEL).pages == 6


@pytest.mark.parametrize("spaces", [b"", b" ", b"  \t"])
def test_enter_language_in_any_case_and_spacing(spaces: bytes) -> None:
    # gpdl: the command after @PJL is read in any case, with blanks around '='.
    line = b"@PJL " + any_case(b"enter language") + spaces + b"=" + spaces + any_case(b"pcl")
    job = pjl(b"@PJL " + any_case(b"set copies") + spaces + b"=" + spaces + b"4", line)
    assert analyse(job + pcl(3) + UEL).pages == 12


def test_enter_language_ended_by_escape() -> None:
    # gpdl: ENTER LANGUAGE's line may end at the ESC of the data (6 pages).
    job = pjl(b"@PJL SET COPIES=3") + b"@PJL ENTER LANGUAGE=PCL" + pcl(2) + UEL
    assert analyse(job).pages == 6


@pytest.mark.parametrize("padding", [b"", b"\x00" * 600, b"\r\n"])
def test_a_reset_and_padding_before_the_pjl(padding: bytes) -> None:
    # gpdl: ESC E before the UEL is a PCL job that prints nothing; then COPIES=2 of
    # 2 pages: 4 (hpcups, Ghostscript's cdj970 and others start so).
    job = padding + b"\x1bE" + pjl(b"@PJL SET COPIES=2", b"@PJL ENTER LANGUAGE=PCL")
    assert analyse(job + pcl(2) + UEL).pages == 4


def test_lower_case_prefix_is_data_the_printer_prints() -> None:
    # gpdl: '@pjl' is not PJL; the lines print as a text page before the 2 pages (3).
    job = UEL + b"@pjl set copies=3\r\n@pjl enter language=pcl\r\n" + pcl(2) + UEL
    assert analyse(job).pages == 3


@pytest.mark.parametrize("first", [1, 2, 5])
@pytest.mark.parametrize("copies", [2, 99])
def test_a_second_pjl_job_sets_copies(first: int, copies: int) -> None:
    # gpdl: first job `first` pages, the second one page COPIES times (2 + 99 = 101).
    job = (
        pjl(b"@PJL ENTER LANGUAGE=PCL")
        + pcl(first)
        + pjl(b"@PJL JOB", b"@PJL SET COPIES=%d" % copies, b"@PJL ENTER LANGUAGE=PCL")
        + pcl(1)
        + pjl(b"@PJL EOJ")
        + UEL
    )
    a = analyse(job)
    assert a.pages == first + copies
    assert "2 jobs in one stream" in a.notes[0]


def test_set_ends_with_its_job_default_does_not() -> None:
    # gpdl: SET COPIES=2 holds for its job only (2 + 1 = 3); DEFAULT COPIES=3 for
    # the rest of the stream (3 + 3 = 6).
    second = pjl(b"@PJL ENTER LANGUAGE=PCL") + pcl(1) + UEL
    job = pjl(b"@PJL SET COPIES=2", b"@PJL ENTER LANGUAGE=PCL") + pcl(1) + second
    assert analyse(job).pages == 3
    job = pjl(b"@PJL DEFAULT COPIES=3", b"@PJL ENTER LANGUAGE=PCL") + pcl(1) + second
    assert analyse(job).pages == 6


@pytest.mark.slow  # runs Ghostscript, a third-party program
@pytest.mark.parametrize("enter", [True, False])
def test_a_second_language_after_the_first_job(enter: bool) -> None:
    # gpdl: PCL's 2 pages, then PostScript's 3, entered by PJL or detected (5).
    second = pjl(b"@PJL ENTER LANGUAGE=POSTSCRIPT") if enter else UEL
    job = pjl(b"@PJL ENTER LANGUAGE=PCL") + pcl(2) + second + ps(3) + UEL
    a = analyse(job)
    assert a.pages == 5
    assert a.format == "PCL + PostScript"


def test_pjl_copies_of_the_second_language_job() -> None:
    # gpdl: SET COPIES=7 without ENTER, then PCL detected: 2 + 7 = 9.
    job = pjl(b"@PJL ENTER LANGUAGE=PCL") + pcl(2) + pjl(b"@PJL SET COPIES=7") + pcl(1)
    assert analyse(job).pages == 9


@pytest.mark.parametrize(
    ("language", "payload"),
    [
        (b"PCL", ps(3)),
        (b"PCL", simple_pdf(3)),
        (b"POSTSCRIPT", simple_pdf(3)),
        (b"PDF", ps(2)),
        (b"pcl", ps(3)),
    ],
)
def test_data_of_another_language_than_pjl_enters_is_refused(
    language: bytes, payload: bytes
) -> None:
    # gpdl prints PostScript or PDF under LANGUAGE=PCL as a page of text, and
    # nothing of PDF under POSTSCRIPT: no count of either language is the printer's.
    job = pjl(b"@PJL ENTER LANGUAGE=" + language) + payload + UEL
    with pytest.raises(UnknownFormat, match="PJL enters"):
        analyse(job)


def test_pjl_copies_and_a_pages_own_copies() -> None:
    # gpdl: COPIES=5 is PCL's default; ESC&l2X prints page 3 twice, ESC E sets the
    # default back: 5 + 5 + 2 + 5 = 17. Until the PCL parser says which pages were
    # at the default (Analysis.default_copies_pages) the job is refused.
    job = pjl(b"@PJL SET COPIES=5", b"@PJL ENTER LANGUAGE=PCL")
    job += b"\x1bEp1\x0cp2\x0c\x1b&l2Xp3\x0c\x1bEp4\x0c" + UEL
    exact_or_refused(job, 17)


def test_absurd_pjl_copies_are_refused() -> None:
    job = pjl(b"@PJL SET COPIES=100000", b"@PJL ENTER LANGUAGE=PCL") + pcl(1) + UEL
    with pytest.raises(LimitReached, match="offset"):
        analyse(job)


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_pjl_copies_apply_to_postscript() -> None:
    # HP's PJL reference: COPIES is PostScript's default #copies (gpdl ignores it: 2
    # pages; a printer prints 6). The job's own #copies overrides it (gpdl: 4).
    head = pjl(b"@PJL SET COPIES=3", b"@PJL ENTER LANGUAGE=POSTSCRIPT")
    assert analyse(head + ps(2) + UEL).pages == 6
    assert analyse(head + ps(2, b"/#copies 2 def\n") + UEL).pages == 4


# --- PostScript: the program decides ------------------------------------------------


@pytest.mark.slow
def test_dsc_that_lies_about_pages() -> None:
    # Ghostscript: one %%Page: comment, n showpage (in a loop, in a procedure).
    for n in RNG.sample(range(2, 40), 3):
        job = ps(1).replace(b"showpage\n", b"showpage 1 1 %d { pop showpage } for\n" % (n - 1))
        assert analyse(job).pages == n
    hidden = b"%!PS-Adobe-3.0\n/a (show) def /b (page) def /s a length b length add string def\n"
    hidden += b"s 0 a putinterval s a length b putinterval /x s cvn cvx def\n"
    job = hidden + b"%%Page: 1 1\n" + b"x " * 9 + b"showpage\n%%EOF\n"
    assert analyse(job).pages == 10


COPIES = [
    (b"/#copies 2 10 mul def", 20),
    (b"/#copies 16#1e def", 30),
    (b"/#copies 8#7 def", 7),
    (b"/#copies (12) cvi def", 12),
    (b"<< 25 /NumCopies exch >> setpagedevice", 25),
    (b"<< /NumCopies 3 4 add >> setpagedevice", 7),
    (b"userdict /#copies 1 1 add put", 2),
    (b"/n 5 def << /NumCopies n >> setpagedevice", 5),
]


@pytest.mark.slow
@pytest.mark.parametrize(("code", "copies"), COPIES)
def test_copies_however_computed(code: bytes, copies: int) -> None:
    # Ghostscript (pbmraw): every page `copies` times.
    pages = RNG.randint(1, 3)
    a = analyse(ps(pages, code + b"\n"))
    assert (a.pages, a.copies) == (pages * copies, copies)


@pytest.mark.slow
def test_copies_reset_before_the_next_page_comment() -> None:
    # Ghostscript: page 1 printed 9 times, then #copies back to 1 before %%Page: 2.
    nine = b"/#copies 9 def showpage /#copies 1 def\n%%Page: 2"
    job = ps(2).replace(b"showpage\n%%Page: 2", nine)
    a = analyse(job)
    assert a.pages == 10
    assert "copies differ" in a.notes[-1]


@pytest.mark.slow
def test_pages_inside_an_embedded_document_print() -> None:
    # Ghostscript: the embedded document's showpage prints (3 + 2 = 5); its %%Page:
    # comments are not the job's, its pages are.
    eps = b"%%BeginDocument: in.ps\n%%Page: 1 1\nshowpage\n%%Page: 2 2\nshowpage\n%%EndDocument\n"
    job = ps(3).replace(b"%%Page: 2 2\n", b"%%Page: 2 2\n" + eps)
    assert analyse(job).pages == 5


DETECTORS = [
    b"currentpagedevice /OutputDevice get dup /bbox eq exch /nullpage eq or",
    b"currentpagedevice /OutputDevice get /cups ne",
    b"currentpagedevice /HWResolution get 0 get 150 lt",
]


@pytest.mark.slow
@pytest.mark.parametrize("test", DETECTORS)
def test_a_job_that_looks_for_the_counting_device(test: bytes) -> None:
    # Ghostscript on a printer device (pbmraw at 300 dpi, or CUPS' gstoraster):
    # 50 pages. The job prints 1 page where its test is true.
    job = b"%!PS\n" + test + b" { 1 } { 50 } ifelse { showpage } repeat\n"
    assert analyse(job).pages == 50


@pytest.mark.slow
@pytest.mark.parametrize("stream", [b"%stderr", b"%stdout"])
def test_a_job_flooding_the_interpreters_output(stream: bytes) -> None:
    # Ghostscript: 3 pages, whatever the job writes (70 MB) to its output streams.
    job = b"%!PS\n/s 1048576 string def (" + stream + b") (w) file /f exch def\n"
    job += b"(%%Page: 9 9\\n%%BoundingBox: 0 0 1 1\\n) print\n"
    job += b"70 { f s writestring } repeat f flushfile 3 { showpage } repeat\n"
    assert analyse(job).pages == 3


@pytest.mark.slow
def test_a_job_writing_a_raster_of_its_own() -> None:
    # Ghostscript: 2 pages. The job writes a CUPS raster sync word and a page header
    # asking for 999 copies to %stdout, where the counting device's raster goes.
    header = "00" * 340 + "000003e7" + "00" * 1452  # NumCopies (offset 340) = 999
    job = b"%!PS\n(%stdout) (w) file dup (RaS3) writestring dup <" + header.encode()
    job += b"> writestring flushfile showpage showpage\n"
    assert analyse(job).pages == 2


@pytest.mark.slow
def test_a_job_sending_its_pages_elsewhere() -> None:
    # On a printer /OutputFile means nothing: 3 pages. Switching the device away
    # cannot be followed: refused.
    for target in (b"(/dev/null)", b"(%stdout)", b"(/tmp/pagetally-stolen)"):
        job = b"%!PS\nshowpage << /OutputFile " + target + b" >> setpagedevice showpage showpage\n"
        assert analyse(job).pages == 3
    job = b"%!PS\nshowpage << /OutputDevice /nullpage >> setpagedevice showpage showpage\n"
    with pytest.raises(CorruptData, match="error"):
        analyse(job)


@pytest.mark.slow
def test_a_job_that_stops_with_an_error_is_refused() -> None:
    with pytest.raises(CorruptData, match="an error after 2 pages"):
        analyse(b"%!PS\nshowpage showpage nosuchoperator showpage\n")


# --- PDF: page trees as the readers read them ---------------------------------------

TRICKS = [
    b"/X /endobj",
    b"% endobj\n",
    b"/endobj 1",
    b"/Xendobj 1",
    b"/F [/endobj]",
    b"/A /endobjx",
    b"/S (endobj)",
    b"/K#69ds2 [/endobj]",
    b"/N 1 endobj",
]


@pytest.mark.parametrize("trick", TRICKS)
@pytest.mark.parametrize("before", [True, False])
def test_a_subtree_behind_an_endobj_like_token(trick: bytes, before: bool) -> None:
    # qpdf --show-npages: 4 (a page and a node of 3). Ghostscript agrees, except
    # for a bare `endobj` keyword inside the dictionary (it reads 1: the count
    # follows qpdf, the larger).
    kids = b"/Kids [5 0 R 6 0 R 7 0 R]"
    inner = trick + b" " + kids if before else kids + b" " + trick
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        3: b"<< /Type /Page /Parent 2 0 R >>",
        4: b"<< /Type /Pages /Parent 2 0 R " + inner + b" /Count 3 >>",
        5: b"<< /Type /Page /Parent 4 0 R >>",
        6: b"<< /Type /Page /Parent 4 0 R >>",
        7: b"<< /Type /Page /Parent 4 0 R >>",
    }
    assert analyse(build_pdf(objects)).pages == 4


@pytest.mark.parametrize(("table", "stream"), [(10, 1), (1, 10), (7, 3), (4, 4)])
def test_hybrid_file_whose_table_and_stream_disagree(table: int, stream: int) -> None:
    # qpdf --show-npages and Ghostscript: the table's page tree (10 for 10/1, 1 for 1/10).
    assert analyse(hybrid_disagreeing(table, stream)).pages == table


def test_millions_of_kids_stop_at_the_cap_while_being_read() -> None:
    # 3 M kids against a cap of 1000 pages: refused while the array is read (the
    # time and memory are measured in bench/pdl.py's notes: 6 M kids, 0.9 s, 87 MB).
    for tail in (b"", b" null"):
        kids = b"3 0 R " * 3_000_000 + tail
        objects = {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [" + kids + b"] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R >>",
        }
        with pytest.raises(LimitReached, match="array of more than 1001 items"):
            analyse(build_pdf(objects), limits=Limits(max_pages=1000))
