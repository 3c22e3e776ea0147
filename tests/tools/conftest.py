"""Shared makings of the PyKota user tools' tests: PDFs built here with pikepdf."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from tests.cli.conftest import Cli, make_cli

GREY = b"0 g 72 72 200 200 re f"
RED = b"1 0 0 rg 72 72 200 200 re f"


def make_pdf(path: Path, pages: list[bytes]) -> Path:
    """A PDF whose pages paint the given content streams (grey or colour)."""
    pdf = pikepdf.new()
    for content in pages:
        page = pdf.add_blank_page(page_size=(595, 842))
        page.obj.Contents = pdf.make_stream(content)
    pdf.save(path)
    return path


@pytest.fixture
def tcli(tmp_path: Path) -> Cli:
    return make_cli(tmp_path)
