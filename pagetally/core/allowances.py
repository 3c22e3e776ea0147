"""Scheduled allowances, which PyKota left to cron: what is due, and how much.

`pagetally allowances run` asks `period_key` which period `now` falls in; the
store records the key with each grant, so running twice in a period grants once
(Store.apply_allowance). Periods are read in UTC:

- day: "2026-11-24"
- week: ISO 8601 week, Monday first, with the ISO year: "2026-W48"
  (2027-01-01 is a Friday of "2026-W53")
- month: "2026-11"
- term: "term:2026-09-01", the latest configured term start on or before today.

`credit_to_grant` and `pages_after_grant` compute one grant for one account.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal

from pagetally.core.models import ZERO, Allowance, Period
from pagetally.errors import InvalidInput, RuleError


def _utc_day(now: datetime) -> date:
    if now.tzinfo is None:
        raise InvalidInput("allowances need a timezone-aware time (UTC)")
    return now.astimezone(UTC).date()


def current_term(term_starts: Iterable[date], today: date) -> date:
    """The start of the term `today` falls in: the latest start on or before it."""
    started = [d for d in term_starts if d <= today]
    if not started:
        listed = ", ".join(sorted(d.isoformat() for d in term_starts)) or "none configured"
        raise RuleError(
            f"no term has started on {today.isoformat()} (term starts: {listed}); "
            "set `termstarts` in pagetally.conf"
        )
    return max(started)


def period_key(period: Period, now: datetime, term_starts: Iterable[date] = ()) -> str:
    """The name of the period `now` lies in, as stored with each grant."""
    today = _utc_day(now)
    if period is Period.DAY:
        return today.isoformat()
    if period is Period.WEEK:
        year, week, _ = today.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if period is Period.MONTH:
        return f"{today.year:04d}-{today.month:02d}"
    if period is Period.TERM:
        return "term:" + current_term(term_starts, today).isoformat()
    raise InvalidInput(f"unknown allowance period {period!r}")  # pragma: no cover


def credit_to_grant(balance: Decimal, allowance: Allowance) -> Decimal:
    """How much credit to add to `balance` for one period.

    Without a cap, the allowance's credit. With one, only what brings the balance
    up to the cap: unused credit does not pile up, and a balance already at or
    above the cap gets nothing (it is never lowered). Never negative.
    """
    credit = max(allowance.credit, ZERO)
    if allowance.cap is None:
        return credit
    room = allowance.cap - balance
    return max(min(credit, room), ZERO)


def pages_after_grant(page_counter: int, allowance: Allowance) -> int:
    """A quota entry's page counter after one period's grant.

    `reset_counters` sets it to 0; otherwise it is lowered by the allowance's
    pages (giving that many pages back), never below 0 and never raised.
    """
    if allowance.reset_counters:
        return 0
    return max(page_counter - max(allowance.pages, 0), 0) if page_counter > 0 else page_counter


def applies_to_printer(allowance: Allowance, printer: str) -> bool:
    """Whether the page part of `allowance` touches the entry on `printer`."""
    return allowance.printer in ("*", printer)
