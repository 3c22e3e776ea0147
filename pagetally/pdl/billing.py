"""What a job's count for billing needs from the analysis, shared by the backend's
count (cups/analysing.count_job) and `pagetally quote` so that a quote is counted
exactly as the job would be.

- `analyse_for_billing`: the analysis made as the accounter form asks — plain,
  colour pages at COLOR_DPI, or ink in a colour space at a resolution — and, when
  colour or ink cannot be analysed, the plain count with a note (pages are still
  priced).
- `inked`: colour pages and summed ink coverage (percent of a page per channel),
  copies (the job's own and those still to be made downstream) included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pagetally.errors import PdlError
from pagetally.pdl.base import Analysis

#: Resolution of the colour verdict when only colour pages (not ink) are priced.
COLOR_DPI = 72


@dataclass(frozen=True, slots=True)
class Inked:
    """A job's colour facts for billing (see the module's doc)."""

    color_pages: int = 0
    ink: Mapping[str, float] | None = None


def inked(analysis: Analysis, factor: int = 1) -> Inked:
    """Colour pages and summed coverage of an analysis made with colour on."""
    if analysis.page_inks is None:
        return Inked()
    totals: dict[str, float] = {}
    for page in analysis.page_inks:
        for channel, percent in page.coverage.items():
            totals[channel] = totals.get(channel, 0.0) + percent
    copies = max(analysis.copies, 1) * factor
    return Inked(
        color_pages=(analysis.color_pages or 0) * factor,
        ink={k: round(v * copies, 4) for k, v in totals.items()},
    )


def analyse_for_billing(
    path: str | Path, *, color: bool = False, ink: tuple[str, int] | None = None
) -> tuple[Analysis, str]:
    """(the analysis, a note when colour or ink had to be left out). `ink` is
    (colour space, dpi) of an `ink(...)` form. A job whose pages cannot be
    counted raises PdlError."""
    from pagetally import pdl

    try:
        if ink is not None:
            return pdl.analyse(path, colorspace=ink[0], resolution=ink[1]), ""
        return pdl.analyse(path, color=color, resolution=COLOR_DPI if color else None), ""
    except PdlError as e:
        if not (color or ink is not None):
            raise
        return pdl.analyse(path), f"colour and ink could not be analysed ({e}): priced by pages"
