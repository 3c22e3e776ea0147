"""Counting files for a quote (`pagetally quote`, the web's quote page and API):
each file counted once per way of counting, exactly as the backend's pre-count
(cups/analysing.count_job) would, through pdl/billing.py. core/quote.py prices
what this counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pagetally.errors import InvalidInput, PdlError
from pagetally.pdl.base import Analysis


@dataclass(frozen=True)
class Counted:
    """One file as counted for one way of counting (core.quote.Counts)."""

    file: str
    format: str
    pages: int
    color_pages: int | None
    ink: dict[str, float] = field(default_factory=dict)


class QuoteCounter:
    """Counts each file once per way of counting (colour, ink), as the backend would."""

    def __init__(self, files: list[str]) -> None:
        self.files = files
        self._plain: dict[str, Analysis] = {}  # the first count, without colour
        self._cache: dict[tuple[str, bool, tuple[str, int] | None], Counted] = {}
        self.notes: list[str] = []

    def format_of(self, name: str) -> str:
        """The file's language; a file that cannot be counted raises PdlError now."""
        if name not in self._plain:
            from pagetally import pdl

            path = Path(name)
            if not path.is_file():
                raise InvalidInput(f"{name}: no such file")
            try:
                self._plain[name] = pdl.analyse(path)
            except PdlError as exc:
                raise type(exc)(f"{name}: cannot be counted: {exc}") from None
        return self._plain[name].format

    def count(self, name: str, colour: bool, ink: tuple[str, int] | None) -> Counted:
        """`name` counted with colour pages (when a printer prices them) or ink
        coverage in (colour space, dpi) (an `ink(...)` pre-accounter); when colour
        or ink cannot be analysed, pages are priced as the backend does (a note)."""
        key = (name, colour, ink)
        if key not in self._cache:
            self._cache[key] = self._count(name, colour, ink)
        return self._cache[key]

    def _count(self, name: str, colour: bool, ink: tuple[str, int] | None) -> Counted:
        from pagetally.pdl.billing import analyse_for_billing, inked

        fmt = self.format_of(name)
        if ink is None and not colour:
            a = self._plain[name]
        else:
            a, note = analyse_for_billing(name, color=colour, ink=ink)
            if note:
                self.notes.append(f"{name}: {note}")
        colours = inked(a)
        return Counted(
            name,
            fmt,
            a.pages,
            None if a.page_inks is None else colours.color_pages,
            dict(colours.ink or {}) if ink is not None else {},
        )
