"""The web's fast reads (storage/webqueries.py) give what a slow walk of the
whole history gives: every page of every order, each job once; the dashboards'
sums; a user's status. On SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert

from pagetally.core.models import (
    Action,
    Group,
    JobRecord,
    Payment,
    PaymentKind,
    Printer,
    User,
)
from pagetally.core.settings import StoreSettings
from pagetally.errors import InvalidInput, NotFound
from pagetally.storage.engine import make_engine
from pagetally.storage.rolequeries import RoleQueries
from pagetally.storage.schema import jobhistory
from pagetally.storage.sql import SqlStore
from pagetally.storage.webqueries import JobQuery, JobSort, encode_cursor
from tests.storage.conftest import sql_only
from tests.storage.fakejobs import EPOCH, history_row

USERS, PRINTERS, JOBS = 7, 3, 300


@pytest.fixture(autouse=True)
def _sql_stores_only(settings: StoreSettings) -> None:
    sql_only(
        settings,
        "the SQL store's queries (the LDAP store's web reads are RoleQueries, "
        "held to these below and in tests/web/test_ldap_store.py)",
    )


def _insert(store: SqlStore, rows: list[dict[str, Any]]) -> None:
    """History rows written in bulk, on the store's primary (a split's too)."""
    engine = make_engine(store.settings, readonly=False)
    try:
        with engine.begin() as conn:
            conn.execute(insert(jobhistory), rows)
    finally:
        engine.dispose()


def _fill(store: SqlStore) -> list[JobRecord]:
    rows = [history_row(i, USERS, PRINTERS) for i in range(JOBS)]
    for i, r in enumerate(rows):
        if i % 9 == 0:
            r["jobprice"] = Decimal("1.50")  # ties: the id decides the order
            r["jobdate"] = EPOCH + timedelta(hours=3)
        if i % 50 == 7:
            r["title"] = "100% <b>done</b>_x"
    _insert(store, rows)
    from pagetally.storage import HistoryFilter

    return list(store.history(HistoryFilter()))


def _key(job: JobRecord, sort: JobSort) -> tuple[object, int]:
    value = {JobSort.DATE: job.date, JobSort.PRICE: job.price, JobSort.PAGES: job.pages}[sort]
    assert job.id is not None
    return value, job.id


def _walk(store: SqlStore, query: JobQuery) -> list[int | None]:
    seen: list[int | None] = []
    after = None
    for _ in range(JOBS):
        page = store.job_page(JobQuery(**{**query.__dict__, "after": after}))
        seen += [j.id for j in page.jobs]
        if page.next_cursor is None:
            return seen
        assert len(page.jobs) == query.limit
        after = page.next_cursor
    raise AssertionError("pages never ended")


@pytest.mark.parametrize("sort", list(JobSort))
def test_every_page_in_every_order(store: SqlStore, sort: JobSort) -> None:
    everything = _fill(store)
    for descending in (True, False):
        for user in (None, "user000003"):
            expected = sorted(
                (j for j in everything if user is None or j.user == user),
                key=lambda j: _key(j, sort),
                reverse=descending,
            )
            got = _walk(store, JobQuery(user=user, sort=sort, descending=descending, limit=17))
            assert got == [j.id for j in expected]


@pytest.mark.parametrize("sort", list(JobSort))
def test_role_queries_page_as_the_sql_queries_do(store: SqlStore, sort: JobSort) -> None:
    """RoleQueries (the web's reads over the LDAP store) from the role reads
    alone: the same pages, cursors and status as the SQL store's queries."""
    _fill(store)
    role = RoleQueries(store)
    for descending in (True, False):
        for flt in ({}, {"user": "user000003"}, {"printer": "printer001", "action": Action.DENY}):
            query = JobQuery(sort=sort, descending=descending, limit=23, **flt)  # type: ignore[arg-type]
            assert _walk(role, query) == _walk(store, query)  # type: ignore[arg-type]


def test_filters(store: SqlStore) -> None:
    everything = _fill(store)
    q = JobQuery(printer="printer001", action=Action.DENY, limit=500)
    assert [j.id for j in store.job_page(q).jobs] == sorted(
        (j.id for j in everything if j.printer == "printer001" and j.action is Action.DENY),
        key=lambda i: -(i or 0),
    )
    # a substring, its % and _ taken literally
    found = store.job_page(JobQuery(title="100% <b>", limit=500)).jobs
    assert found and all(j.title == "100% <b>done</b>_x" for j in found)
    assert store.job_page(JobQuery(title="100%_", limit=500)).jobs == []
    since, until = EPOCH + timedelta(seconds=70), EPOCH + timedelta(seconds=140)
    window = store.job_page(JobQuery(since=since, until=until, limit=500)).jobs
    assert sorted(j.id for j in window) == sorted(
        j.id for j in everything if since <= j.date < until
    )


def test_bad_pages_are_refused(store: SqlStore) -> None:
    _fill(store)
    for bad in ("", "x", "eyJhIjoxfQ", "!!!", "a" * 500):
        with pytest.raises(InvalidInput, match="cursor"):
            store.job_page(JobQuery(after=bad))
    price_cursor = encode_cursor(JobSort.PRICE, Decimal("1.5"), 3)
    with pytest.raises(InvalidInput, match="cursor"):
        store.job_page(JobQuery(after=price_cursor))  # made for another order
    for limit in (0, -1, 501):
        with pytest.raises(InvalidInput, match="page holds"):
            store.job_page(JobQuery(limit=limit))


def test_dashboards(store: SqlStore) -> None:
    everything = _fill(store)
    since, until = EPOCH - timedelta(days=1), EPOCH + timedelta(days=2)
    charged = [j for j in everything if j.action in (Action.ALLOW, Action.WARN)]
    days = store.usage_by_day(since, until)
    by_day: Counter[date] = Counter()
    money: dict[date, Decimal] = {}
    for j in charged:
        by_day[j.date.date()] += j.pages
        money[j.date.date()] = money.get(j.date.date(), Decimal(0)) + j.price
    assert {d.day: d.pages for d in days} == dict(by_day)
    assert {d.day: d.money for d in days} == money
    assert sum(d.jobs for d in days) == len(charged)
    mine = store.usage_by_day(since, until, user="user000002")
    assert sum(d.pages for d in mine) == sum(j.pages for j in charged if j.user == "user000002")
    top = store.top_users(since, until, limit=3)
    pages: Counter[str] = Counter()
    for j in charged:
        pages[j.user] += j.pages
    most = sorted(pages.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [(t.name, t.pages) for t in top] == most
    use = store.printer_use(since, until)
    assert [(u.name, u.jobs) for u in use] == sorted(Counter(j.printer for j in charged).items())
    refused = store.refusals(since, until)
    assert [(r.reason, r.jobs) for r in refused] == [
        ("hard limit reached", sum(1 for j in everything if j.action is Action.DENY))
    ]
    assert store.usage_by_day(until, until + timedelta(days=1)) == []


def test_user_status(store: SqlStore) -> None:
    for p in ("lp1", "lp2", "lp3"):
        store.add_printer(Printer(p))
    store.add_user(User("ann", balance=Decimal("2.5")))
    store.add_user(User("bo"))
    store.set_user_quota("ann", "lp2", soft_limit=5, hard_limit=9)
    store.set_user_quota("ann", "lp1")
    store.set_user_quota("bo", "lp3")
    store.add_group(Group("staff"))
    store.add_members("staff", ["ann", "bo"])
    store.set_group_quota("staff", "lp3", hard_limit=100)
    status = store.user_status("ann")
    assert status.user.balance == Decimal("2.5")
    assert [(q.printer, q.soft_limit, q.hard_limit) for q in status.quotas] == [
        ("lp1", None, None),
        ("lp2", 5, 9),
    ]
    assert status.groups == ["staff"]
    assert [(q.group, q.printer, q.hard_limit) for q in status.group_quotas] == [
        ("staff", "lp3", 100)
    ]
    assert store.user_status("bo").quotas[0].printer == "lp3"
    with pytest.raises(NotFound):
        store.user_status("nobody")
    for name in ("ann", "bo"):  # the LDAP store's web reads: the same status
        assert RoleQueries(store).user_status(name) == store.user_status(name)


def _charts_by_walking(
    jobs: list[JobRecord],
) -> tuple[dict[str, int], dict[str, int], int, int, int]:
    """What the charts page showed when it read every job into Python: pages per
    month and per printer, colour pages, pages and sheets of the printed jobs."""
    months: dict[str, int] = Counter()
    printers: dict[str, int] = Counter()
    colour = pages = sheets = 0
    for j in jobs:
        if j.action not in (Action.ALLOW, Action.WARN, Action.REFUND):
            continue
        months[f"{j.date:%Y-%m}"] += j.pages
        printers[j.printer] += j.pages
        colour += min(j.color_pages, j.pages)
        pages += j.pages
        sheets += j.sheets if j.sheets is not None else j.pages
    return dict(months), dict(printers), colour, pages, sheets


def test_chart_sums_are_what_walking_the_jobs_gives(store: SqlStore) -> None:
    """The charts' figures, summed in SQL per printer and day, are those of every
    printed job read one by one: a few hundred jobs over five months, with every
    action, unknown sheets, more colour pages than pages, days' edges."""
    from pagetally.web.charts import figures

    actions = ["allow", "warn", "deny", "refund", "cancel", "problem", "allow"]
    rows = [history_row(i, 2, PRINTERS) for i in range(JOBS)]
    for i, r in enumerate(rows):
        r["jobdate"] = EPOCH + timedelta(hours=11 * i, microseconds=-1 if i % 5 else 0)
        r["action"] = actions[i % len(actions)]
        if i % 4 == 0:
            r["sheets"] = None
        if i % 13 == 0:
            r["colorpages"] = r["jobsize"] + 3  # more colour pages than pages: capped
    _insert(store, rows)
    from pagetally.storage import HistoryFilter

    for user in ("user000000", "user000001"):
        jobs = list(store.history(HistoryFilter(user=user)))
        months, by_printer, colour, pages, sheets = _charts_by_walking(jobs)
        assert len(months) >= 5
        f = figures(store.printed_sums(user), Decimal("4.5"), Decimal("1.2"), months=100)
        assert dict(f.per_month) == months
        assert [m for m, _ in f.per_month] == sorted(months)
        assert dict(f.by_printer) == by_printer
        assert (f.colour, f.mono, f.pages, f.sheets) == (colour, pages - colour, pages, sheets)
        assert f.sheets_saved == pages - sheets > 0
        assert f.paper_grams == Decimal("4.5") * (pages - sheets)
        assert f.co2_grams == Decimal("1.2") * (pages - sheets)
    assert store.printed_sums("nobody") == []


def _invoice_months_by_walking(store: SqlStore, user: str, now: datetime) -> list[str]:
    """The payments page's months as it listed them before (web/pages/user.py
    before invoice_months): every job of the user read into Python."""
    from pagetally.storage import HistoryFilter

    this_month = f"{now:%Y-%m}"
    out = {
        f"{j.date:%Y-%m}"
        for j in store.history(HistoryFilter(user=user))
        if j.action in (Action.ALLOW, Action.WARN) and j.price > 0
    }
    return sorted((m for m in out if m < this_month), reverse=True)


def test_invoice_months_are_those_the_jobs_give(store: SqlStore) -> None:
    """The months with an invoice, one DISTINCT in SQL, are those read job by job:
    jobs at midnight UTC on a month's first day and a microsecond before it,
    a month with only payments, one with only refunded (or refused, or free)
    jobs, another user's months, and the month in progress (not listed)."""
    u = "user000000"
    utc = UTC
    jobs = [  # (date, action, price, user)
        (datetime(2025, 11, 30, 23, 59, 59, 999999, tzinfo=utc), "allow", "0.10", u),
        (datetime(2025, 12, 1, 0, 0, tzinfo=utc), "warn", "0.05", u),
        (datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=utc), "refund", "1.00", u),
        (datetime(2026, 2, 1, 0, 0, tzinfo=utc), "deny", "2.00", u),
        (datetime(2026, 2, 14, 12, 0, tzinfo=utc), "allow", "0", u),
        (datetime(2026, 4, 30, 23, 59, 59, 999999, tzinfo=utc), "allow", "3.00", "user000001"),
        (datetime(2026, 5, 31, 23, 59, 59, 999999, tzinfo=utc), "allow", "0.01", u),
        (datetime(2026, 6, 1, 0, 0, tzinfo=utc), "allow", "0.50", u),  # this month
    ]
    rows = []
    for i, (when, action, price, user) in enumerate(jobs):
        r = history_row(i, 1, PRINTERS)
        r.update(jobdate=when, action=action, jobprice=Decimal(price), username=user)
        rows.append(r)
    _insert(store, rows)
    store.add_user(User(u))
    for when in (datetime(2026, 3, 1, 0, 0, tzinfo=utc), datetime(2026, 3, 31, 23, 59, tzinfo=utc)):
        store.add_payment(Payment(u, Decimal("5"), PaymentKind.CREDIT, "paid in", when))
    now = datetime(2026, 6, 1, 0, 0, 1, tzinfo=utc)
    start = datetime(2026, 6, 1, tzinfo=utc)
    for user in (u, "user000001", "nobody"):
        assert store.invoice_months(user, start) == _invoice_months_by_walking(store, user, now)
    assert store.invoice_months(u, start) == ["2026-05", "2025-12", "2025-11"]
    assert store.invoice_months(u, datetime(2026, 7, 1, tzinfo=utc))[0] == "2026-06"
