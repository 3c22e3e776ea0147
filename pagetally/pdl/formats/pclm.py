"""PCLm (Wi-Fi Alliance / Mopria raster PDF): what many driverless HP printers take.

A PCLm job is a PDF ("%PDF-1.x" then "%PCLm 1.0" on the second line) whose every
page is a stack of image strips: the page's resources name image XObjects only
(no fonts, forms or patterns) and its content just places them. It is counted as
a PDF (pdf.py, the same page-tree walk), and then checked to be PCLm: the
printer's PCLm interpreter prints only such pages, so a "PCLm" job that holds
anything else is refused rather than guessed. Facts from Ghostscript's `pclm`
and `pclm8` devices and the PCLm specification's outline as published by Mopria.
"""

from __future__ import annotations

from pagetally.errors import CorruptData, EncryptedData, LimitReached, PdlError
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._bufio import BufferStream
from pagetally.pdl.formats.pdf import PdfParser

_MARK = b"%PCLm"
_RESOURCES = {"/XObject", "/ProcSet", "/ExtGState"}


def _second_line(head: bytes) -> bytes:
    nl = head.find(b"\n", 0, 64)
    return head[nl + 1 : nl + 1 + len(_MARK)] if nl >= 0 else b""


class PclmParser:
    name = "pclm"
    format = "PCLm"

    def detect(self, head: bytes) -> float:
        return 0.99 if head.startswith(b"%PDF-") and _second_line(head) == _MARK else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        pdf = PdfParser().count(data, limits)
        checked = _check_structure(data, limits)
        if checked != pdf.pages:
            raise CorruptData(
                f"PCLm: the page tree walk finds {pdf.pages} pages, qpdf finds {checked}"
            )
        return Analysis(format=self.format, pages=pdf.pages, method=pdf.method, notes=pdf.notes)


def _check_structure(data: Buffer, limits: Limits) -> int:
    """Pages qpdf sees, each checked to hold image strips only."""
    try:
        import pikepdf
    except ImportError:
        raise CorruptData("PCLm: pikepdf is not installed to check the pages") from None
    try:
        with pikepdf.open(BufferStream(data)) as pdf:  # type: ignore[arg-type]
            n = len(pdf.pages)
            if n > limits.max_pages:
                raise LimitReached(f"PCLm: more than {limits.max_pages} pages")
            for i, page in enumerate(pdf.pages, 1):
                _check_page(page.obj, i)
            return n
    except PdlError:
        raise
    except pikepdf.PasswordError:
        raise EncryptedData("PCLm: encrypted") from None
    except Exception as exc:  # qpdf's complaints about a hostile file
        raise CorruptData(f"PCLm: unreadable ({type(exc).__name__}: {exc})") from None


def _check_page(page: object, number: int) -> None:
    import pikepdf

    assert isinstance(page, pikepdf.Dictionary)
    resources = page.get("/Resources")
    if not isinstance(resources, pikepdf.Dictionary):
        raise CorruptData(f"PCLm: page {number} has no resources")
    extra = set(resources.keys()) - _RESOURCES
    if extra:
        raise CorruptData(f"PCLm: page {number} uses {', '.join(sorted(extra))} (not PCLm)")
    xobjects = resources.get("/XObject")
    if not isinstance(xobjects, pikepdf.Dictionary) or not len(xobjects.keys()):
        raise CorruptData(f"PCLm: page {number} holds no image strip")
    for key, xobj in xobjects.items():
        if not isinstance(xobj, pikepdf.Stream) or xobj.get("/Subtype") != pikepdf.Name.Image:
            raise CorruptData(f"PCLm: page {number}'s {key} is not an image strip")
    if "/Annots" in page:
        raise CorruptData(f"PCLm: page {number} carries annotations (not PCLm)")


PARSERS = [PclmParser()]
