"""The history pages' rules: filters from a query string, sorting, pages, CSV.

Pure over a list of `JobRecord` (a user's own jobs, or an admin's search): the
store reads the rows (storage's HistoryFilter narrows by user, printer and
dates); what a page shows of them is decided here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pagetally.core.models import JobRecord
from pagetally.errors import InvalidInput

PAGE_SIZE = 50
SORTS: dict[str, Callable[[JobRecord], Any]] = {
    "date": lambda j: (j.date, j.id or 0),
    "printer": lambda j: (j.printer, j.date),
    "pages": lambda j: (j.pages, j.date),
    "price": lambda j: (j.price, j.date),
    "action": lambda j: (j.action.value, j.date),
    "user": lambda j: (j.user, j.date),
    "title": lambda j: (j.title.lower(), j.date),
}
COLUMNS = ("id", "date", "user", "printer", "action", "pages", "color_pages", "sheets",
           "copies", "price", "billing_code", "host", "title", "reason", "job_id")


@dataclass(frozen=True)
class Query:
    """A history page's query: what the form at its top says."""

    user: str = ""
    printer: str = ""
    action: str = ""
    title: str = ""
    since: date | None = None
    until: date | None = None  # inclusive day
    sort: str = "date"
    descending: bool = True
    page: int = 1

    @property
    def since_utc(self) -> datetime | None:
        return None if self.since is None else datetime.combine(self.since, time(), UTC)

    @property
    def until_utc(self) -> datetime | None:
        """Exclusive: the day after `until`."""
        if self.until is None:
            return None
        return datetime.combine(self.until + timedelta(days=1), time(), UTC)

    def params(self, **change: object) -> dict[str, str]:
        """The query string of this query with `change` applied (links)."""
        values: dict[str, object] = {
            "user": self.user, "printer": self.printer, "action": self.action,
            "title": self.title, "since": self.since or "", "until": self.until or "",
            "sort": self.sort, "order": "desc" if self.descending else "asc",
            "page": self.page,
        }
        values.update(change)
        return {k: str(v) for k, v in values.items() if v not in ("", None)}


def _day(raw: str, what: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{what}: expected a date like 2026-11-30, got {raw!r}") from None


def parse_query(args: dict[str, str]) -> Query:
    """A Query from request arguments; InvalidInput for a bad date, sort or page."""
    sort = args.get("sort", "date") or "date"
    if sort not in SORTS:
        raise InvalidInput(f"cannot sort by {sort!r}: one of {', '.join(SORTS)}")
    try:
        page = max(1, int(args.get("page", "1") or "1"))
    except ValueError:
        raise InvalidInput(f"page: expected a number, got {args.get('page')!r}") from None
    return Query(
        user=args.get("user", "").strip(),
        printer=args.get("printer", "").strip(),
        action=args.get("action", "").strip().lower(),
        title=args.get("title", "").strip(),
        since=_day(args.get("since", ""), "from"),
        until=_day(args.get("until", ""), "to"),
        sort=sort,
        descending=args.get("order", "desc") != "asc",
        page=page,
    )


def select(jobs: Sequence[JobRecord], q: Query) -> list[JobRecord]:
    """The jobs the query keeps, in its order (the store already applied user,
    printer and dates; action and title are applied here)."""
    kept = [
        j for j in jobs
        if (not q.action or j.action.value == q.action)
        and (not q.title or q.title.lower() in j.title.lower())
    ]
    return sorted(kept, key=SORTS[q.sort], reverse=q.descending)


@dataclass(frozen=True)
class Page:
    rows: list[JobRecord]
    number: int
    pages: int
    total: int


def paginate(jobs: Sequence[JobRecord], number: int, size: int = PAGE_SIZE) -> Page:
    pages = max(1, (len(jobs) + size - 1) // size)
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return Page(list(jobs[start:start + size]), number, pages, len(jobs))


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (=, +, -, @)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(jobs: Sequence[JobRecord]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(COLUMNS)
    for j in jobs:
        w.writerow([
            _cell(x) for x in (
                j.id, j.date.astimezone(UTC).isoformat(), j.user, j.printer, j.action.value,
                j.pages, j.color_pages, j.sheets, j.copies, j.price, j.billing_code, j.host,
                j.title, j.reason, j.job_id,
            )
        ])
    return out.getvalue()
