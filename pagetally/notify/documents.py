"""PDF documents for people: invoices, refund receipts and accounting banners.

Drawn with reportlab (the `invoice` extra). Every text drawn comes from the
store or the configuration and is drawn as text (`drawString`), never parsed as
markup, so a job title cannot change the document. Pure: data in, PDF bytes out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pagetally.core.invoices import Invoice, Receipt, Site
from pagetally.core.money import format_money
from pagetally.errors import InvalidInput, PageTallyError

MARGIN = 56.0  # points (about 2 cm)
LINE = 14.0


class MissingReportlab(PageTallyError):
    """PDF documents need reportlab: pip install 'pagetally[invoice]'."""


def _reportlab() -> Any:
    try:
        from reportlab.lib import pagesizes
        from reportlab.pdfgen import canvas
    except ModuleNotFoundError:
        raise MissingReportlab(
            "PDF documents need reportlab: install pagetally[invoice] (pip install reportlab)"
        ) from None
    return pagesizes, canvas


def page_size(name: str) -> tuple[float, float]:
    """A page size by its usual name (A4, Letter, A3, Legal...), case-insensitive."""
    pagesizes, _ = _reportlab()
    size = getattr(pagesizes, name.strip().upper(), None)
    if not isinstance(size, tuple) or len(size) != 2:
        raise InvalidInput(f"unknown page size {name!r}: use A4, A5, A3, Letter, Legal...")
    return (float(size[0]), float(size[1]))


def draw_logo(c: Any, logo: str, width: float, top: float, max_height: float = 150) -> float:
    """The image `logo` at the centre top (none when empty); the y below it."""
    if not logo:
        return top
    try:
        from reportlab.lib.utils import ImageReader

        image = ImageReader(logo)
        iw, ih = image.getSize()
    except Exception as exc:  # reportlab raises many kinds for a bad image
        raise InvalidInput(f"--logo {logo}: not a readable image ({exc})") from None
    scale = min(1.0, (width - 2 * MARGIN) / iw, max_height / ih)
    c.drawImage(image, (width - iw * scale) / 2, top - ih * scale, iw * scale, ih * scale)
    return float(top - ih * scale - LINE)


class _Writer:
    """Lines of text down a page, a new page when the page is full."""

    def __init__(
        self, canvas: Any, size: tuple[float, float], header: Sequence[str], logo: str = ""
    ) -> None:
        self.c = canvas
        self.logo = logo
        self.width, self.height = size
        self.header = list(header)
        self.y = 0.0
        self._top()

    def _top(self) -> None:
        self.y = draw_logo(self.c, self.logo, self.width, self.height - MARGIN, 80)
        self.c.setFont("Helvetica", 9)
        for text in self.header:
            self.c.drawString(MARGIN, self.y, text)
            self.y -= LINE * 0.8
        self.y -= LINE

    def line(self, text: str, *, size: float = 10, bold: bool = False, x: float = 0) -> None:
        if self.y < MARGIN + LINE:
            self.c.showPage()
            self._top()
        self.c.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        self.c.drawString(MARGIN + x, self.y, text)
        self.y -= LINE * max(1.0, size / 10)

    def row(self, cells: Sequence[str], columns: Sequence[float], right: Sequence[bool]) -> None:
        if self.y < MARGIN + LINE:
            self.c.showPage()
            self._top()
        self.c.setFont("Helvetica", 9)
        for text, x, r in zip(cells, columns, right, strict=True):
            if r:
                self.c.drawRightString(MARGIN + x, self.y, text)
            else:
                self.c.drawString(MARGIN + x, self.y, text[:48])
        self.y -= LINE

    def gap(self, lines: float = 1) -> None:
        self.y -= LINE * lines

    def end_document_page(self) -> None:
        self.c.showPage()


def _site_header(site: Site) -> list[str]:
    return [t for t in (site.name, *site.address) if t]


def _when(d: datetime | None) -> str:
    return "-" if d is None else f"{d:%Y-%m-%d %H:%M}"


def _money(amount: Decimal, unit: str) -> str:
    return format_money(amount, unit)


_JOB_COLUMNS = (0.0, 100.0, 190.0, 330.0, 380.0, 470.0)
_JOB_RIGHT = (False, False, False, True, True, True)


def invoices_pdf(
    invoices: Sequence[Invoice],
    site: Site,
    size: tuple[float, float] = (595.27, 841.89),
    logo: str = "",
) -> bytes:
    """One invoice after the other, each starting on a new page."""
    _, canvas = _reportlab()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size, invariant=1)
    c.setTitle("Invoices")
    c.setCreator("PageTally")
    if logo:  # a bad image refused before anything else
        draw_logo(canvas.Canvas(io.BytesIO()), logo, size[0], size[1])
    for inv in invoices:
        w = _Writer(c, size, _site_header(site), logo)
        w.line(f"Invoice #{inv.number}", size=16, bold=True)
        w.line(f"Date: {inv.issued:%Y-%m-%d}")
        w.line(f"Period: from {_when(inv.start)} up to {_when(inv.end)}")
        w.line(f"Invoiced to: {inv.user}" + (f" ({inv.user_detail})" if inv.user_detail else ""))
        w.gap()
        w.row(["Date", "Job", "Printer", "Pages", "Copies", "Price"], _JOB_COLUMNS, _JOB_RIGHT)
        for job in inv.jobs:
            w.row(
                [
                    f"{job.date:%Y-%m-%d %H:%M}",
                    job.job_id or f"row {job.id}",
                    job.printer,
                    str(job.pages),
                    str(job.copies),
                    _money(job.price, inv.unit),
                ],
                _JOB_COLUMNS,
                _JOB_RIGHT,
            )
        w.gap()
        t = inv.totals
        w.line(f"Jobs: {len(inv.jobs)}, pages: {sum(j.pages for j in inv.jobs)}")
        if t.rate > 0:
            w.line(f"Total excluding VAT: {_money(t.net, inv.unit)}")
            w.line(f"VAT {t.rate.normalize():f}%: {_money(t.vat, inv.unit)}")
            w.line(f"Total including VAT: {_money(t.total, inv.unit)}", bold=True)
        else:
            w.line(f"Total: {_money(t.total, inv.unit)}", bold=True)
        w.end_document_page()
    if not invoices:
        c.showPage()
    c.save()
    return buf.getvalue()


def receipts_pdf(
    receipts: Sequence[Receipt], site: Site, size: tuple[float, float] = (595.27, 841.89)
) -> bytes:
    """One receipt per user refunded, each on its own page(s)."""
    _, canvas = _reportlab()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size, invariant=1)
    c.setTitle("Refund receipts")
    c.setCreator("PageTally")
    for rec in receipts:
        w = _Writer(c, size, _site_header(site))
        w.line(f"Receipt #{rec.number}", size=16, bold=True)
        w.line(f"Date: {rec.issued:%Y-%m-%d %H:%M}")
        w.line(f"Refunded to: {rec.user}")
        w.gap()
        w.row(
            ["Date", "Job", "Printer", "Pages", "Pages back", "Refunded"], _JOB_COLUMNS, _JOB_RIGHT
        )
        for ln in rec.lines:
            job = ln.job
            w.row(
                [
                    f"{job.date:%Y-%m-%d %H:%M}",
                    job.job_id or f"row {job.id}",
                    job.printer,
                    str(job.pages),
                    str(ln.pages),
                    _money(ln.amount, rec.unit),
                ],
                _JOB_COLUMNS,
                _JOB_RIGHT,
            )
        w.gap()
        w.line(f"Total refunded: {_money(rec.total, rec.unit)}", bold=True)
        if rec.balance_after is not None:
            w.line(f"Balance after refund: {_money(rec.balance_after, rec.unit)}")
        w.end_document_page()
    c.save()
    return buf.getvalue()


#: What a banner shows, in order: (label, PYKOTA* variable).
BANNER_FIELDS = (
    ("Username", "USERNAME"),
    ("Printer", "PRINTERNAME"),
    ("Job", "JOBID"),
    ("Title", "TITLE"),
    ("File", "FILENAME"),
    ("From", "JOBORIGINATINGHOSTNAME"),
    ("Billing code", "JOBBILLING"),
    ("Pages (precomputed)", "PRECOMPUTEDJOBSIZE"),
    ("Price (precomputed)", "PRECOMPUTEDJOBPRICE"),
    ("Account balance", "BALANCE"),
    ("Pages printed (page counter)", "PAGECOUNTER"),
    ("Soft limit", "SOFTLIMIT"),
    ("Hard limit", "HARDLIMIT"),
    ("Decision", "ACTION"),
)


def banner_pdf(
    fields: Sequence[tuple[str, str]],
    *,
    when: datetime,
    info: Sequence[str] = (),
    logo: str = "",
    savetoner: int = 0,
    url: str = "",
    size: tuple[float, float] = (595.27, 841.89),
) -> bytes:
    """One page: the logo at the centre top, then `label: value` lines, the extra
    `info` lines and the url at the bottom; text lightened by `savetoner` percent."""
    if not 0 <= savetoner <= 99:
        raise InvalidInput(f"--savetoner {savetoner}: give a percentage from 0 to 99")
    _, canvas = _reportlab()
    width, height = size
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size, invariant=1)
    c.setTitle("Accounting banner")
    c.setCreator("PageTally")
    top = height - MARGIN
    top = draw_logo(c, logo, width, top)
    c.setFillGray(savetoner / 100)
    c.setFont("Helvetica-Bold", 22)
    c.drawCentredString(width / 2, top - 22, "Print accounting")
    y = top - 22 - 3 * LINE
    c.setFont("Helvetica", 13)
    for label, value in [*fields, ("Date", f"{when:%Y-%m-%d %H:%M:%S}")]:
        c.drawString(MARGIN, y, f"{label}: {value}")
        y -= LINE * 1.5
    y -= LINE
    for text in info:
        c.drawString(MARGIN, y, text)
        y -= LINE * 1.5
    if url:
        c.setFont("Helvetica", 10)
        c.drawCentredString(width / 2, MARGIN, url)
    c.showPage()
    c.save()
    return buf.getvalue()
