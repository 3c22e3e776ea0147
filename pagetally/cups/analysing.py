"""Step 3 of a job: its pages, colour pages and ink, as the `preaccounter` (for the
decision) and the `accounter` (for the charge) count them.

`software()` is PageTally's own page counter (pdl); `software(command)` a site's
counter fed the job on its standard input; `ink(colorspace[,dpi])` the pdl ink
analysis, pricing by coverage. Copies still to be made downstream multiply every
count. The job is analysed once when both directives agree; colour is analysed
only when something prices it (an ink form, or a printer's colour-page price).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pagetally.core.models import AccountSnapshot, JobFacts
from pagetally.cups.accounting import Accounter
from pagetally.cups.counting import count_with_command, parse_ink
from pagetally.errors import ConfigError, DeviceError, PdlError
from pagetally.pdl.billing import COLOR_DPI, analyse_for_billing, inked

__all__ = ["COLOR_DPI", "JobCount", "count_job", "parse_preaccounter", "prices_colour"]


@dataclass(frozen=True, slots=True)
class JobCount:
    """One way of counting a job. `color_pages` None: colour not analysed."""

    pages: int = 0
    color_pages: int | None = None
    ink: Mapping[str, float] | None = None
    problem: str = ""  # why it could not be counted ("" when it could)
    method: str = "software()"
    note: str = ""  # what was left out (colour or ink analysis unavailable)

    def onto(self, facts: JobFacts) -> JobFacts:
        """The facts with this count's pages, colour pages and ink."""
        return dataclasses.replace(
            facts,
            pages=self.pages,
            color_pages=facts.color_pages if self.color_pages is None else self.color_pages,
            ink=dict(self.ink) if self.ink else {},
        )


def parse_preaccounter(form: Accounter) -> Accounter:
    """The pre-count is made from the job data only: hardware and ipp count what
    was printed, which is not known before printing."""
    if form.kind not in ("software", "ink"):
        raise ConfigError(
            f"{form.kind}() counts what was printed: use software() or ink(...) before printing",
            directive="preaccounter",
        )
    return form


def count_job(
    path: str | Path,
    size: int,
    factor: int,
    form: Accounter,
    *,
    color: bool = False,
    env: Mapping[str, str] | None = None,
) -> JobCount:
    """Count the job as `form` says; a job that cannot be counted gives a JobCount
    with a problem (pages 0) rather than an exception: the caller's policy decides."""
    method = f"{form.kind}({form.arg})"
    if size == 0:
        return JobCount(problem="the job is empty", method=method)
    if form.kind == "software" and form.arg:
        try:
            pages = count_with_command(form.arg, Path(path), env or {})
        except DeviceError as e:
            return JobCount(problem=f"PageTally cannot count this job's pages: {e}", method=method)
        return JobCount(pages * factor, method=method)
    ink = parse_ink(form.arg, "accounter") if form.kind == "ink" else None
    try:
        analysis, note = analyse_for_billing(
            path, color=color, ink=None if ink is None else (ink.colorspace, ink.resolution)
        )
    except PdlError as e:
        return JobCount(problem=f"PageTally cannot count this job's pages: {e}", method=method)
    colours = inked(analysis, factor)
    return JobCount(
        pages=analysis.pages * factor,
        color_pages=colours.color_pages if analysis.page_inks is not None else None,
        ink=colours.ink if ink is not None else None,
        method=method,
        note=note,
    )


def prices_colour(snapshot: AccountSnapshot | None) -> bool:
    """Whether a printer of the job's chain charges colour pages differently."""
    from pagetally.core.pricing import prices_colour as chain_prices_colour

    return snapshot is not None and chain_prices_colour(snapshot.printers)
