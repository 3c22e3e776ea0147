"""Office documents: OpenDocument (ODT, ODS, ODP…), OOXML (.docx, .pptx, .xlsx), Word .doc.

The page count a printer will produce is the one LibreOffice lays out, so when
`soffice` is installed the document is converted to PDF (headless, in a private
temporary profile, through pagetally.proc: time and memory bounded, and its whole
process group killed, `soffice.bin` included) and that PDF counted: method "libreoffice".
Otherwise the count the authoring program stored in the document's metadata is
used — ODF meta.xml page-count, OOXML docProps/app.xml Pages/Slides, Word's
SummaryInformation page count — method "metadata". Spreadsheets store none.
"""

from __future__ import annotations

from pagetally.errors import (
    AnalysisUnavailable,
    CorruptData,
    EncryptedData,
    LimitReached,
    PdlError,
)
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, Parser
from pagetally.pdl.formats._bufio import BufferStream, spooled

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODF_MIME = b"application/vnd.oasis.opendocument."
_MAX_XML = 4 << 20
_ODF_PAGES = lazy(rb'meta:page-count="(\d{1,7})"')
_OOXML_PAGES = lazy(rb"<(?:\w+:)?(Pages|Slides)>(\d{1,7})</")
_ODF_SUFFIX = {
    "text": ".odt",
    "spreadsheet": ".ods",
    "presentation": ".odp",
    "graphics": ".odg",
    "text-master": ".odm",
}
LIBREOFFICE_TIMEOUT = 180.0
#: LibreOffice's address space (RLIMIT_AS): it converts a text within 1 GiB; a DOCX
#: zip bomb took soffice.bin past 2.2 GB before this bound.
LIBREOFFICE_MEMORY = 2 << 30


def libreoffice_pages(data: Buffer, suffix: str, limits: Limits) -> int | None:
    """Convert with LibreOffice to PDF and count that; None when soffice is absent."""
    import shutil
    import tempfile

    from pagetally import proc

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return None
    from pagetally.pdl.formats.pdf import PdfParser

    with spooled(data, suffix) as src, tempfile.TemporaryDirectory(prefix="pagetally-lo-") as tmp:
        from pathlib import Path

        out = Path(tmp)
        cmd = [
            soffice,
            f"-env:UserInstallation={(out / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(src),
        ]
        timeout = LIBREOFFICE_TIMEOUT + limits.max_seconds_per_mb * len(data) / (1 << 20)
        bounds = proc.Bounds(
            seconds=timeout, output=64 * 1024, overflow="drop", memory=LIBREOFFICE_MEMORY
        )
        try:
            done = proc.run(cmd, env={"HOME": tmp, "PATH": "/usr/bin:/bin"}, bounds=bounds)
        except OSError:
            return None
        if done.timed_out:
            raise LimitReached("LibreOffice took too long to lay out the document")
        pdf = out / (src.stem + ".pdf")
        if not pdf.exists():
            raise CorruptData("LibreOffice could not open the document")
        return PdfParser().count(pdf.read_bytes(), limits).pages


def _zip_member(data: Buffer, name: str) -> bytes | None:
    import zipfile  # lazy: importing it costs every job

    try:
        with zipfile.ZipFile(BufferStream(data)) as zf:
            try:
                info = zf.getinfo(name)
            except KeyError:
                return None
            with zf.open(info) as fh:
                return fh.read(_MAX_XML)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise CorruptData(f"damaged ZIP container ({exc})") from None


class _Office:
    name = ""
    format = ""

    def __init__(self, use_libreoffice: bool = True) -> None:
        self.use_libreoffice = use_libreoffice

    def _convert(self, data: Buffer, suffix: str, limits: Limits) -> int | str | None:
        """Pages laid out by LibreOffice; the reason (str) when it failed; None without it."""
        if not self.use_libreoffice:
            return None
        try:
            return libreoffice_pages(data, suffix, limits)
        except CorruptData as exc:  # e.g. Calc or Impress not installed: metadata may do
            return str(exc)

    def _result(
        self, label: str, converted: int | str | None, metadata_pages: int | None
    ) -> Analysis:
        """LibreOffice's count, else the metadata's, saying which; else a clear error."""
        if isinstance(converted, int):
            return Analysis(label, converted, method="libreoffice")
        notes = (f"{converted}: page count from the document's metadata",) if converted else ()
        if metadata_pages is not None and metadata_pages > 0:
            return Analysis(label, metadata_pages, method="metadata", notes=notes)
        if converted:
            raise CorruptData(f"{label}: {converted}, and its metadata holds no page count")
        raise AnalysisUnavailable(
            f"{label}: no page count in its metadata, and LibreOffice is not installed"
        )


class OdfParser(_Office):
    name = "odf"
    format = "OpenDocument"

    def detect(self, head: bytes) -> float:
        if not head.startswith(_ZIP):
            return 0.0
        if head[30:38] == b"mimetype" and head[38:73] == _ODF_MIME:
            return 1.0
        return 0.7 if _ODF_MIME in head[:4096] else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        mime = _zip_member(data, "mimetype") or b""
        kind = mime[len(_ODF_MIME) :].decode("ascii", "replace").strip()
        if not mime.startswith(_ODF_MIME):
            raise CorruptData("OpenDocument: no mimetype")
        kind = kind.removesuffix("-template")
        label = f"OpenDocument {kind}"
        converted = self._convert(data, _ODF_SUFFIX.get(kind, ".odt"), limits)
        pages = None
        if not isinstance(converted, int):
            m = _ODF_PAGES.search(_zip_member(data, "meta.xml") or b"")
            pages = int(m.group(1)) if m else None
        return self._result(label, converted, pages)


class OoxmlParser(_Office):
    name = "ooxml"
    format = "Office Open XML"

    def detect(self, head: bytes) -> float:
        if not head.startswith(_ZIP):
            return 0.0
        if b"word/" in head:
            return 0.9
        if b"ppt/" in head or b"xl/" in head:
            return 0.85
        return 0.5 if b"[Content_Types].xml" in head else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        types = _zip_member(data, "[Content_Types].xml")
        if types is None:
            raise CorruptData("Office Open XML: no [Content_Types].xml")
        if b"wordprocessingml" in types:
            label, suffix = "Word document (docx)", ".docx"
        elif b"presentationml" in types:
            label, suffix = "PowerPoint presentation (pptx)", ".pptx"
        elif b"spreadsheetml" in types:
            label, suffix = "Excel workbook (xlsx)", ".xlsx"
        else:
            raise CorruptData("Office Open XML: not a document, presentation or workbook")
        converted = self._convert(data, suffix, limits)
        pages = None
        if not isinstance(converted, int):
            m = _OOXML_PAGES.search(_zip_member(data, "docProps/app.xml") or b"")
            pages = int(m.group(2)) if m else None
        return self._result(label, converted, pages)


class MsWordParser(_Office):
    name = "msword"
    format = "Word document (doc)"

    def detect(self, head: bytes) -> float:
        if not head.startswith(_OLE):
            return 0.0
        return 0.9 if "WordDocument".encode("utf-16-le") in head else 0.6

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        import olefile

        try:
            with olefile.OleFileIO(BufferStream(data)) as ole:
                if not ole.exists("WordDocument"):
                    raise CorruptData("OLE document that is not a Word document")
                if ole.exists("EncryptionInfo") or ole.exists("encryption"):
                    raise EncryptedData(f"{self.format}: encrypted")
                try:
                    pages = ole.get_metadata().num_pages
                except Exception:  # damaged property sets: no metadata, not fatal
                    pages = None
        except PdlError:
            raise
        except Exception as exc:  # olefile raises assorted errors on hostile containers
            raise CorruptData(f"{self.format}: damaged OLE container ({exc})") from None
        converted = self._convert(data, ".doc", limits)
        return self._result(self.format, converted, pages if isinstance(pages, int) else None)


PARSERS: list[Parser] = [OdfParser(), OoxmlParser(), MsWordParser()]
