"""The LDAP store's history read window by window of dates (storage/ldap_windows.py)
gives what reading every job entry and sorting gives, so the web's pages over it
(storage/rolequeries.py) are the SQL queries' pages: the same rows, order and
cursors (the SQL store is held to the same walk in tests/storage/test_webqueries.py).

The directory (a real slapd, tests/slapd.py) holds jobs that make the walk work:
a busy day, hundreds at one instant (a window that cannot be narrowed), ties,
decades-old jobs with years between them, jobs dated in the future, charges
still pending (no jobs yet) and one job PyKota wrote itself (no pagetallyDate).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import ldap3
import pytest

from pagetally.core.models import Action, JobRecord
from pagetally.errors import InvalidInput
from pagetally.storage import HistoryFilter, open_store
from pagetally.storage import rolequeries as rq
from pagetally.storage.ldap import LdapStore
from pagetally.storage.ldap_io import gtime
from pagetally.storage.rolequeries import RoleQueries
from pagetally.storage.webqueries import JobQuery, JobSort, encode_cursor, sort_value
from tests.slapd import ADMIN_DN, ADMIN_PASSWORD, SlapdServer, slapd_server  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.ldap]

NOW = datetime.now(UTC).replace(microsecond=0)


def _dates() -> Iterator[tuple[datetime, str]]:
    """(date, state) of every job entry written."""
    for i in range(300):  # a busy last day, one a few minutes, every ninth a tie
        yield NOW - timedelta(minutes=4 * (i - i % 9 * (i % 9 == 0))), "done"
    instant = NOW - timedelta(days=700, microseconds=17)
    for _ in range(280):  # more at one instant than a window holds
        yield instant, "done"
    for year in range(1995, 2021, 2):  # years apart
        yield datetime(year, 3, 1, 12, tzinfo=UTC), "done"
    for days in (30, 31, 400):  # in the future (a print server's clock)
        yield NOW + timedelta(days=days), "done"
    yield NOW - timedelta(hours=1), "pending"  # charges under way: no jobs yet
    yield NOW - timedelta(days=700), "pending"


def _entry(i: int, date: datetime | None, state: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "cn": f"{i:013x}job",
        "pykotaUserName": "alice" if i % 4 else "bob",
        "pykotaPrinterName": "lp1" if i % 3 else "lp2",
        "pykotaJobId": str(i),
        "pykotaAction": "DENY" if i % 10 == 3 else "ALLOW",
        "pykotaJobSize": 1 + i % 13,
        "pykotaJobPrice": f"{(i % 7) / 4:.6f}",
        "pykotaTitle": f"report {i}.pdf",
        "pykotaHostName": f"ws{i % 5}",
        "pykotaCopies": 1,
    }
    if date is not None:
        attrs |= {"pagetallyDate": gtime(date), "pagetallyState": state}
    return attrs


@pytest.fixture(scope="module")
def directory(slapd_server: SlapdServer) -> Iterator[LdapStore]:  # noqa: F811
    settings = slapd_server.new_directory("pages")
    store = open_store(settings)
    assert isinstance(store, LdapStore)
    store.upgrade()
    conn = ldap3.Connection(
        ldap3.Server(slapd_server.uri), ADMIN_DN, ADMIN_PASSWORD, auto_bind=True
    )
    entries = [_entry(i, d, s) for i, (d, s) in enumerate(_dates())]
    entries.append(_entry(len(entries), None, ""))  # PyKota's own: createTimestamp is its date
    try:
        for attrs in entries:
            classes = ["pykotaObject", "pykotaJob"] + (
                ["pagetallyJob"] * ("pagetallyDate" in attrs)
            )
            assert conn.add(f"cn={attrs['cn']},{store.layout.jobbase}", classes, attrs), conn.result
    finally:
        conn.unbind()
    try:
        yield store
    finally:
        store.close()


def _everything(store: LdapStore) -> list[JobRecord]:
    """Every job, read in one search (no windows)."""
    return [store.job_of(e) for e in store.job_entries("")]


def _expected(jobs: list[JobRecord], query: JobQuery) -> list[tuple[list[int | None], str | None]]:
    """The pages the SQL queries give: (ids, next cursor) each."""
    title = (query.title or "").casefold()
    picked = [
        j
        for j in jobs
        if all(
            want is None or have == want
            for want, have in (
                (query.user, j.user),
                (query.printer, j.printer),
                (query.action, j.action),
            )
        )
        and title in j.title.casefold()
        and (query.since is None or j.date >= query.since)
        and (query.until is None or j.date < query.until)
    ]
    picked.sort(key=lambda j: (sort_value(j, query.sort), j.id), reverse=query.descending)
    pages = []
    for at in range(0, max(len(picked), 1), query.limit):
        page = picked[at : at + query.limit]
        more = at + query.limit < len(picked)
        last = page[-1] if page else None
        cursor = (
            encode_cursor(query.sort, sort_value(last, query.sort), last.id or 0)
            if more and last
            else None
        )
        pages.append(([j.id for j in page], cursor))
    return pages


def _walk(role: RoleQueries, query: JobQuery) -> list[tuple[list[int | None], str | None]]:
    pages, after = [], None
    for _ in range(1000):
        page = role.job_page(JobQuery(**{**query.__dict__, "after": after}))
        pages.append(([j.id for j in page.jobs], page.next_cursor))
        if page.next_cursor is None:
            return pages
        after = page.next_cursor
    raise AssertionError("pages never ended")


QUERIES = [
    {},
    {"user": "alice"},
    {"printer": "lp2", "action": Action.DENY},
    {"title": "REPORT 1"},
    {"since": NOW - timedelta(days=701), "until": NOW - timedelta(hours=2)},
    {"until": datetime(2010, 1, 1, tzinfo=UTC)},
    {"since": NOW + timedelta(days=1)},
]


@pytest.mark.parametrize("descending", [True, False], ids=["newest", "oldest"])
@pytest.mark.parametrize("sort", list(JobSort))
def test_pages_over_ldap_are_the_sql_queries_pages(
    directory: LdapStore, sort: JobSort, descending: bool
) -> None:
    everything = _everything(directory)
    assert len(everything) == 300 + 280 + 13 + 3 + 1  # not the pending ones
    role = RoleQueries(directory)
    for flt in QUERIES:
        query = JobQuery(sort=sort, descending=descending, limit=97, **flt)  # type: ignore[arg-type]
        assert _walk(role, query) == _expected(everything, query), flt


@pytest.mark.parametrize("newest_first", [True, False])
def test_history_in_windows_is_every_job_in_order(directory: LdapStore, newest_first: bool) -> None:
    everything = sorted(_everything(directory), key=lambda j: (j.date, j.id), reverse=newest_first)
    assert [j.id for j in directory.history(HistoryFilter(newest_first=newest_first))] == [
        j.id for j in everything
    ]
    since, until = NOW - timedelta(days=3000), NOW
    flt = HistoryFilter(user="alice", since=since, until=until, newest_first=newest_first, limit=90)
    assert [j.id for j in directory.history(flt)] == [
        j.id for j in everything if j.user == "alice" and since <= j.date < until
    ][:90]


def test_a_sort_the_directory_cannot_serve_is_capped_with_a_message(
    directory: LdapStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rq, "SORT_MOST", 100)
    role = RoleQueries(directory)
    refused = r"sorting by price .* at most 100 jobs \(by user, printer and dates\); narrow"
    with pytest.raises(InvalidInput, match=refused):
        role.job_page(JobQuery(sort=JobSort.PRICE))
    page = role.job_page(JobQuery(sort=JobSort.PRICE, since=NOW + timedelta(days=1)))
    assert [j.price for j in page.jobs] == sorted((j.price for j in page.jobs), reverse=True)
    assert len(page.jobs) == 3 and Decimal(0) <= page.jobs[-1].price
    # sorting by date has no such limit: it reads a window or two
    assert len(role.job_page(JobQuery(limit=500)).jobs) == 500
