"""Charts as server-side SVG (no JavaScript): bars with their values written out.

Pure: numbers and labels in, SVG text out, every label escaped. Also the
figures the charts page shows, from the store's sums (`printed_sums`, summed in
SQL): pages per month, colour vs mono, pages by printer, and the sheets, paper
and CO2 that duplex (and n-up) saved, with the site's factors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

from pagetally.storage.webqueries import PrintedSums


def bars(
    title: str,
    items: Sequence[tuple[str, int]],
    *,
    width: int = 560,
    bar_height: int = 22,
    colour: str = "#3b6ea5",
) -> Markup:
    """A horizontal bar chart; `items` are (label, value). Labelled for screen readers."""
    top = max((v for _, v in items), default=0) or 1
    label_w, gap = 150, 4
    height = max(1, len(items)) * (bar_height + gap) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = 2 + i * (bar_height + gap)
        w = int((width - label_w - 60) * value / top)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_height * 0.7:.0f}" text-anchor="end" '
            f'font-size="12">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_height}" fill="{colour}"/>'
            f'<text x="{label_w + w + 4}" y="{y + bar_height * 0.7:.0f}" '
            f'font-size="12">{value}</text>'
        )
    if not items:
        parts.append('<text x="4" y="16" font-size="12">no pages printed</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from escaped labels and integers


@dataclass(frozen=True)
class Figures:
    per_month: list[tuple[str, int]]
    colour: int
    mono: int
    by_printer: list[tuple[str, int]]
    pages: int
    sheets: int
    sheets_saved: int
    paper_grams: Decimal
    co2_grams: Decimal


def figures(
    sums: Sequence[PrintedSums], sheet_grams: Decimal, co2_grams: Decimal, months: int = 12
) -> Figures:
    """The charts' figures from the store's sums of the user's printed jobs
    (`printed_sums`: per printer and day, summed in SQL; refunded jobs were
    printed too).

    A job's sheets are the physical sheets when known, else its pages; the
    sheets saved are pages minus sheets (duplex, n-up).
    """
    per_month: dict[str, int] = {}
    by_printer: dict[str, int] = {}
    colour = pages = sheets = 0
    for s in sums:
        key = f"{s.day:%Y-%m}"
        per_month[key] = per_month.get(key, 0) + s.pages
        by_printer[s.printer] = by_printer.get(s.printer, 0) + s.pages
        colour += s.color_pages
        pages += s.pages
        sheets += s.sheets
    saved = max(0, pages - sheets)
    return Figures(
        per_month=sorted(per_month.items())[-months:],
        colour=colour,
        mono=pages - colour,
        by_printer=sorted(by_printer.items(), key=lambda kv: (-kv[1], kv[0])),
        pages=pages,
        sheets=sheets,
        sheets_saved=saved,
        paper_grams=sheet_grams * saved,
        co2_grams=co2_grams * saved,
    )
