"""The history pages' query: the form at their top, read into the store's
keyset-paginated `JobQuery` (storage/webqueries.py), and the CSV export.

A page is one `job_page` of the store (an index range, fast at a million jobs);
"next page" carries the store's cursor, so no page counts the rows before it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from pagetally.core.models import Action, JobRecord
from pagetally.errors import InvalidInput
from pagetally.storage.base import ReportQueries
from pagetally.storage.webqueries import PAGE_MAX, JobPage, JobQuery, JobSort

PAGE_SIZE = 50
SORTS = [s.value for s in JobSort]
ACTIONS = [a.value for a in Action]
COLUMNS = (
    "id",
    "date",
    "user",
    "printer",
    "action",
    "pages",
    "color_pages",
    "sheets",
    "copies",
    "price",
    "billing_code",
    "host",
    "title",
    "reason",
    "job_id",
)


@dataclass(frozen=True)
class Query:
    """A history page's query: what the form at its top says, and the cursor."""

    user: str = ""
    printer: str = ""
    action: str = ""
    title: str = ""
    since: date | None = None
    until: date | None = None  # inclusive day
    sort: str = "date"
    descending: bool = True
    after: str = ""

    def params(self, **change: object) -> dict[str, str]:
        """The query string of this query with `change` applied (links)."""
        values: dict[str, object] = {
            "user": self.user,
            "printer": self.printer,
            "action": self.action,
            "title": self.title,
            "since": self.since or "",
            "until": self.until or "",
            "sort": self.sort,
            "order": "desc" if self.descending else "asc",
            "after": self.after,
        }
        values.update(change)
        return {k: str(v) for k, v in values.items() if v not in ("", None)}

    def job_query(self, *, limit: int | None = None) -> JobQuery:
        return JobQuery(
            user=self.user or None,
            printer=self.printer or None,
            action=Action(self.action) if self.action else None,
            title=self.title or None,
            since=None if self.since is None else datetime.combine(self.since, time(), UTC),
            until=None
            if self.until is None
            else datetime.combine(self.until + timedelta(days=1), time(), UTC),
            sort=JobSort(self.sort),
            descending=self.descending,
            limit=limit or PAGE_SIZE,
            after=self.after or None,
        )


def _day(raw: str, what: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{what}: expected a date like 2026-11-30, got {raw!r}") from None


def parse_query(args: dict[str, str], *, user: str | None = None) -> Query:
    """A Query from request arguments; InvalidInput for a bad date, sort or action.
    `user` fixes the user (a user's own history: what the URL says is ignored)."""
    sort = args.get("sort", "date") or "date"
    if sort not in SORTS:
        raise InvalidInput(f"cannot sort by {sort!r}: one of {', '.join(SORTS)}")
    action = args.get("action", "").strip().lower()
    if action and action not in ACTIONS:
        raise InvalidInput(f"action: one of {', '.join(ACTIONS)}, not {action!r}")
    return Query(
        user=user if user is not None else args.get("user", "").strip(),
        printer=args.get("printer", "").strip(),
        action=action,
        title=args.get("title", "").strip(),
        since=_day(args.get("since", ""), "from"),
        until=_day(args.get("until", ""), "to"),
        sort=sort,
        descending=args.get("order", "desc") != "asc",
        after=args.get("after", "").strip(),
    )


def page(store: ReportQueries, q: Query) -> JobPage:
    """One page of the query's jobs (InvalidInput for a cursor that is not one)."""
    return store.job_page(q.job_query())


def every_job(store: ReportQueries, q: Query) -> Iterator[JobRecord]:
    """All the query's jobs, page after page (the CSV export), from its first."""
    jq = replace(q.job_query(limit=PAGE_MAX), after=None)
    while True:
        got = store.job_page(jq)
        yield from got.jobs
        if got.next_cursor is None:
            return
        jq = replace(jq, after=got.next_cursor)


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


def csv_lines(jobs: Iterator[JobRecord] | Sequence[JobRecord]) -> Iterator[str]:
    """The CSV export, line by line (streamed: an export of a million jobs is
    never held whole)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(COLUMNS)
    for j in jobs:
        w.writerow(
            [
                _cell(x)
                for x in (
                    j.id,
                    j.date.astimezone(UTC).isoformat(),
                    j.user,
                    j.printer,
                    j.action.value,
                    j.pages,
                    j.color_pages,
                    j.sheets,
                    j.copies,
                    j.price,
                    j.billing_code,
                    j.host,
                    j.title,
                    j.reason,
                    j.job_id,
                )
            ]
        )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()
