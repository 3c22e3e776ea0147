"""Office documents counted from their metadata (LibreOffice conversion: corpus test)."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pytest

from pagetally.errors import AnalysisUnavailable, CorruptData
from pagetally.pdl.base import DEFAULT_LIMITS
from pagetally.pdl.formats.office import MsWordParser, OdfParser, OoxmlParser


def _odf(kind: str, meta_stats: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            zipfile.ZipInfo("mimetype"), f"application/vnd.oasis.opendocument.{kind}"
        )  # stored first, uncompressed, as ODF requires
        zf.writestr(
            "meta.xml",
            '<?xml version="1.0"?><office:document-meta '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"><office:meta>'
            f"<meta:document-statistic {meta_stats}/></office:meta></office:document-meta>",
        )
        zf.writestr("content.xml", "<x/>")
    return buf.getvalue()


def _ooxml(kind: str, app: str) -> bytes:
    ct = {
        "word": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "ppt": "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        "xl": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    }[kind]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", f'<Types><Override ContentType="{ct}"/></Types>')
        zf.writestr(f"{kind}/document.xml", "<x/>")
        zf.writestr("docProps/app.xml", f"<Properties>{app}</Properties>")
    return buf.getvalue()


def test_odt_page_count_from_metadata() -> None:
    data = _odf("text", 'meta:page-count="7" meta:word-count="9"')
    p = OdfParser(use_libreoffice=False)
    assert p.detect(data[:4096]) == 1.0
    a = p.count(data)
    assert (a.pages, a.method, a.format) == (7, "metadata", "OpenDocument text")


def test_ods_has_no_page_count_without_libreoffice() -> None:
    data = _odf("spreadsheet", 'meta:table-count="2"')
    with pytest.raises(AnalysisUnavailable, match="LibreOffice"):
        OdfParser(use_libreoffice=False).count(data)


@pytest.mark.parametrize(
    ("kind", "app", "pages", "label"),
    [
        ("word", "<Pages>12</Pages><Words>3</Words>", 12, "Word document (docx)"),
        ("ppt", "<Slides>5</Slides>", 5, "PowerPoint presentation (pptx)"),
    ],
)
def test_ooxml_page_count_from_metadata(kind: str, app: str, pages: int, label: str) -> None:
    data = _ooxml(kind, app)
    p = OoxmlParser(use_libreoffice=False)
    assert p.detect(data[:4096]) >= 0.85
    a = p.count(data)
    assert (a.pages, a.method, a.format) == (pages, "metadata", label)


def test_zip_that_is_no_document() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(CorruptData):
        OoxmlParser(use_libreoffice=False).count(buf.getvalue())
    assert OdfParser().detect(buf.getvalue()) == 0.0


def test_damaged_ole_is_corrupt() -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert MsWordParser().detect(data) > 0.5
    with pytest.raises(CorruptData):
        MsWordParser(use_libreoffice=False).count(data)


@pytest.mark.slow
def test_libreoffice_failure_falls_back_to_metadata_and_says_so() -> None:
    """Only LibreOffice Writer is installed (and this ODS has no real content)."""
    data = _odf("spreadsheet", 'meta:page-count="3"')
    a = OdfParser().count(data)
    assert (a.pages, a.method) == (3, "metadata")
    assert "metadata" in a.notes[0]


@pytest.mark.slow
def test_libreoffice_lays_out_a_docx() -> None:
    """With LibreOffice installed, its layout gives the count (method "libreoffice")."""
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "a.txt"
        src.write_text("one line\n")
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation={(Path(tmp) / 'p').as_uri()}",
                "--headless",
                "--convert-to",
                "docx",
                "--outdir",
                tmp,
                str(src),
            ],
            capture_output=True,
            check=True,
            timeout=180,
        )
        data = (Path(tmp) / "a.docx").read_bytes()
    a = OoxmlParser().count(data)
    assert (a.pages, a.method) == (1, "libreoffice")


def _long_docx(paragraphs: int) -> bytes:
    """A real Word document of many paragraphs: seconds of LibreOffice's layout."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
    body = "<w:p><w:r><w:t>Lorem ipsum dolor sit amet, consectetur.</w:t></w:r></w:p>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
            'formats-package.relationships+xml"/><Override PartName="/word/document.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
            'document.main+xml"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="r1" Type="{rel}" '
            'Target="word/document.xml"/></Relationships>',
        )
        zf.writestr(
            "word/document.xml",
            f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body>{body * paragraphs}'
            "</w:body></w:document>",
        )
    return buf.getvalue()


@pytest.mark.slow
def test_libreoffice_past_its_time_is_killed_with_soffice_bin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DOCX zip bomb's lesson: on a timeout not only the `soffice` wrapper but
    `soffice.bin`, which it forks, is killed (its whole process group). Every
    process of this conversion names its private profile under tmp_path."""
    from pagetally.errors import LimitReached
    from pagetally.pdl.formats import office

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(office, "LIBREOFFICE_TIMEOUT", 1.5)
    with pytest.raises(LimitReached, match="took too long"):
        office.libreoffice_pages(_long_docx(20_000), ".docx", DEFAULT_LIMITS)
    left = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if str(tmp_path).encode() in cmdline and state != "Z":
            left.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    assert left == []
