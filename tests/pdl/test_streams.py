"""PostScript, plain text and DVI counts on small inputs."""

from __future__ import annotations

import pytest

from pagetally.errors import AnalysisUnavailable, CorruptData, TruncatedData
from pagetally.pdl import analyse
from pagetally.pdl.formats.dvi import DviParser
from pagetally.pdl.formats.postscript import PostScriptParser
from pagetally.pdl.formats.text import TextParser

PS = PostScriptParser()


def _dsc(pages: int, prolog: bytes = b"", per_page: bytes = b"") -> bytes:
    body = b"".join(
        b"%%%%Page: %d %d\n%s0 0 moveto (p) show showpage\n" % (i, i, per_page)
        for i in range(1, pages + 1)
    )
    return (
        b"%!PS-Adobe-3.0\n%%Pages: (atend)\n%%EndComments\n"
        + prolog
        + body
        + b"%%Trailer\n%%Pages: "
        + str(pages).encode()
        + b"\n%%EOF\n"
    )


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_dsc_pages() -> None:
    a = PS.count(_dsc(4))
    assert (a.pages, a.copies, a.method) == (4, 1, "ghostscript")


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_hash_copies_multiplies_pages() -> None:
    a = PS.count(_dsc(3, prolog=b"/#copies 2 def\n"))
    assert (a.pages, a.copies) == (6, 2)


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_numcopies_setpagedevice() -> None:
    a = PS.count(_dsc(2, prolog=b"<< /NumCopies 4 >> setpagedevice\n"))
    assert (a.pages, a.copies) == (8, 4)


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_copies_changing_between_pages() -> None:
    data = _dsc(2).replace(b"%%Page: 2 2\n", b"%%Page: 2 2\n/#copies 3 def\n")
    a = PS.count(data)
    assert a.pages == 1 + 3
    assert "copies differ" in a.notes[0]


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_embedded_document_pages_are_not_counted() -> None:
    eps = (
        b"%%BeginDocument: inner.eps\n%!PS-Adobe-3.0 EPSF-3.0\n"
        b"%%Page: 1 1\n%%Page: 2 2\n%%EndDocument\n"
    )
    assert PS.count(_dsc(2, per_page=eps)).pages == 2


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_page_comment_must_start_a_line() -> None:
    data = _dsc(1, per_page=b"(not a comment %%Page: 9 9) pop\n")
    assert PS.count(data).pages == 1


@pytest.mark.slow
def test_non_dsc_loop_counted_by_ghostscript() -> None:
    data = (
        b"%!\n/Helvetica findfont 10 scalefont setfont\n"
        b"1 1 5 { 9 9 moveto (x) show showpage } for\n"
    )
    a = PS.count(data)
    assert (a.pages, a.method) == (5, "ghostscript")


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_dos_eps_binary_header() -> None:
    ps = _dsc(3)
    header = b"\xc5\xd0\xd3\xc6" + (30).to_bytes(4, "little") + len(ps).to_bytes(4, "little")
    header += b"\x00" * (30 - len(header))
    data = header + ps
    assert PS.detect(data[:64]) == 1.0
    assert PS.count(data).pages == 3


def test_postscript_detection() -> None:
    assert PS.detect(b"%!PS-Adobe-3.0\n") == 1.0
    assert PS.detect(b"\x04%!PS-Adobe-3.0\n") == 1.0
    assert PS.detect(b"%PDF-1.4") == 0.0


@pytest.mark.parametrize(
    ("text", "lpp", "pages"),
    [
        (b"", 66, 0),
        (b"a\n", 66, 1),
        (b"a\x0cb\n", 66, 2),
        (b"a\x0c\x0cb\n", 66, 3),  # a blank page between form feeds
        (b"a\x0c", 66, 1),  # a final form feed adds nothing
        (b"\x0ca\n", 66, 2),
        (b"x\n" * 66, 66, 1),
        (b"x\n" * 67, 66, 2),
        (b"x\n" * 66 + b"\x0ca\n", 66, 3),
        (b"x\n" * 10, 3, 4),
        (b"no newline at the end", 66, 1),
    ],
)
def test_text_pages(text: bytes, lpp: int, pages: int) -> None:
    assert TextParser(lpp).count(text).pages == pages


def test_text_is_the_last_resort() -> None:
    parser = TextParser()
    assert 0 < parser.detect(b"hello world\n") < 0.5
    assert parser.detect(b"\x00\x01binary") == 0.0
    assert analyse(b"line\n" * 70).format == "plain text"


def test_text_lines_per_page_through_analyse() -> None:
    assert analyse(b"line\n" * 70).pages == 2
    assert analyse(b"line\n" * 70, lines_per_page=10).pages == 7


def _dvi(pages: int, declared: int | None = None) -> bytes:
    out = bytearray([247, 2]) + (25400000).to_bytes(4, "big") + (473628672).to_bytes(4, "big")
    out += (1000).to_bytes(4, "big") + bytes([0])
    prev = 0xFFFFFFFF
    for i in range(pages):
        here = len(out)
        out += bytes([139]) + (i + 1).to_bytes(4, "big") + bytes(36) + prev.to_bytes(4, "big")
        out += bytes([140])  # eop
        prev = here
    post = len(out)
    out += bytes([248]) + prev.to_bytes(4, "big") + bytes(20)
    out += bytes(2) + (pages if declared is None else declared).to_bytes(2, "big")
    out += bytes([249]) + post.to_bytes(4, "big") + bytes([2]) + bytes([223]) * 4
    return bytes(out)


@pytest.mark.parametrize("pages", [1, 3, 40])
def test_dvi_pages(pages: int) -> None:
    data = _dvi(pages)
    assert DviParser().detect(data[:64]) > 0.9
    a = DviParser().count(data)
    assert (a.pages, a.notes) == (pages, ())


def test_dvi_declared_total_disagrees() -> None:
    a = DviParser().count(_dvi(3, declared=1))
    assert a.pages == 3
    assert "declares 1" in a.notes[0]


def test_dvi_truncated() -> None:
    with pytest.raises(TruncatedData):
        DviParser().count(_dvi(3)[:-30])


def test_dvi_loop() -> None:
    data = bytearray(_dvi(2))
    # make the first page point at the second: a loop
    first_bop = 15
    second_bop = first_bop + 46
    data[first_bop + 41 : first_bop + 45] = second_bop.to_bytes(4, "big")
    with pytest.raises(CorruptData):
        DviParser().count(bytes(data))


def test_without_ghostscript_postscript_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # A program decides its pages: counting showpage tokens would be a guess.
    monkeypatch.setenv("PATH", "/nonexistent")
    data = b"%!\n/F { showpage } def\n(a) show showpage\n(b) show copypage\n/#copies 2 def\n"
    with pytest.raises(AnalysisUnavailable, match="Ghostscript"):
        PS.count(data)


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_page_cap() -> None:
    from pagetally.errors import LimitReached
    from pagetally.pdl.base import Limits

    with pytest.raises(LimitReached):
        PS.count(_dsc(50), Limits(max_pages=10))
    with pytest.raises(LimitReached):
        TextParser(1).count(b"x\n" * 50, Limits(max_pages=10))
