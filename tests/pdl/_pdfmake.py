"""Tiny hand-built PDFs with exact byte offsets, for the PDF parser's unit tests."""

from __future__ import annotations


def build_pdf(
    objects: dict[int, bytes],
    root: int = 1,
    extra_trailer: bytes = b"",
    split_xref: bool = False,
    filler: bytes = b"",
) -> bytes:
    """A PDF with a classic xref table; `objects` maps number -> body (without obj/endobj).

    `split_xref` writes one subsection per object (legal, and a hostile-file shape);
    `filler` (comment lines) goes after the header, to give the file a size."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + filler)
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    if split_xref:
        out += b"xref\n0 1\n0000000000 65535 f \n"
        for num in sorted(offsets):
            out += b"%d 1\n%010d 00000 n \n" % (num, offsets[num])
        out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
            size,
            root,
            extra_trailer,
            xref,
        )
        return bytes(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        if num in offsets:
            out += b"%010d 00000 n \n" % offsets[num]
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        root,
        extra_trailer,
        xref,
    )
    return bytes(out)


def simple_pdf(pages: int, declared: int | None = None, split_xref: bool = False) -> bytes:
    """Catalog 1, Pages 2, pages 3.. ; `declared` forges /Count."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (kids, pages if declared is None else declared),
    }
    for i in range(pages):
        objects[3 + i] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    return build_pdf(objects, split_xref=split_xref)


def append_update(pdf: bytes, objects: dict[int, bytes], size: int, root: int = 1) -> bytes:
    """An incremental update: new objects and an xref section pointing back with /Prev."""
    prev = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    out = bytearray(pdf)
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n"
    for num in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (num, offsets[num])
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        root,
        prev,
        xref,
    )
    return bytes(out)


def hybrid_pdf() -> bytes:
    """A hybrid-reference file: page 4 lives in object stream 5, which only the
    /XRefStm stream (object 6) knows; the classic table marks 4 free."""
    out = bytearray(b"%PDF-1.5\n")
    offsets: dict[int, int] = {}

    def obj(num: int, body: bytes) -> None:
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")

    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>")
    obj(3, b"<< /Type /Page /Parent 2 0 R >>")
    inner = b"<< /Type /Page /Parent 2 0 R >>"
    header = b"4 0 "
    stm = header + inner
    obj(
        5,
        b"<< /Type /ObjStm /N 1 /First %d /Length %d >>\nstream\n" % (len(header), len(stm))
        + stm
        + b"\nendstream",
    )
    rows = b"".join(
        [
            bytes([2]) + (5).to_bytes(2, "big") + bytes([0]),
            bytes([1]) + offsets[5].to_bytes(2, "big") + bytes([0]),
        ]
    )
    xref_stm_at = len(out)
    rows += bytes([1]) + xref_stm_at.to_bytes(2, "big") + bytes([0])
    obj(
        6,
        b"<< /Type /XRef /Size 7 /W [1 2 1] /Index [4 3] /Length %d >>\nstream\n" % len(rows)
        + rows
        + b"\nendstream",
    )
    xref = len(out)
    out += b"xref\n0 7\n0000000000 65535 f \n"
    for num in range(1, 7):
        if num in (1, 2, 3, 5, 6):
            out += b"%010d 00000 n \n" % offsets[num]
        else:
            out += b"0000000000 00001 f \n"
    out += b"trailer\n<< /Size 7 /Root 1 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        xref_stm_at,
        xref,
    )
    return bytes(out)


def hybrid_disagreeing(table_kids: int, stream_kids: int, pages: int = 10) -> bytes:
    """A hybrid-reference file whose table and /XRefStm stream disagree about the
    page-tree root (object 2): the table's has `table_kids` kids, the one in
    object stream 20 that only the stream lists has `stream_kids`."""
    out = bytearray(b"%PDF-1.5\n")
    offsets: dict[int, int] = {}

    def obj(num: int, body: bytes) -> None:
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")

    def node(kids: int) -> bytes:
        refs = b" ".join(b"%d 0 R" % (3 + i) for i in range(kids))
        return b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, kids)

    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, node(table_kids))
    for i in range(pages):
        obj(3 + i, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")
    stm = b"2 0 " + node(stream_kids)
    obj(
        20,
        b"<< /Type /ObjStm /N 1 /First 4 /Length %d >>\nstream\n" % len(stm) + stm + b"\nendstream",
    )
    xref_stm_at = len(out)
    rows = bytes([2]) + (20).to_bytes(4, "big") + bytes([0])
    obj(
        21,
        b"<< /Type /XRef /Size 22 /W [1 4 1] /Index [2 1] /Length %d >>\nstream\n" % len(rows)
        + rows
        + b"\nendstream",
    )
    xref = len(out)
    out += b"xref\n0 22\n0000000000 65535 f \n"
    for num in range(1, 22):
        out += (b"%010d 00000 n \n" % offsets[num]) if num in offsets else b"0000000000 00001 f \n"
    out += b"trailer\n<< /Size 22 /Root 1 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        xref_stm_at,
        xref,
    )
    return bytes(out)
