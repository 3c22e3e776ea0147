"""`pagetally count` of a PDF, TIFF, PCL XL or ESC/P job imports only the parsers its
signature leaves.

The answer must be the one asking every parser gives: each sample's detection by
signature is compared with the detection among all parsers, and no parser outside
registry.SIGNATURES' modules may be as sure of any sample.
"""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pagetally.pdl import Detection, analyse, pjl, registry
from tests.pdl._pdfmake import hybrid_pdf, simple_pdf
from tests.pdl.test_pclxl import HEADER_BE, HEADER_LE, page, stream
from tests.pdl.test_registry import _dist

detection = importlib.import_module("pagetally.pdl.detect")  # (the package shadows it)


def _tiff(pages: int, order: str = "II") -> bytes:
    from PIL import Image

    frames = [Image.new("1", (16, 16), i % 2) for i in range(pages)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    data = out.getvalue()
    if order == "MM":  # Pillow writes little-endian; big-endian through its own writer
        out = io.BytesIO()
        frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], big_endian=True)
        data = out.getvalue()
    return data


SAMPLES: dict[str, Callable[[], bytes]] = {
    "pdf": lambda: simple_pdf(3),
    "hybrid pdf": hybrid_pdf,
    "pclm-like": lambda: b"%PDF-1.7\n%PCLm 1.0\n" + simple_pdf(2)[9:],
    "pdf header only": lambda: b"%PDF-1.4\n",
    "pdf junk": lambda: b"%PDF-\x00\xff garbage",
    "tiff II": lambda: _tiff(4),
    "tiff MM": lambda: _tiff(2, "MM"),
    "tiff header only": lambda: b"II*\x00\x08\x00\x00\x00",
    "bigtiff junk": lambda: b"II+\x00\x08\x00\x00\x00" + b"\x00" * 64,
    "pcl xl": lambda: _xl(page(), page()),
    "pcl xl big-endian": lambda: _xl(page(), header=HEADER_BE),
    "pcl xl as made (pjl)": lambda: stream(page(), page()),
    "pcl xl ascii": lambda: b"' HP-PCL XL;2;0\nBeginSession\nBeginPage\nEndPage\n",
    "pcl xl in pjl": lambda: _pjl("PCLXL", _xl(page(), page(), page())),
    "pcl xl entered as pcl": lambda: _pjl("PCL", _xl(page())),
    "pcl xl entered as postscript": lambda: _pjl("POSTSCRIPT", _xl(page())),
    "pdf in pjl": lambda: _pjl("PDF", simple_pdf(2)),
    "pdf entered as pcl xl": lambda: _pjl("PCLXL", simple_pdf(2)),
    "tiff after pjl": lambda: _pjl("PCL", _tiff(2)),
    # ESC @: what Ghostscript's stcolor, epson, necp6 and dj505j devices write first
    "esc/p 2 (stcolor)": lambda: (
        b"\x1b@\x1b(G\x01\x00\x01\x1b(i\x01\x00\x00\x1b(U\x01"
        b"\x00\x14\x1b(C\x02\x009\x08\x1b(c\x04\x00\x16\x00\xd5\x07"
        b"\x1bU\x00\x1b+\x02\r\x1b(V\x02\x00?\x00\x0c\x1b@"
    ),
    "esc/p (epson)": lambda: b"\x1b@\x1bP\x1bl\x00\r\x1bQT\x1bJO\x0c\x1b@",
    "esc/p (necp6)": lambda: b"\x1b@\x1bP\x1bl\x00\r\x1c3\x01\x1bQT\x1bJl\x0c\x1b@",
    "dj505j": lambda: (
        b"\x1b@\x1b_R\xb4\x00\x1b_D\x01\x1b_E\x00\x1b_N\x00\x1b_J\xc4\xff"
        b"\x1b_U\xff\xff\x1b_S\xa3\x05\x1b_A\x01"
    ),
    "esc @ then bjc": lambda: b"\x1b@\x1b[K\x02\x00\x00\x0f\x1b@",
    "esc @ then text": lambda: b"\x1b@Hello\r\n\x0c",
}


def _xl(*pages: bytes, header: bytes = HEADER_LE) -> bytes:
    """A PCL XL stream without the PJL that tests/pdl/test_pclxl.py wraps it in."""
    made = stream(*pages, header=header)
    return made[made.index(header) : made.rindex(b"\x1b%-12345X")]


def _pjl(language: str, body: bytes) -> bytes:
    uel = b"\x1b%-12345X"
    return uel + b"@PJL JOB\r\n@PJL ENTER LANGUAGE = " + language.encode() + b"\r\n" + body + uel


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    registry.refresh()
    yield
    registry.refresh()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_signature_detection_is_what_all_parsers_say(name: str, fresh_registry: None) -> None:
    data = SAMPLES[name]()
    try:
        fast: tuple[str, float, tuple[str, ...]] | str = _key(detection.detect(data))
    except Exception as exc:
        fast = f"{type(exc).__name__}: {exc}"
    everyone = registry.parsers()
    try:
        full: tuple[str, float, tuple[str, ...]] | str = _key(detection.detect(data, everyone))
    except Exception as exc:
        full = f"{type(exc).__name__}: {exc}"
    assert fast == full
    header = pjl.read_header(data)
    head = data[header.offset : header.offset + detection.HEAD_SIZE]
    signed = {m for magic, mods in registry.SIGNATURES if head.startswith(magic) for m in mods}
    assert signed, "every sample's job opens with a signature"
    if header.language is not None:
        return  # what PJL enters decides (detect._by_signature)
    outsiders = {
        p.name: detection._ask(p, head)
        for p in everyone
        if type(p).__module__.rsplit(".", 1)[-1] not in signed
    }
    assert max(outsiders.values()) < detection._SURE, outsiders


def _key(d: Detection) -> tuple[str, float, tuple[str, ...]]:
    return (d.parser.name, d.confidence, d.also)


def test_count_of_pdf_tiff_pcl_xl_and_escp_imports_only_their_parsers(tmp_path: Path) -> None:
    pdf, tif, pxl = tmp_path / "a.pdf", tmp_path / "b.tif", tmp_path / "c.pxl"
    escp = tmp_path / "d.escp"
    pdf.write_bytes(simple_pdf(3))
    tif.write_bytes(_tiff(4))
    pxl.write_bytes(stream(page(), page()))
    escp.write_bytes(SAMPLES["esc/p (epson)"]())
    code = textwrap.dedent(
        f"""
        import json, sys
        sys.argv[1:] = ["count", {str(pdf)!r}, {str(tif)!r}, {str(pxl)!r}, {str(escp)!r}]
        from pagetally.cli.launch import run
        try:
            run()
        except SystemExit as exc:
            print(json.dumps([exc.code, sorted(sys.modules)]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stdout.splitlines()
    assert lines[:4] == [
        f"{pdf}: 3 pages (PDF)",
        f"{tif}: 4 pages (TIFF)",
        f"{pxl}: 2 pages (PCL XL)",
        f"{escp}: 1 page (ESC/P)",
    ]
    status, modules = json.loads(lines[4])
    assert status == 0
    formats = {m.rsplit(".", 1)[-1] for m in modules if m.startswith("pagetally.pdl.formats.")}
    assert {f for f in formats if not f.startswith("_")} == {
        "pdf",
        "pclm",
        "image",
        "pclxl",
        "escp",
        "bjc",
        "dj505j",
    }
    assert not [m for m in modules if m.split(".")[0] in {"pikepdf", "PIL", "numpy", "olefile"}]


PDF_PLUGIN = """
from pagetally.pdl.base import Analysis

class SitePdf:
    name = "pdf"
    format = "site PDF"

    def detect(self, head):
        return 1.0 if head.startswith(b"%PDF-") else 0.0

    def count(self, data, limits=None):
        return Analysis(self.format, 42)

PARSERS = [SitePdf()]
"""


def test_a_site_plugin_still_replaces_a_signed_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    _dist(tmp_path, "sitepdf", "[pagetally.pdl]\npdf = sitepdf:PARSERS\n", PDF_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.refresh()
    a = analyse(simple_pdf(3))
    assert (a.format, a.pages) == ("site PDF", 42)
