"""Detection by content, PJL headers and copies, and analyse() on files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pagetally.errors import UnknownFormat
from pagetally.pdl import analyse, detect, pjl
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from tests.pdl._pdfmake import simple_pdf

UEL = b"\x1b%-12345X"


class _Fixed:
    def __init__(self, name: str, score: float) -> None:
        self.name = name
        self.format = name.upper()
        self.score = score

    def detect(self, head: bytes) -> float:
        return self.score

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        return Analysis(self.format, 1)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (simple_pdf(1), "pdf"),
        (b"%!PS-Adobe-3.0\n%%Pages: 1\n", "postscript"),
        (b"P5\n2 2\n255\n\x00\x00\x00\x00", "pnm"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "image"),
        (b"plain words\nand more\n", "text"),
    ],
)
def test_detects_by_content(data: bytes, name: str) -> None:
    assert detect(data).parser.name == name


def test_most_confident_wins_whatever_the_order() -> None:
    sure, unsure = _Fixed("zeta", 0.9), _Fixed("alpha", 0.4)
    assert detect(b"x", [sure, unsure]).parser.name == "zeta"
    assert detect(b"x", [unsure, sure]).parser.name == "zeta"


def test_exact_tie_is_broken_by_name_and_reported() -> None:
    a, b = _Fixed("beta", 0.7), _Fixed("alpha", 0.7)
    for order in ([a, b], [b, a]):
        d = detect(b"x", order)
        assert (d.parser.name, d.also) == ("alpha", ("beta",))


def test_unknown_format_has_a_one_line_reason() -> None:
    with pytest.raises(UnknownFormat) as info:
        analyse(b"\x00\x01\x02\x03\xfe\xff binary junk")
    assert "\n" not in str(info.value)
    assert "00 01 02 03" in str(info.value)


def test_empty_and_pjl_only_jobs() -> None:
    with pytest.raises(UnknownFormat, match="empty"):
        analyse(b"")
    with pytest.raises(UnknownFormat, match="PJL"):
        analyse(UEL + b"@PJL JOB\r\n@PJL EOJ\r\n" + UEL)


def test_pjl_header() -> None:
    data = (
        UEL
        + b'@PJL JOB NAME="x"\r\n@PJL SET COPIES = 3\r\n@PJL set qty=2\n'
        + b"@PJL ENTER LANGUAGE=PCLXL\r\n) HP-PCL XL"
    )
    h = pjl.read_header(data)
    assert h.present and h.language == "PCLXL"
    assert (h.copies, h.qty, h.job_copies) == (3, 2, 2)
    assert data[h.offset :].startswith(b") HP-PCL XL")
    assert pjl.read_header(b"%PDF-1.4").present is False


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_pjl_copies_yield_to_the_languages_own() -> None:
    ps = b"%!PS-Adobe-3.0\n/#copies 2 def\n%%Page: 1 1\nshowpage\n"
    wrapped = UEL + b"@PJL SET COPIES=5\r\n@PJL ENTER LANGUAGE=POSTSCRIPT\r\n" + ps
    a = analyse(wrapped)
    assert (a.pages, a.copies) == (2, 2)
    plain = (
        UEL
        + b"@PJL SET COPIES=5\r\n@PJL ENTER LANGUAGE=POSTSCRIPT\r\n"
        + ps.replace(b"/#copies 2 def\n", b"")
    )
    a = analyse(plain)
    assert (a.pages, a.copies) == (5, 5)
    assert "PJL COPIES=5" in a.notes


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_pjl_qty_multiplies_the_languages_copies() -> None:
    ps = b"%!PS-Adobe-3.0\n/#copies 2 def\n%%Page: 1 1\nshowpage\n%%Page: 2 2\nshowpage\n"
    a = analyse(UEL + b"@PJL SET QTY=3\r\n@PJL ENTER LANGUAGE=POSTSCRIPT\r\n" + ps)
    assert (a.pages, a.copies) == (12, 6)


def test_analyse_memory_maps_files(tmp_path: Path) -> None:
    path = tmp_path / "job.bin"
    path.write_bytes(simple_pdf(5))
    assert analyse(path).pages == 5
    assert analyse(str(path)).pages == 5
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(UnknownFormat):
        analyse(empty)


def test_analyse_missing_file_is_a_pdl_error(tmp_path: Path) -> None:
    from pagetally.errors import PdlError

    with pytest.raises(PdlError, match="cannot read"):
        analyse(tmp_path / "nope.pdf")
