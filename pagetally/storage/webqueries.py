"""The reads the web pages and the REST API make on every request, kept fast as
the store grows (bench/web.py: 1,000,000 jobs):

- `user_status`: a user's account, quota entries per printer and their groups'
  entries, in three queries whatever the store's size;
- `job_page`: one page of job history, filtered and sorted, with keyset
  pagination (the page after a cursor reads from the index where the last page
  ended: page 1,000 costs what page 1 costs; OFFSET would read every row before);
- `usage_by_day`, `top_users`, `printer_use`, `refusals`: the dashboards'
  aggregates over a period, each one GROUP BY over the date index;
- `printed_sums`: a user's printed pages, colour pages and sheets per printer
  and day (the charts page), one GROUP BY over the user's index.
"""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from pagetally.core.models import (
    Action,
    GroupQuota,
    JobRecord,
    User,
    UserQuota,
)
from pagetally.errors import InvalidInput, NotFound
from pagetally.storage import quotas, rows
from pagetally.storage.patterns import ESCAPE
from pagetally.storage.schema import (
    grouppquota,
    groups,
    groupsmembers,
    jobhistory,
    printers,
    userpquota,
    users,
)
from pagetally.storage.sql_base import SqlBase
from pagetally.storage.types import to_money

#: Most rows one page holds.
PAGE_MAX = 500
#: Actions that charged the user (their pages and money count in the dashboards).
CHARGED = (Action.ALLOW.value, Action.WARN.value)
#: Actions of jobs that printed (a refunded job was printed too): the charts.
PRINTED = (*CHARGED, Action.REFUND.value)


class JobSort(enum.StrEnum):
    """What a job page is ordered by (then by id, so that the order is total)."""

    DATE = "date"
    PRICE = "price"
    PAGES = "pages"


_SORT_COLUMN = {
    JobSort.DATE: jobhistory.c.jobdate,
    JobSort.PRICE: jobhistory.c.jobprice,
    JobSort.PAGES: jobhistory.c.jobsize,
}


@dataclass(frozen=True)
class JobQuery:
    """Which jobs, in what order, from where. Every filter narrows; None is any.

    `since` inclusive, `until` exclusive; `title` a substring (admins' search);
    `after` the cursor a previous page returned."""

    user: str | None = None
    printer: str | None = None
    host: str | None = None
    billing_code: str | None = None
    action: Action | None = None
    since: datetime | None = None
    until: datetime | None = None
    title: str | None = None
    sort: JobSort = JobSort.DATE
    descending: bool = True
    limit: int = 50
    after: str | None = None


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobRecord]
    #: Give it as `after` for the next page; None on the last page.
    next_cursor: str | None = None


@dataclass(frozen=True)
class UserStatus:
    """What a user sees first: their account and every quota entry that limits them."""

    user: User
    quotas: list[UserQuota] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    group_quotas: list[GroupQuota] = field(default_factory=list)


@dataclass(frozen=True)
class DayUsage:
    day: date
    jobs: int
    pages: int
    color_pages: int
    money: Decimal


@dataclass(frozen=True)
class UsageTotal:
    """A user's or printer's total over a period (charged jobs only)."""

    name: str
    jobs: int
    pages: int
    color_pages: int
    money: Decimal


@dataclass(frozen=True)
class JobTotal:
    """All jobs ever recorded on a printer with one action (/metrics)."""

    printer: str
    action: str
    jobs: int
    pages: int
    color_pages: int
    money: Decimal


@dataclass(frozen=True)
class PrintedSums:
    """A user's printed jobs (charged or refunded) on one printer on one UTC day:
    pages, colour pages (never more than the pages) and sheets (the pages when
    a job's sheets are unknown)."""

    printer: str
    day: date
    pages: int
    color_pages: int
    sheets: int


@dataclass(frozen=True)
class BackendTimes:
    """The backend's time on a printer's jobs of one action (those it measured,
    /metrics): how many, their sum, and how many took at most each bound
    (cumulative, as Prometheus' buckets), all in milliseconds."""

    printer: str
    action: str
    jobs: int
    total_ms: int
    at_most: tuple[int, ...]


@dataclass(frozen=True)
class Refusals:
    reason: str
    jobs: int


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- cursors -------------------------------------------------------------------
def encode_cursor(sort: JobSort, value: Any, row_id: int) -> str:
    """An opaque cursor: the last row's sort value and id (URL-safe text)."""
    if isinstance(value, datetime):
        raw: Any = ["d", (value - _EPOCH) // timedelta(microseconds=1)]
    elif isinstance(value, Decimal):
        raw = ["m", str(value)]
    else:
        raw = ["i", int(value)]
    text = json.dumps([sort.value, raw, row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: JobSort) -> tuple[Any, int]:
    """(sort value, id) of a cursor; InvalidInput for one that is not ours or
    was made for another order."""
    bad = InvalidInput("the page cursor is not valid (ask for the first page again)")
    if len(cursor) > 200:
        raise bad
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        made_for, (kind, value), row_id = json.loads(text)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if made_for != sort.value or not isinstance(row_id, int) or isinstance(row_id, bool):
        raise bad
    try:
        if kind == "d" and isinstance(value, int):
            return _EPOCH + timedelta(microseconds=value), row_id
        if kind == "m" and isinstance(value, str):
            return to_money(Decimal(value)), row_id
        if kind == "i" and isinstance(value, int) and not isinstance(value, bool):
            return value, row_id
    except (ArithmeticError, OverflowError, ValueError):
        pass
    raise bad


def page_of(found: list[JobRecord], query: JobQuery) -> JobPage:
    """The page of `found` (the selected jobs in order, one more than a page
    when there are more), with the next page's cursor."""
    if len(found) <= query.limit:
        return JobPage(found)
    page = found[: query.limit]
    last = page[-1]
    assert last.id is not None
    return JobPage(page, encode_cursor(query.sort, sort_value(last, query.sort), last.id))


def sort_value(job: JobRecord, sort: JobSort) -> Any:
    return {JobSort.DATE: job.date, JobSort.PRICE: job.price, JobSort.PAGES: job.pages}[sort]


def _like_substring(text: str) -> str:
    escaped = "".join(ESCAPE + c if c in ("%", "_", ESCAPE) else c for c in text)
    return f"%{escaped}%"


def _day_number(backend: str) -> ColumnElement[Any]:
    """The job's UTC day as whole days since 1970-01-01, in SQL."""
    col = jobhistory.c.jobdate
    if backend == "sqlite":  # integer microseconds
        return type_coerce(col, BigInteger()).op("/")(literal_column("86400000000"))
    if backend == "postgresql":
        return cast(func.floor(func.extract("epoch", col) / 86400), Integer)
    return func.datediff(col, "1970-01-01")


def _month_text(backend: str) -> ColumnElement[Any]:
    """The job's UTC month as "YYYY-MM", in SQL."""
    col = jobhistory.c.jobdate
    if backend == "sqlite":  # integer microseconds: whole seconds, floored
        seconds = type_coerce(col, BigInteger()).op("/")(literal_column("1000000"))
        return func.strftime("%Y-%m", seconds, "unixepoch")
    if backend == "postgresql":
        return func.to_char(func.timezone("UTC", col), "YYYY-MM")
    return func.date_format(col, "%Y-%m")  # MariaDB: DATETIME holds UTC


def _period(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if since is not None:
        where.append(jobhistory.c.jobdate >= since)
    if until is not None:
        where.append(jobhistory.c.jobdate < until)
    return where


_FILTERS = {
    "user": "username",
    "printer": "printername",
    "host": "hostname",
    "code": "billingcode",
    "action": "action",
}


@functools.lru_cache(maxsize=256)
def _page_statement(
    sort: JobSort, descending: bool, rows_: int, given: frozenset[str]
) -> Select[Any]:
    """A job page's statement for the filters `given` (their values bound at
    execution, named as in job_page), built once per shape: building and keying a
    statement costs about what running it does."""
    col = _SORT_COLUMN[sort]
    h = jobhistory.c
    where: list[ColumnElement[bool]] = [
        h[column] == bindparam(name) for name, column in _FILTERS.items() if name in given
    ]
    if "since" in given:
        where.append(h.jobdate >= bindparam("since", type_=h.jobdate.type))
    if "until" in given:
        where.append(h.jobdate < bindparam("until", type_=h.jobdate.type))
    if "title" in given:
        where.append(h.title.like(bindparam("title"), escape=ESCAPE))
    if "value" in given:
        bound = bindparam("value", type_=col.type)  # through the column's type
        last = bindparam("last", type_=h.id.type)
        if sort is JobSort.DATE:
            # the row-value comparison the (…, jobdate) indexes serve directly
            where.append(
                tuple_(col, h.id) < tuple_(bound, last)
                if descending
                else tuple_(col, h.id) > tuple_(bound, last)
            )
        else:
            where.append(
                or_(col < bound, and_(col == bound, h.id < last))
                if descending
                else or_(col > bound, and_(col == bound, h.id > last))
            )
    order = (col.desc(), h.id.desc()) if descending else (col.asc(), h.id.asc())
    return select(jobhistory).where(*where).order_by(*order).limit(rows_)


# A status page's statements, built once (values bound per request: building and
# keying a statement costs about what running it does)
_STATUS_USER = select(users).where(users.c.username == bindparam("name"))
_STATUS_QUOTAS = quotas.USER_SELECT.where(userpquota.c.userid == bindparam("uid")).order_by(
    printers.c.printername
)
_MEMBER_OF = select(groupsmembers.c.groupid).where(groupsmembers.c.userid == bindparam("uid"))
_STATUS_GROUPS = (
    select(groups.c.groupname).where(groups.c.id.in_(_MEMBER_OF)).order_by(groups.c.groupname)
)
_STATUS_GROUP_QUOTAS = quotas.GROUP_SELECT.where(grouppquota.c.groupid.in_(_MEMBER_OF)).order_by(
    groups.c.groupname, printers.c.printername
)


class WebQueryMethods(SqlBase):
    """The store's reads for web pages and the API."""

    def user_status(self, name: str) -> UserStatus:
        """NotFound for an unknown user."""

        def work(conn: Connection) -> UserStatus:
            found = conn.execute(_STATUS_USER, {"name": name}).first()
            if found is None:
                raise NotFound("user", name)
            user = rows.user_of(found)
            uid = {"uid": user.id}
            mine = [quotas.user_quota_of(r._mapping) for r in conn.execute(_STATUS_QUOTAS, uid)]
            names = [r[0] for r in conn.execute(_STATUS_GROUPS, uid)]
            theirs = (
                [quotas.group_quota_of(r._mapping) for r in conn.execute(_STATUS_GROUP_QUOTAS, uid)]
                if names
                else []
            )
            return UserStatus(user, mine, names, theirs)

        return self._read(work)

    def job_page(self, query: JobQuery) -> JobPage:
        """One page of jobs (InvalidInput for a bad limit or cursor)."""
        if not 1 <= query.limit <= PAGE_MAX:
            raise InvalidInput(f"a page holds 1 to {PAGE_MAX} jobs, not {query.limit}")
        values: dict[str, Any] = {
            name: value for name, value in (
                ("user", query.user), ("printer", query.printer), ("host", query.host),
                ("code", query.billing_code), ("since", query.since), ("until", query.until),
                ("action", None if query.action is None else Action(query.action).value),
                ("title", _like_substring(query.title) if query.title else None))
            if value is not None
        }  # fmt: skip
        if query.after is not None:
            values["value"], values["last"] = decode_cursor(query.after, query.sort)
        stmt = _page_statement(query.sort, query.descending, query.limit + 1, frozenset(values))

        return self._read(
            lambda conn: page_of([rows.job_of(r) for r in conn.execute(stmt, values)], query)
        )

    # --- dashboards ----------------------------------------------------------------
    def usage_by_day(
        self, since: datetime, until: datetime, user: str | None = None
    ) -> list[DayUsage]:
        """Charged jobs, pages, colour pages and money per UTC day of [since, until)."""
        day = _day_number(self.backend).label("day")
        h = jobhistory.c
        where = [*_period(since, until), h.action.in_(CHARGED)]
        if user is not None:
            where.append(h.username == user)
        stmt = (
            select(
                day, func.count(), func.sum(h.jobsize), func.sum(h.colorpages), func.sum(h.jobprice)
            )
            .where(*where)
            .group_by(day)
            .order_by(day)
        )
        epoch = date(1970, 1, 1)
        return self._read(
            lambda c: [
                DayUsage(
                    epoch + timedelta(days=int(d)),
                    int(n),
                    int(p or 0),
                    int(cp or 0),
                    to_money(m or 0),
                )
                for d, n, p, cp, m in c.execute(stmt)
            ]
        )

    def printed_sums(self, user: str) -> list[PrintedSums]:
        """`user`'s printed jobs summed per printer and UTC day, by day then printer."""
        day = _day_number(self.backend).label("day")
        h = jobhistory.c
        colour = case((h.colorpages < h.jobsize, h.colorpages), else_=h.jobsize)
        stmt = (
            select(
                h.printername,
                day,
                func.sum(h.jobsize),
                func.sum(colour),
                func.sum(func.coalesce(h.sheets, h.jobsize)),
            )
            .where(h.username == user, h.action.in_(PRINTED))
            .group_by(h.printername, day)
            .order_by(day, h.printername)
        )
        epoch = date(1970, 1, 1)
        return self._read(
            lambda c: [
                PrintedSums(
                    p, epoch + timedelta(days=int(d)), int(n or 0), int(cp or 0), int(sh or 0)
                )
                for p, d, n, cp, sh in c.execute(stmt)
            ]
        )

    def invoice_months(self, user: str, before: datetime) -> list[str]:
        """The months ("YYYY-MM", UTC, newest first) before `before` in which
        `user` was charged something (an allowed or warned job with a price):
        the months that have an invoice. One DISTINCT over the user's jobs."""
        h = jobhistory.c
        month = _month_text(self.backend).label("month")
        stmt = (
            select(month)
            .where(
                h.username == user,
                h.action.in_(CHARGED),
                h.jobprice > 0,
                h.jobdate < before,
            )
            .distinct()
            .order_by(month.desc())
        )
        return self._read(lambda c: [str(m) for (m,) in c.execute(stmt)])

    def _totals(
        self, column: Any, since: datetime, until: datetime, limit: int | None, order_by_pages: bool
    ) -> list[UsageTotal]:
        h = jobhistory.c
        pages = func.sum(h.jobsize).label("pages")
        stmt = (
            select(column, func.count(), pages, func.sum(h.colorpages), func.sum(h.jobprice))
            .where(*_period(since, until), h.action.in_(CHARGED))
            .group_by(column)
        )
        stmt = stmt.order_by(pages.desc(), column) if order_by_pages else stmt.order_by(column)
        if limit is not None:
            stmt = stmt.limit(limit)
        return self._read(
            lambda c: [
                UsageTotal(name, int(n), int(p or 0), int(cp or 0), to_money(m or 0))
                for name, n, p, cp, m in c.execute(stmt)
            ]
        )

    def top_users(self, since: datetime, until: datetime, limit: int = 10) -> list[UsageTotal]:
        """The users who printed most pages in [since, until), most first."""
        if not 1 <= limit <= PAGE_MAX:
            raise InvalidInput(f"top users: 1 to {PAGE_MAX}, not {limit}")
        return self._totals(jobhistory.c.username, since, until, limit, True)

    def printer_use(self, since: datetime, until: datetime) -> list[UsageTotal]:
        """Each printer's charged jobs, pages and money in [since, until), by name."""
        return self._totals(jobhistory.c.printername, since, until, None, False)

    def job_totals(self) -> list[JobTotal]:
        """Every job ever recorded, by printer and action: one GROUP BY (/metrics)."""
        h = jobhistory.c
        stmt = (
            select(
                h.printername,
                h.action,
                func.count(),
                func.sum(h.jobsize),
                func.sum(h.colorpages),
                func.sum(h.jobprice),
            )
            .group_by(h.printername, h.action)
            .order_by(h.printername, h.action)
        )
        return self._read(
            lambda c: [
                JobTotal(p, a, int(n), int(pg or 0), int(cp or 0), to_money(m or 0))
                for p, a, n, pg, cp, m in c.execute(stmt)
            ]
        )

    def backend_times(self, bounds_ms: Sequence[int]) -> list[BackendTimes]:
        """The measured backend times by printer and action (printed, refused,
        cancelled jobs), counted under each bound (one GROUP BY; /metrics'
        `pagetally_backend_seconds`)."""
        h = jobhistory.c
        under = [func.sum(case((h.backendms <= b, 1), else_=0)) for b in bounds_ms]
        stmt = (
            select(h.printername, h.action, func.count(), func.sum(h.backendms), *under)
            .where(h.backendms.is_not(None))
            .group_by(h.printername, h.action)
            .order_by(h.printername, h.action)
        )
        return self._read(
            lambda c: [
                BackendTimes(p, a, int(n), int(total or 0), tuple(int(k or 0) for k in counts))
                for p, a, n, total, *counts in c.execute(stmt)
            ]
        )

    def refusal_totals(self) -> list[Refusals]:
        """Every refused job ever, by reason (/metrics)."""
        return self.refusals(None, None)

    def refusals(self, since: datetime | None, until: datetime | None) -> list[Refusals]:
        """Refused jobs in [since, until) by reason, most frequent first."""
        h = jobhistory.c
        n = func.count().label("n")
        stmt = (
            select(h.reason, n)
            .where(*_period(since, until), h.action == Action.DENY.value)
            .group_by(h.reason)
            .order_by(n.desc(), h.reason)
        )
        return self._read(lambda c: [Refusals(r or "", int(k)) for r, k in c.execute(stmt)])


def check_period(since: datetime, until: datetime, *, most_days: int = 3660) -> None:
    """A dashboard's period: since before until, at most `most_days` long."""
    if since.tzinfo is None or until.tzinfo is None:
        raise InvalidInput("a period's dates need a time zone")
    if until <= since:
        raise InvalidInput("the period ends before it starts")
    if until - since > timedelta(days=most_days):
        raise InvalidInput(f"a period of at most {most_days} days")


__all__: Sequence[str] = (
    "CHARGED",
    "PAGE_MAX",
    "PRINTED",
    "BackendTimes",
    "DayUsage",
    "JobPage",
    "JobQuery",
    "JobSort",
    "JobTotal",
    "PrintedSums",
    "Refusals",
    "UsageTotal",
    "UserStatus",
    "check_period",
    "decode_cursor",
    "encode_cursor",
)
