"""A quote before printing (PyKota's pykotme): the price of files on each printer a
user may print to, with the user's overcharge, as the backend would charge them.
Nothing is charged or recorded.

Pure: the caller (`pagetally quote`, the web's quote page and API) reads the user,
the printers and their chains from the store and the settings from the config,
and passes a counter (pdl/quoting.QuoteCounter) that counts each file the way a
printer's `preaccounter` asks. Every file is one row per printer; with several
files a `(total)` row prices them as one job (a per-job price counted once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from pagetally.core.directives import parse_accounter, parse_ink
from pagetally.core.models import JobFacts, Printer, User
from pagetally.core.pricing import job_price, prices_colour
from pagetally.core.settings import RuleSettings
from pagetally.errors import NotFound

TOTAL = "(total)"


class NoPrinter(NotFound):
    """The user has no quota entry on the printers asked about: nowhere to quote."""

    def __init__(self, user: str, printers: Sequence[str]) -> None:
        Exception.__init__(
            self,
            f"user {user} has no quota entry on any printer matching "
            f"{','.join(printers)}: there is nowhere to quote",
        )


class Counts(Protocol):
    """One file as counted (pdl/quoting.Counted)."""

    @property
    def file(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def pages(self) -> int: ...
    @property
    def color_pages(self) -> int | None: ...
    @property
    def ink(self) -> Mapping[str, float]: ...


class Counter(Protocol):
    """Counts files (pdl/quoting.QuoteCounter)."""

    notes: list[str]

    def format_of(self, name: str) -> str: ...
    def count(self, name: str, colour: bool, ink: tuple[str, int] | None) -> Counts: ...


@dataclass(frozen=True)
class _Total:
    file: str
    format: str
    pages: int
    color_pages: int | None
    ink: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class QuoteRow:
    """One file (or the total) on one printer."""

    file: str
    format: str
    printer: str
    pages: int
    color_pages: int | None
    price: Decimal
    currency: str


@dataclass(frozen=True)
class PrinterSite:
    """What the quote reads of a printer, from the store and the config."""

    chain: Callable[[str], list[Printer]]
    settings: Callable[[str], RuleSettings]
    preaccounter: Callable[[str], str]


def quote_rows(
    user: User,
    printers: Sequence[str],
    patterns: Sequence[str],
    files: Sequence[str],
    counter: Counter,
    site: PrinterSite,
    notes: list[str] | None = None,
) -> list[QuoteRow]:
    """The quote of `files` for `user` on `printers` (those of the user's quota
    entries matching `patterns`; none: NoPrinter)."""
    if not printers:
        raise NoPrinter(user.name, patterns)
    for name in files:  # every file readable before any price is shown
        counter.format_of(name)
    said: list[str] = []
    rows: list[QuoteRow] = []
    for printer in sorted(set(printers)):
        chain = site.chain(printer)
        settings = site.settings(printer)
        form = parse_accounter(site.preaccounter(printer) or "software()")
        if form.kind == "software" and form.arg:
            said += [
                f"{name}: the site's counter command ({form.arg}) is not run for a "
                "quote: counted by PageTally"
                for name in files
            ]
        ink = None
        if form.kind == "ink":
            spec = parse_ink(form.arg, "preaccounter")
            ink = (spec.colorspace, spec.resolution)
        counted = [counter.count(name, prices_colour(chain), ink) for name in files]
        rows += [_row(c, printer, chain, settings, user) for c in counted]
        if len(counted) > 1:
            rows.append(_row(_total(counted), printer, chain, settings, user))
    if notes is not None:
        notes.extend(dict.fromkeys([*said, *counter.notes]))
    return rows


def _total(counted: Sequence[Counts]) -> _Total:
    ink: dict[str, float] = {}
    for c in counted:
        for k, v in c.ink.items():
            ink[k] = ink.get(k, 0.0) + v
    colour = (
        None
        if any(c.color_pages is None for c in counted)
        else sum(c.color_pages or 0 for c in counted)
    )
    return _Total(TOTAL, "", sum(c.pages for c in counted), colour, ink)


def _row(
    c: Counts, printer: str, chain: list[Printer], settings: RuleSettings, user: User
) -> QuoteRow:
    facts = JobFacts(
        user=user.name,
        printer=printer,
        pages=c.pages,
        color_pages=c.color_pages or 0,
        ink=dict(c.ink),
    )
    price = job_price(chain, facts, settings, user)
    return QuoteRow(c.file, c.format, printer, c.pages, c.color_pages, price, settings.currency)
