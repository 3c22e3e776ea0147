"""The admin dashboard of a period: the store's aggregates (storage/webqueries.py,
one GROUP BY each) gathered for the page, and kept a minute (`Recent`).

Summing the last 30 days reads every job of them (tens of thousands of rows on a
busy site): each web process keeps the page's summary for `MAX_AGE` seconds and
shows when it was made. An older one is still shown while a thread of that
process makes the next (one at a time); only a process's first dashboard waits
for its sums.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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


#: How old (seconds) a dashboard's sums may be before they are made again.
MAX_AGE = 60.0


class Recent:
    """One summary kept for MAX_AGE seconds (see the module's docstring)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: tuple[float, datetime, Summary] | None = None
        self._refreshing = False

    def get(self, make: Callable[[], tuple[datetime, Summary]]) -> tuple[datetime, Summary]:
        """The kept summary and when it was made (`make()` gives both), made now
        when there is none, else renewed in the background when too old."""
        kept = self._kept
        if kept is None:
            with self._lock:  # the first callers at once: one of them makes it
                if self._kept is None:
                    made = make()
                    self._kept = (self._clock(), *made)
                kept = self._kept
        elif self._clock() - kept[0] > MAX_AGE and not self._refreshing:
            self._refreshing = True
            threading.Thread(target=self._renew, args=(make,), daemon=True).start()
        return kept[1], kept[2]

    def _renew(self, make: Callable[[], tuple[datetime, Summary]]) -> None:
        try:
            made = make()
            self._kept = (self._clock(), *made)
        except Exception:  # the page goes on with the older sums
            import logging

            logging.getLogger("pagetally.web").exception("web: the dashboard's sums failed")
        finally:
            self._refreshing = False
