"""The web's reads over a store without aggregating queries (the LDAP store):
a user's status and pages of jobs, from the role interfaces' reads.

`user_status` is the user, their quota entries and their groups'; `job_page`
gives the SQL store's pages with its cursors (the same URLs work). In date
order it reads the store's `history` (in (date, id) order, newest or oldest
first) from the cursor's date, filters by action and title and stops after
the page: the LDAP store reads its history window by window of dates
(storage/ldap_windows.py), so a page costs a window or two, not the user's or
the site's every job. In price or pages order, which a directory cannot
search in, the LDAP store's selection is read light in one search (more
than SORT_MOST jobs is refused, saying why), sorted, and the page's jobs read
whole. The quota report is built as the CLI builds it over the LDAP store.
The dashboards' and charts' sums and /metrics' totals are not computed this
way: they answer NotAvailable (the web says so; they need an SQL store).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, NoReturn

from pagetally.core.models import Action, JobRecord, UserQuota
from pagetally.errors import InvalidInput, NotAvailable
from pagetally.storage.base import HistoryFilter, ReportQueries, ReportStore
from pagetally.storage.reports import QuotaReport, quota_report
from pagetally.storage.webqueries import (
    PAGE_MAX,
    JobPage,
    JobQuery,
    JobSort,
    UserStatus,
    decode_cursor,
    page_of,
    sort_value,
)

#: Most jobs a page sorted by price or pages may select on the LDAP store
#: (light_jobs): the directory cannot order by them (PyKota's pykotaJobPrice is
#: text, pykotaJobSize has no ordering rule), so such a page reads every
#: selected job (light: what the order and the filters need).
SORT_MOST = 2000


#: What a page in price or pages order reads of every selected job (LDAP),
#: with pykotaAction and pykotaTitle when it filters by them.
_SORT_ATTR = {JobSort.PRICE: "pykotaJobPrice", JobSort.PAGES: "pykotaJobSize"}


def _not_here(what: str) -> NoReturn:
    raise NotAvailable(
        f"{what} cannot be read from the LDAP store (it has no aggregating queries): "
        "this needs an SQL store (SQLite, PostgreSQL, MariaDB)"
    )


class RoleQueries:
    """ReportQueries over `store`'s role reads (see the module's docstring)."""

    def __init__(self, store: ReportStore) -> None:
        self.store = store

    def user_status(self, name: str) -> UserStatus:
        """NotFound for an unknown user."""
        user = self.store.get_user(name)
        mine = [q for q in self.store.user_quotas(users=[name]) if q.user == name]
        groups = [g.name for g in self.store.groups_of(name)]
        theirs = (
            [q for q in self.store.group_quotas(groups=groups) if q.group in groups]
            if groups
            else []
        )
        return UserStatus(user, mine, groups, theirs)

    def job_page(self, query: JobQuery) -> JobPage:
        """One page of jobs (InvalidInput for a bad limit or cursor, or, on the
        LDAP store, for a sort by price or pages over more than SORT_MOST jobs)."""
        if not 1 <= query.limit <= PAGE_MAX:
            raise InvalidInput(f"a page holds 1 to {PAGE_MAX} jobs, not {query.limit}")
        after = None if query.after is None else decode_cursor(query.after, query.sort)
        since, until = query.since, query.until
        if after is not None and query.sort is JobSort.DATE:  # the cursor narrows the dates
            if query.descending:
                bound = after[0] + timedelta(microseconds=1)
                until = bound if until is None else min(until, bound)
            else:
                since = after[0] if since is None else max(since, after[0])
        flt = HistoryFilter(
            user=query.user,
            printer=query.printer,
            host=query.host,
            billing_code=query.billing_code,
            since=since,
            until=until,
            newest_first=query.descending,
        )
        title = query.title.casefold() if query.title else None

        def key(job: JobRecord) -> tuple[Any, int]:
            return sort_value(job, query.sort), job.id or 0

        def beyond(job: JobRecord) -> bool:
            return after is None or (key(job) < after if query.descending else key(job) > after)

        selected = (
            j
            for j in self.store.history(flt)
            if (query.action is None or j.action == query.action)
            and (title is None or title in j.title.casefold())
        )
        if query.sort is JobSort.DATE:  # history's own order: read only what the page needs
            return page_of(list(islice(filter(beyond, selected), query.limit + 1)), query)
        if getattr(self.store, "light_jobs", None) is not None:  # the LDAP store
            return self._light_page(query, flt, key, beyond)
        jobs = sorted(selected, key=key, reverse=query.descending)
        return page_of(list(islice(filter(beyond, jobs), query.limit + 1)), query)

    def _light_page(
        self,
        query: JobQuery,
        flt: HistoryFilter,
        key: Callable[[JobRecord], tuple[Any, int]],
        beyond: Callable[[JobRecord], bool],
    ) -> JobPage:
        """A page in an order the LDAP store cannot search in: every selected
        job read light (what the order and the filters need; refused over
        SORT_MOST), sorted, and only the page's jobs read whole."""
        title = query.title.casefold() if query.title else None
        attrs = [_SORT_ATTR[query.sort]]
        attrs += ["pykotaAction"] * (query.action is not None) + ["pykotaTitle"] * bool(title)
        read = self.store.light_jobs(flt, attrs, SORT_MOST)  # type: ignore[attr-defined]
        if read is None:
            raise InvalidInput(
                f"sorting by {query.sort.value} reads every selected job from the directory: "
                f"at most {SORT_MOST:,} jobs (by user, printer and dates); narrow the "
                "selection or sort by date"
            )
        light = [
            (j, name)
            for j, name in read
            if (query.action is None or j.action == query.action)
            and (title is None or title in j.title.casefold())
        ]
        light.sort(key=lambda r: key(r[0]), reverse=query.descending)
        page = list(islice((r for r in light if beyond(r[0])), query.limit + 1))
        whole: list[JobRecord] = self.store.whole_jobs([n for _, n in page])  # type: ignore[attr-defined]
        return page_of(whole, query)

    def first_user_quotas(
        self, user_patterns: Sequence[str], limit: int
    ) -> tuple[list[UserQuota], int]:
        """The first `limit` entries as the store lists them, and how many in all."""
        entries = self.store.user_quotas(users=user_patterns)
        return entries[:limit], len(entries)

    def invoice_months(self, user: str, before: datetime) -> list[str]:
        """Months (UTC, newest first) before `before` in which the user was
        charged something: the user's jobs walked."""
        cut = f"{before.astimezone(UTC):%Y-%m}"
        found = {
            f"{j.date.astimezone(UTC):%Y-%m}"
            for j in self.store.history(HistoryFilter(user=user))
            if j.action in (Action.ALLOW, Action.WARN) and j.price > 0 and j.date is not None
        }
        return sorted((m for m in found if m < cut), reverse=True)

    def quota_report(
        self,
        printer_patterns: Sequence[str] = ("*",),
        name_patterns: Sequence[str] = ("*",),
        *,
        group: bool = False,
    ) -> QuotaReport:
        """`pagetally report`'s report, built from the role reads as the CLI
        builds it over the LDAP store."""
        return quota_report(self.store, printer_patterns, name_patterns, group=group)

    # --- what needs SQL's aggregates -------------------------------------------------

    def usage_by_day(self, since: datetime, until: datetime, user: str | None = None) -> NoReturn:
        _not_here("pages and money per day")

    def top_users(self, since: datetime, until: datetime, limit: int = 10) -> NoReturn:
        _not_here("the top users")

    def printer_use(self, since: datetime, until: datetime) -> NoReturn:
        _not_here("the printers' use")

    def printed_sums(self, user: str) -> NoReturn:
        _not_here("the charts (pages per month, colour, printers, paper saved)")

    def refusals(self, since: datetime | None, until: datetime | None) -> NoReturn:
        _not_here("refusals by reason")

    def job_totals(self) -> NoReturn:
        _not_here("the job totals")

    def refusal_totals(self) -> NoReturn:
        _not_here("the refusal totals")

    def backend_times(self, bounds_ms: Sequence[int]) -> NoReturn:
        _not_here("the backend times")


def role_queries(store: ReportStore) -> ReportQueries:
    """RoleQueries over `store`, typed as the role it stands in for (mypy checks
    that it has every ReportQueries method: a new one needs its answer here)."""
    return RoleQueries(store)
