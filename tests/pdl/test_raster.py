"""PWG Raster, CUPS Raster v1-v3, Apple URF, XPS and PCLm: crafted jobs.

The generated corpus (tests/corpus/gen_raster.py) shows the parsers agree with
real producers; these crafted jobs pin the rules a count relies on: every page
followed to its end (not sync words counted), headers that disagree with the
data refused, copies and colour from the headers, zip bombs and missing pages.
The encoders below follow CUPS' raster.h and cups-filters' unirast.h.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from pagetally.errors import CorruptData, LimitReached, PdlError, TruncatedData
from pagetally.pdl import analyse, detect
from pagetally.pdl.formats.cupsraster import HEADER_SIZE
from tests.pdl._pdfmake import build_pdf

SYNC = {(1, ">"): b"RaSt", (1, "<"): b"tSaR", (2, ">"): b"RaS2", (2, "<"): b"2SaR",
        (3, ">"): b"RaS3", (3, "<"): b"3SaR"}  # fmt: skip
WIDTH, HEIGHT = 64, 40


def header(endian: str = ">", *, space: int = 3, bits: int = 1, colors: int = 1,
           copies: int = 1, pwg: bool = False, height: int = HEIGHT) -> bytes:  # fmt: skip
    """A cups_page_header2_t: only the fields a counter reads are set."""
    h = bytearray(HEADER_SIZE)
    if pwg:
        h[0:9] = b"PwgRaster"
    bpp = bits * colors
    bpl = (WIDTH * bpp + 7) // 8
    struct.pack_into(endian + "I", h, 340, copies)
    fields = (WIDTH, height, 0, bits, bpp, bpl, 0, space, 0, 0, 0, 0, colors)
    struct.pack_into(endian + "13I", h, 372, *fields)
    return bytes(h)


def bytes_per_line(h: bytes, endian: str) -> int:
    return int(struct.unpack_from(endian + "I", h, 392)[0])


def compressed_page(bpl: int, unit: int = 1, lines: int = HEIGHT) -> bytes:
    """Lines as CUPS writes them: a blank line repeated, a literal line, more blank."""
    out = bytearray()
    pixels = bpl // unit
    blank = bytes([0x7F, *b"\x00" * unit]) * (pixels // 128)
    if pixels % 128:
        blank += bytes([pixels % 128 - 1, *b"\x00" * unit])
    out += bytes([9]) + blank  # 10 blank lines
    literal = bytearray()
    left = pixels
    while left:  # literal runs of up to 128 pixels, holding a fake sync word
        n = min(left, 128)
        literal += bytes([257 - n]) + (b"RaS2" * bpl)[: n * unit]
        left -= n
    out += bytes([0]) + literal
    out += bytes([lines - 12]) + blank
    return bytes(out)


def cups_job(version: int, endian: str, pages: int = 3, **kw: int) -> bytes:
    out = bytearray(SYNC[(version, endian)])
    for _ in range(pages):
        h = header(endian, **kw)  # type: ignore[arg-type]
        out += h[:420] if version == 1 else h  # v1: cups_page_header_t
        bpl = bytes_per_line(h, endian)
        colors = kw.get("colors", 1)
        bits = kw.get("bits", 1)
        if version == 2:
            out += compressed_page(bpl, max(1, bits * colors // 8))
        else:
            out += b"\x55" * bpl * HEIGHT
    return bytes(out)


def pwg_job(pages: int = 3, **kw: int) -> bytes:
    out = bytearray(b"RaS2")
    for _ in range(pages):
        h = header(">", pwg=True, **kw)  # type: ignore[arg-type]
        out += h + compressed_page(
            bytes_per_line(h, ">"), max(1, kw.get("bits", 1) * kw.get("colors", 1) // 8)
        )
    return bytes(out)


@pytest.mark.parametrize("version", [1, 2, 3])
@pytest.mark.parametrize("endian", [">", "<"])
def test_cups_raster_every_version_and_byte_order(version: int, endian: str) -> None:
    a = analyse(cups_job(version, endian, pages=4))
    assert (a.format, a.pages) == ("CUPS Raster", 4)


def test_pwg_raster_is_recognised_and_counted() -> None:
    job = pwg_job(pages=3)
    assert detect(job).parser.name == "pwg"
    assert analyse(job).pages == 3


def test_sync_words_inside_the_pixels_do_not_make_pages() -> None:
    job = pwg_job(pages=2)
    assert job.count(b"RaS2") > 2
    assert analyse(job).pages == 2


@pytest.mark.parametrize("cut", [1, 10, HEADER_SIZE + 3])
def test_a_page_cut_short_is_refused(cut: int) -> None:
    with pytest.raises(TruncatedData, match="offset"):
        analyse(pwg_job(pages=2)[:-cut])


def test_data_after_the_last_page_is_refused() -> None:
    with pytest.raises(PdlError):
        analyse(pwg_job(pages=2) + b"\x00" * 100)


def test_a_run_crossing_the_line_end_is_refused() -> None:
    h = header(">", pwg=True)
    bpl = bytes_per_line(h, ">")
    line = bytes([0, 0x7F, 0]) * (bpl // 128 + 1)  # 128 pixels per run: too many
    with pytest.raises(CorruptData, match="crosses the end of a line"):
        analyse(b"RaS2" + h + line)


def test_a_line_repeat_past_the_page_end_is_refused() -> None:
    h = header(">", pwg=True)
    bpl = bytes_per_line(h, ">")
    with pytest.raises(CorruptData, match="line repeat"):
        analyse(b"RaS2" + h + bytes([HEIGHT + 5, bpl - 1, 0]))


def test_run_code_128_is_refused_in_cups_raster() -> None:
    h = header(">", pwg=True)
    with pytest.raises(CorruptData, match="128"):
        analyse(b"RaS2" + h + bytes([0, 128]))


def test_an_inconsistent_header_is_refused() -> None:
    h = bytearray(header(">"))
    struct.pack_into(">I", h, 392, 1)  # one byte per line cannot hold 64 pixels
    with pytest.raises(CorruptData, match="bytes per line"):
        analyse(b"RaS3" + bytes(h) + b"\x00" * HEIGHT)


def test_version_1_headers_are_420_bytes() -> None:
    job = cups_job(1, ">", pages=2)
    assert len(job) == 4 + 2 * (420 + 8 * HEIGHT)
    assert analyse(job).pages == 2
    with pytest.raises(PdlError):  # a 1796-byte header read as version 1 is not followed
        analyse(b"RaSt" + cups_job(3, ">", pages=2)[4:])


def test_copies_in_a_page_header_are_printed() -> None:
    job = bytearray(b"RaS3")
    for copies in (1, 3):
        h = header(">", copies=copies)
        job += h + b"\x00" * bytes_per_line(h, ">") * HEIGHT
    a = analyse(bytes(job))
    assert a.pages == 4
    assert "different numbers of copies" in " ".join(a.notes)


def test_planar_pages_hold_one_plane_per_colour() -> None:
    h = bytearray(header(">", space=6, bits=1, colors=4))
    struct.pack_into(">I", h, 396, 2)  # planar
    struct.pack_into(">I", h, 388, 1)  # bits per pixel of one plane
    struct.pack_into(">I", h, 392, WIDTH // 8)
    plane = b"\x00" * (WIDTH // 8) * HEIGHT
    assert analyse(b"RaS3" + bytes(h) + plane * 4).pages == 1
    with pytest.raises(TruncatedData):
        analyse(b"RaS3" + bytes(h) + plane * 3)


def test_colour_pages_come_from_the_headers() -> None:
    grey = pwg_job(pages=2, space=18, bits=8)
    srgb = pwg_job(pages=2, space=19, bits=8, colors=3)
    assert analyse(grey, color=True).color_pages == 0
    assert analyse(srgb, color=True).color_pages == 2
    assert analyse(srgb).page_inks is None  # only when asked


def urf_job(pages: int, declared: int | None = None, bpp: int = 8, space: int = 4) -> bytes:
    out = bytearray(b"UNIRAST\x00" + struct.pack(">I", pages if declared is None else declared))
    for _ in range(pages):
        out += struct.pack(">BBBBIIIII8x", bpp, space, 1, 4, 0, 0, WIDTH, HEIGHT, 300)
        unit = bpp // 8
        out += bytes([HEIGHT - 3, 0x7F - 64, *b"\xff" * unit])  # 64 white pixels
        out += bytes([0, 257 - 10, *b"\x10" * 10 * unit, 128])  # 10 literal, rest white
        out += bytes([0, 128])  # a line of white
    return bytes(out)


def test_urf_follows_every_page() -> None:
    job = urf_job(3)
    assert detect(job).parser.name == "urf"
    assert analyse(job).pages == 3
    assert analyse(urf_job(3, declared=0)).pages == 3  # a streaming writer's 0


def test_urf_header_count_must_agree_with_the_pages() -> None:
    with pytest.raises(CorruptData, match="announces 5 pages"):
        analyse(urf_job(3, declared=5))


def test_urf_cut_short_is_refused() -> None:
    with pytest.raises(TruncatedData):
        analyse(urf_job(2)[:-2])
    with pytest.raises(CorruptData):  # what a failed cupsfilter -m image/urf leaves
        analyse(b"UNIR")


def test_urf_colour_from_the_page_header() -> None:
    assert analyse(urf_job(2, bpp=24, space=1), color=True).color_pages == 2
    assert analyse(urf_job(2, bpp=8, space=0), color=True).color_pages == 0


# ---- XPS

RELS = (
    b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/relationships"><Relationship Type="http://schemas.microsoft.com/xps/'
    b'2005/06/fixedrepresentation" Target="/FixedDocSeq.fdseq" Id="R1"/></Relationships>'
)
NS = b'xmlns="http://schemas.microsoft.com/xps/2005/06"'


def xps(docs: dict[str, list[str]], extra: dict[str, bytes] | None = None,
        missing: str = "") -> bytes:  # fmt: skip
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        zf.writestr("_rels/.rels", RELS)
        refs = b"".join(b'<DocumentReference Source="%s"/>' % d.encode() for d in docs)
        zf.writestr(
            "FixedDocSeq.fdseq",
            b"<FixedDocumentSequence %s>%s</FixedDocumentSequence>" % (NS, refs),
        )
        for doc, pages in docs.items():
            items = b"".join(b'<PageContent Source="%s"/>' % p.encode() for p in pages)
            if doc not in (extra or {}):
                zf.writestr(doc.lstrip("/"), b"<FixedDocument %s>%s</FixedDocument>" % (NS, items))
            folder = doc.rsplit("/", 1)[0].lstrip("/")
            for p in pages:
                name = p.lstrip("/") if p.startswith("/") else f"{folder}/{p}"
                if name != missing:
                    zf.writestr(name, b"<FixedPage/>")
        for name, body in (extra or {}).items():
            zf.writestr(name, body)
    return buf.getvalue()


def test_xps_counts_every_page_of_every_document() -> None:
    job = xps({"Documents/1/FixedDoc.fdoc": ["Pages/1.fpage", "Pages/2.fpage"],
               "Documents/2/FixedDoc.fdoc": ["/Documents/2/Pages/A%20B.fpage"]})  # fmt: skip
    assert detect(job).parser.name == "xps"
    a = analyse(job)
    assert (a.format, a.pages) == ("XPS", 3)


def test_xps_page_missing_from_the_package_is_refused() -> None:
    job = xps({"Documents/1/FixedDoc.fdoc": ["Pages/1.fpage", "Pages/2.fpage"]},
              missing="Documents/1/Pages/2.fpage")  # fmt: skip
    with pytest.raises(CorruptData, match="not in the package"):
        analyse(job)


def test_xps_print_ticket_copies_are_applied() -> None:
    ticket = (b'<psf:PrintTicket xmlns:psf="x"><psf:ParameterInit name="psk:JobCopiesAllDocuments">'
              b"<psf:Value>3</psf:Value></psf:ParameterInit></psf:PrintTicket>")  # fmt: skip
    seq_rels = (b'<Relationships><Relationship Type="http://schemas.microsoft.com/xps/2005/06/'
                b'printticket" Target="/Ticket.xml" Id="T"/></Relationships>')  # fmt: skip
    job = xps({"Documents/1/FixedDoc.fdoc": ["Pages/1.fpage", "Pages/2.fpage"]},
              {"_rels/FixedDocSeq.fdseq.rels": seq_rels, "Ticket.xml": ticket})  # fmt: skip
    a = analyse(job)
    assert (a.pages, a.copies) == (6, 3)


def test_xps_dtd_is_refused() -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><FixedDocument %s>&a;</FixedDocument>' % NS
    job = xps({"Documents/1/FixedDoc.fdoc": []}, {"Documents/1/FixedDoc.fdoc": bomb})
    with pytest.raises(CorruptData, match="DTD"):
        analyse(job)


def test_xps_zip_bomb_is_refused_before_it_is_inflated() -> None:
    huge = b"<FixedDocument " + NS + b">" + b" " * (40 << 20) + b"</FixedDocument>"
    job = xps({"Documents/1/FixedDoc.fdoc": []}, {"Documents/1/FixedDoc.fdoc": huge})
    assert len(job) < 1 << 20
    with pytest.raises(LimitReached):
        analyse(job)


# ---- PCLm


def pclm(font: bool = False) -> bytes:
    res = b"/XObject << /Im0 5 0 R >>" + (b" /Font << /F1 6 0 R >>" if font else b"")
    pdf = build_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Contents 4 0 R /Resources << "
           + res + b" >> >>",
        4: b"<< /Length 15 >>\nstream\n10 0 0 10 0 0 cm\nendstream",
        5: b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
           b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x00\nendstream",
        6: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    })  # fmt: skip
    assert pdf.startswith(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    return b"%PDF-1.4\n%PCLm\n" + pdf[15:]  # same length: the offsets stay right


def test_pclm_is_counted_as_pdf_with_its_own_checks() -> None:
    job = pclm()
    assert detect(job).parser.name == "pclm"
    assert analyse(job).pages == 1


def test_pclm_with_text_on_a_page_is_refused() -> None:
    with pytest.raises(CorruptData, match="Font"):
        analyse(pclm(font=True))
