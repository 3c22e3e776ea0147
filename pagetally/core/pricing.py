"""The price of a job: PyKota's rule, extended with a printer's price table.

For each printer of the chain (the job's printer, then every printer group above
it, each once) the printer's own `PriceTable` gives

    per_job
    + (mono_pages × per_page + colour_pages × per_color_page) × media multiplier
    + sheets × per_sheet × media multiplier

where, when the job carries ink coverage, the page part is replaced by PyKota's
ink pricing: Σ over inks of coefficient(ink) × per_page × coverage% / 100 (the
coverage is summed over the job's pages, so 100 means one fully covered page).
The job's price is the sum over the chain, times the user's overcharge factor
(< 1 undercharges, 0 is free). nochange users and pass-through printers pay 0.

`sheets` defaults to `pages` (simplex, one page per sheet). A missing media
name, or one not in a printer's table, multiplies by 1; names are compared in
lower case, and a PWG name such as "iso_a3_297x420mm" matches a table key "a3".

The result is rounded once, at the end, to 6 decimal places with ROUND_HALF_EVEN
(banker's rounding), so sums of many jobs do not drift; it is never negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext

from pagetally.core.models import ONE, ZERO, JobFacts, LimitBy, PriceTable, Printer, User
from pagetally.core.money import quantize
from pagetally.core.settings import RuleSettings

_HUNDRED = Decimal(100)


def media_multiplier(table: PriceTable, media: str | None) -> Decimal:
    """The factor a printer's table gives to a media size (1 when not listed)."""
    if not media or not table.media:
        return ONE
    wanted = media.strip().lower()
    keys = {k.lower(): v for k, v in table.media.items()}
    if wanted in keys:
        return keys[wanted]
    for part in wanted.replace("-", "_").split("_"):
        if part in keys:
            return keys[part]
    return ONE


def _ink_units(ink: Mapping[str, float], pages: int, settings: RuleSettings) -> Decimal:
    """Σ coefficient × coverage% / 100: how many 'fully covered pages' to price.

    A coverage that is not a finite positive number counts 0; one above 100 %
    per page (impossible, so a parser's error) is capped at 100 % per page.
    """
    total = ZERO
    cap = Decimal(100 * max(pages, 1))
    for name, coverage in ink.items():
        cov = Decimal(str(coverage))
        if not cov.is_finite() or cov <= 0:
            continue
        cov = min(cov, cap)
        total += settings.coefficient(name) * cov / _HUNDRED
    return total


def printer_price(table: PriceTable, facts: JobFacts, settings: RuleSettings) -> Decimal:
    """One printer's share of the job's price, before overcharge (not rounded)."""
    pages = max(facts.pages, 0)
    colour = min(max(facts.color_pages, 0), pages)
    sheets = pages if facts.sheets is None else max(facts.sheets, 0)
    factor = media_multiplier(table, facts.media)
    if facts.ink:
        page_part = table.per_page * _ink_units(facts.ink, pages, settings)
    else:
        colour_price = table.per_page if table.per_color_page is None else table.per_color_page
        page_part = (pages - colour) * table.per_page + colour * colour_price
    return table.per_job + (page_part + sheets * table.per_sheet) * factor


def chain_price(printers: Sequence[Printer], facts: JobFacts, settings: RuleSettings) -> Decimal:
    """The job's price summed over the printer chain, before overcharge (not rounded)."""
    return sum((printer_price(p.prices, facts, settings) for p in printers), ZERO)


def job_price(
    printers: Sequence[Printer],
    facts: JobFacts,
    settings: RuleSettings,
    user: User | None = None,
) -> Decimal:
    """What the job costs `user`: the chain's price × overcharge, rounded to 6 places
    (negative for a negative overcharge: the user earns by printing, as in PyKota).

    `printers` is the job's printer first, then its printer groups. 0 when the
    job's printer is pass-through or the user is limited by nochange; `user`
    None prices the job without overcharge (e.g. a quote for an unknown user).
    """
    if not printers or printers[0].passthrough:
        return quantize(ZERO)
    if user is not None and user.limit_by is LimitBy.NOCHANGE:
        return quantize(ZERO)
    # PyKota: "Positive or negative [overcharge] values are allowed ... giving
    # money to an user whenever he prints": a negative factor, a negative price
    overcharge = ONE if user is None else user.overcharge
    with localcontext() as ctx:
        ctx.prec = 60
        price = chain_price(printers, facts, settings) * overcharge
    return quantize(price)


def prices_colour(printers: Sequence[Printer]) -> bool:
    """Whether a printer of the chain charges colour pages differently (then a
    job's colour pages must be analysed to price it)."""
    return any(
        p.prices.per_color_page is not None and p.prices.per_color_page != p.prices.per_page
        for p in printers
    )
