"""`pagetally count` of a PDF or TIFF imports only the parsers its signature leaves.

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
from collections.abc import Iterator
from pathlib import Path

import pytest

from pagetally.pdl import Detection, analyse, registry
from tests.pdl._pdfmake import hybrid_pdf, simple_pdf
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


SAMPLES = {
    "pdf": lambda: simple_pdf(3),
    "hybrid pdf": hybrid_pdf,
    "pclm-like": lambda: b"%PDF-1.7\n%PCLm 1.0\n" + simple_pdf(2)[9:],
    "pdf header only": lambda: b"%PDF-1.4\n",
    "pdf junk": lambda: b"%PDF-\x00\xff garbage",
    "tiff II": lambda: _tiff(4),
    "tiff MM": lambda: _tiff(2, "MM"),
    "tiff header only": lambda: b"II*\x00\x08\x00\x00\x00",
    "bigtiff junk": lambda: b"II+\x00\x08\x00\x00\x00" + b"\x00" * 64,
}


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
    signed = {m for magic, mods in registry.SIGNATURES if data.startswith(magic) for m in mods}
    assert signed, "every sample opens with a signature"
    head = data[: detection.HEAD_SIZE]
    outsiders = {
        p.name: detection._ask(p, head)
        for p in everyone
        if type(p).__module__.rsplit(".", 1)[-1] not in signed
    }
    assert max(outsiders.values()) < detection._SURE, outsiders


def _key(d: Detection) -> tuple[str, float, tuple[str, ...]]:
    return (d.parser.name, d.confidence, d.also)


def test_count_of_a_pdf_and_a_tiff_imports_only_their_parsers(tmp_path: Path) -> None:
    pdf, tif = tmp_path / "a.pdf", tmp_path / "b.tif"
    pdf.write_bytes(simple_pdf(3))
    tif.write_bytes(_tiff(4))
    code = textwrap.dedent(
        f"""
        import json, sys
        sys.argv[1:] = ["count", {str(pdf)!r}, {str(tif)!r}]
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
    assert lines[:2] == [f"{pdf}: 3 pages (PDF)", f"{tif}: 4 pages (TIFF)"]
    status, modules = json.loads(lines[2])
    assert status == 0
    formats = {m.rsplit(".", 1)[-1] for m in modules if m.startswith("pagetally.pdl.formats.")}
    assert {f for f in formats if not f.startswith("_")} == {"pdf", "pclm", "image"}
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
