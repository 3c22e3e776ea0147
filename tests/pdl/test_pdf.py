"""PDF page counting on small hand-built and pikepdf-written files."""

from __future__ import annotations

import io

import pikepdf
import pytest

from pagetally.errors import EncryptedData, PdlError, TruncatedData
from pagetally.pdl import analyse
from pagetally.pdl.formats.pdf import PdfParser
from tests.pdl._pdfmake import append_update, build_pdf, simple_pdf

PDF = PdfParser()


def _pikepdf_doc(pages: int, **save: object) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(200, 200))
    buf = io.BytesIO()
    pdf.save(buf, **save)  # type: ignore[arg-type]
    return buf.getvalue()


def test_classic_xref_counts_pages_on_the_fast_path() -> None:
    a = PDF.count(simple_pdf(3))
    assert (a.pages, a.method, a.format) == (3, "parsed", "PDF")


def test_nested_page_tree() -> None:
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 3 >>",
        3: b"<< /Type /Pages /Parent 2 0 R /Kids [5 0 R 6 0 R] /Count 2 >>",
        4: b"<< /Type /Page /Parent 2 0 R >>",
        5: b"<< /Type /Page /Parent 3 0 R >>",
        6: b"<< /Type /Page /Parent 3 0 R >>",
    }
    assert PDF.count(build_pdf(objects)).pages == 3


def test_forged_count_is_not_believed() -> None:
    a = PDF.count(simple_pdf(5, declared=1))
    assert a.pages == 5
    assert any("/Count says 1" in n for n in a.notes)


def test_incremental_update_adds_a_page() -> None:
    base = simple_pdf(3)
    updated = append_update(
        base,
        {
            2: b"<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R 6 0 R] /Count 4 >>",
            6: b"<< /Type /Page /Parent 2 0 R >>",
        },
        size=7,
    )
    assert PDF.count(base).pages == 3
    a = PDF.count(updated)
    assert (a.pages, a.method) == (4, "parsed")


@pytest.mark.parametrize("pages", [1, 7, 120])
def test_xref_streams_and_object_streams_on_the_fast_path(pages: int) -> None:
    data = _pikepdf_doc(pages, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    assert b"/ObjStm" in data and b"/XRef" in data  # the pkpgcounter trap: it counted 0
    a = PDF.count(data)
    assert (a.pages, a.method) == (pages, "parsed")


def test_linearized() -> None:
    a = PDF.count(_pikepdf_doc(9, linearize=True))
    assert (a.pages, a.method) == (9, "parsed")


def test_wrong_startxref_falls_back_to_qpdf() -> None:
    data = simple_pdf(4)
    head, _tail = data.rsplit(b"startxref\n", 1)
    broken = head + b"startxref\n" + b"12\n%%EOF\n"
    a = PDF.count(broken)
    assert a.pages == 4
    assert a.method == "pikepdf"
    assert "fast path unsure" in a.notes[0]


def test_encrypted_with_user_password_is_refused() -> None:
    enc = pikepdf.Encryption(user="secret", owner="owner", R=6)
    data = _pikepdf_doc(2, encryption=enc)
    with pytest.raises(EncryptedData):
        PDF.count(data)


def test_encrypted_with_owner_password_only_is_counted() -> None:
    enc = pikepdf.Encryption(user="", owner="owner", R=6)
    assert PDF.count(_pikepdf_doc(6, encryption=enc)).pages == 6


def test_truncated_file() -> None:
    data = simple_pdf(3)
    with pytest.raises(TruncatedData):
        PDF.count(data[: len(data) // 2])


def test_page_tree_loop_is_a_pdl_error_or_a_sane_count() -> None:
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>",
        3: b"<< /Type /Page /Parent 2 0 R >>",
    }
    try:
        pages = PDF.count(build_pdf(objects)).pages
    except PdlError:
        return
    assert pages == 1


def test_junk_before_header_and_pjl_copies_through_analyse() -> None:
    data = (
        b"\x1b%-12345X@PJL JOB\r\n@PJL SET QTY=3\r\n@PJL ENTER LANGUAGE=PDF\r\n"
        + simple_pdf(2)
        + b"\x1b%-12345X@PJL EOJ\r\n\x1b%-12345X"
    )
    a = analyse(data)
    assert (a.format, a.pages, a.copies) == ("PDF", 6, 3)


def test_detect() -> None:
    assert PDF.detect(b"%PDF-1.7\n") == 1.0
    assert 0 < PDF.detect(b"garbage\n%PDF-1.4\n") < 1.0
    assert PDF.detect(b"%!PS-Adobe-3.0\n") == 0.0


def test_object_stream_bomb_is_a_limit() -> None:
    import zlib

    from pagetally.errors import LimitReached

    bomb = zlib.compress(b"0" * (80 << 20), 9)  # 80 MiB of zeros in ~80 KB
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R >>",
        4: b"<< /Type /XRef /Size 5 /W [1 2 1] /Length %d /Filter /FlateDecode >>\nstream\n"
        % len(bomb)
        + bomb
        + b"\nendstream",
    }
    data = build_pdf(objects)
    xref_obj = data.index(b"4 0 obj")
    data = data[: data.rindex(b"startxref")] + b"startxref\n%d\n%%%%EOF\n" % xref_obj
    with pytest.raises(LimitReached):
        PDF.count(data)


@pytest.mark.parametrize(
    "node",
    [
        b"<< /Type /Pages /Parent 2 0 R /K#69ds [5 0 R 6 0 R 7 0 R] /Count 3 >>",
        b"<< /Type /Pages /Parent 2 0 R /T (endobj) /Kids [5 0 R 6 0 R 7 0 R] /Count 3 >>",
    ],
)
def test_page_tree_nodes_cannot_hide_as_leaves(node: bytes) -> None:
    """A forged /Count of 2 with an intermediate node disguised: still 4 pages."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        3: b"<< /Type /Page /Parent 2 0 R >>",
        4: node,
        5: b"<< /Type /Page /Parent 4 0 R >>",
        6: b"<< /Type /Page /Parent 4 0 R >>",
        7: b"<< /Type /Page /Parent 4 0 R >>",
    }
    assert PDF.count(build_pdf(objects)).pages == 4


def test_hybrid_reference_file() -> None:
    from tests.pdl._pdfmake import hybrid_pdf

    a = PDF.count(hybrid_pdf())
    assert (a.pages, a.method) == (2, "parsed")


@pytest.mark.parametrize(("columns", "rows"), [(1, 1), (4, 31), (5, 32), (5, 33), (7, 500)])
def test_up_predictor_rows_equal_a_full_decode(columns: int, rows: int) -> None:
    import random

    from pagetally.pdl.formats._pdfsyntax import _png_unpredict, _up_columns

    rng = random.Random(columns * 1000 + rows)
    data = b"".join(bytes([2]) + rng.randbytes(columns) for _ in range(rows))
    up = _up_columns(data, columns)
    assert up is not None
    assert bytes(up[j][k] for k in range(rows) for j in range(columns)) == _png_unpredict(
        data, columns
    )


def test_one_subsection_per_object_stays_linear() -> None:
    import time

    data = simple_pdf(20_000, split_xref=True)
    start = time.process_time()
    a = PDF.count(data)
    assert (a.pages, a.method) == (20_000, "parsed")
    assert time.process_time() - start < 3.0
