"""pdl/billing: the one count-for-billing that the backend (cups/analysing) and
`pagetally quote` share (the quote used to repeat ~15 lines of it)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from pagetally import pdl
from pagetally.errors import AnalysisUnavailable
from pagetally.pdl import billing
from tests.pdl._pdfmake import simple_pdf


def test_colour_or_ink_unavailable_falls_back_to_pages_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = tmp_path / "j.pdf"
    job.write_bytes(simple_pdf(3))
    plain = pdl.analyse

    def no_colour(path: object, **kw: object) -> pdl.Analysis:
        if kw.get("color") or kw.get("colorspace"):
            raise AnalysisUnavailable("no Ghostscript here")
        return plain(path)  # type: ignore[arg-type]

    monkeypatch.setattr(pdl, "analyse", no_colour)
    a, note = billing.analyse_for_billing(job, ink=("CMYK", 72))
    assert a.pages == 3 and a.page_inks is None
    assert note == "colour and ink could not be analysed (no Ghostscript here): priced by pages"
    assert billing.inked(a, 2) == billing.Inked()
    a, note = billing.analyse_for_billing(job)
    assert (a.pages, note) == (3, "")


def test_backend_and_quote_count_through_the_same_functions() -> None:
    from pagetally.cups import analysing, counting
    from pagetally.pdl import quoting

    assert counting.inked is billing.inked and analysing.COLOR_DPI == billing.COLOR_DPI
    own = inspect.getsource(quoting.QuoteCounter._count)
    assert "analyse_for_billing" in own and "inked(" in own
    assert "pdl.analyse(" not in own and not hasattr(quoting, "COLOR_DPI")
