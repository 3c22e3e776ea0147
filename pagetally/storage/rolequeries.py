"""The web's reads over a store without aggregating queries (the LDAP store):
a user's status and pages of jobs, from the role interfaces' reads.

`user_status` is the user, their quota entries and their groups'; `job_page`
reads the jobs the filter selects (`history`), then filters by action and
title, sorts and cuts the page in Python, with the SQL store's cursors (the
same URLs work). A directory keeps a site's jobs one entry each, so a page
costs what reading the selected jobs costs: a user's history is fine, every
job of a large site is slow. The quota report is built as the CLI builds
it over the LDAP store. The dashboards' and charts' sums and /metrics' totals
are not computed this way: they answer NotAvailable (the web says so; they
need an SQL store).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from pagetally.core.models import Action, JobRecord, UserQuota
from pagetally.errors import InvalidInput, NotAvailable
from pagetally.storage.base import HistoryFilter, ReportQueries, ReportStore
from pagetally.storage.reports import QuotaReport, quota_report
from pagetally.storage.webqueries import (
    PAGE_MAX,
    JobPage,
    JobQuery,
    UserStatus,
    decode_cursor,
    page_of,
    sort_value,
)


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
        """One page of jobs (InvalidInput for a bad limit or cursor)."""
        if not 1 <= query.limit <= PAGE_MAX:
            raise InvalidInput(f"a page holds 1 to {PAGE_MAX} jobs, not {query.limit}")
        after = None if query.after is None else decode_cursor(query.after, query.sort)
        flt = HistoryFilter(
            user=query.user,
            printer=query.printer,
            host=query.host,
            billing_code=query.billing_code,
            since=query.since,
            until=query.until,
        )
        title = query.title.casefold() if query.title else None
        jobs = [
            j
            for j in self.store.history(flt)
            if (query.action is None or j.action == query.action)
            and (title is None or title in j.title.casefold())
        ]

        def key(job: JobRecord) -> tuple[Any, int]:
            return sort_value(job, query.sort), job.id or 0

        jobs.sort(key=key, reverse=query.descending)
        if after is not None:
            jobs = [j for j in jobs if (key(j) < after if query.descending else key(j) > after)]
        return page_of(jobs[: query.limit + 1], query)

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
