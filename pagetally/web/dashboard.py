"""The admin dashboard of a period: the store's aggregates (storage/webqueries.py,
one GROUP BY each) gathered for the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pagetally.storage.base import ReportQueries
from pagetally.storage.webqueries import DayUsage, Refusals, UsageTotal

TOP = 10


@dataclass(frozen=True)
class Summary:
    per_day: list[DayUsage]
    top_users: list[UsageTotal]
    printers: list[UsageTotal]
    refusals: list[Refusals]
    jobs: int
    pages: int
    money: Decimal


def summarise(store: ReportQueries, since: datetime, until: datetime) -> Summary:
    """Charged jobs' pages and money per day, the top users, each printer's use,
    and refused jobs by reason, in [since, until)."""
    days = store.usage_by_day(since, until)
    return Summary(
        per_day=days,
        top_users=store.top_users(since, until, TOP),
        printers=sorted(store.printer_use(since, until), key=lambda t: (-t.pages, t.name)),
        refusals=store.refusals(since, until),
        jobs=sum(d.jobs for d in days),
        pages=sum(d.pages for d in days),
        money=sum((d.money for d in days), Decimal(0)),
    )
