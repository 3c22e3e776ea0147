"""Two print servers, one store (issue 14): each its own private cupsd, thin
backend and `pagetally serve`, printing at once for the same users into one
PostgreSQL. Quotas and balances hold across them; one server loses the store
mid-run (its store address goes dead, `onstoreerror: allow`): it prints on and
journals the charges, and replays them exactly once when the store is back.

Both cupsd listen on 127.0.0.1 on their own ports (tests/cups/cupsd.py), each
with its own spool, journal and service socket: nothing but the database is
shared, as between two machines.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from pagetally.core.models import Action, LimitBy, User
from pagetally.storage import open_store
from pagetally.storage.base import HistoryFilter
from tests.faults.printer import SocketPrinter
from tests.faults.site import BALANCE, PAGES, PRICE, Site, fault_site, job_pdf, use_service
from tests.faults.test_faults import replay
from tests.servers import ServerInfo

pytestmark = [pytest.mark.slow, pytest.mark.cups, pytest.mark.postgresql]
USERS = ("ann", "ben")
SIZE = 20_000  # bytes a job: the printer takes them quickly


@pytest.fixture(scope="module")
def two_sites(postgresql_server: ServerInfo) -> Iterator[tuple[Site, Site]]:
    settings = postgresql_server.new_database("pttwo")
    printers = (SocketPrinter(), SocketPrinter())
    try:
        with fault_site(settings, printers[0]) as one, fault_site(settings, printers[1]) as two:
            one.start_service()
            two.start_service()
            with contextlib.closing(open_store(settings)) as store:
                for name in USERS:
                    store.add_user(User(name, limit_by=LimitBy.BALANCE, balance=BALANCE))
                    store.set_user_quota(name, "faulty")
            yield one, two
    finally:
        for p in printers:
            p.stop()


def _print(site: Site, user: str, tag: str) -> tuple[bytes, int]:
    data = job_pdf(tag, size=SIZE)
    return data, site.submit(user, data)


def _run(site: Site, jobs: list[tuple[str, str]]) -> list[tuple[Site, str, bytes, int]]:
    """Submit `jobs` (user, tag) on `site` and wait until each has ended."""
    sent = [(site, user, *_print(site, user, tag)) for user, tag in jobs]
    for _, _, _, job in sent:
        assert site.wait_final(job) == "completed", site.job_log(job)[-3000:]
    return sent


def test_two_servers_one_store_exact_and_journal_replayed_once(
        two_sites: tuple[Site, Site]) -> None:
    one, two = two_sites
    plan = [(u, f"{u}-{i}") for i in range(3) for u in USERS]
    with ThreadPoolExecutor(2) as pool:  # both servers print at once
        first = [pool.submit(_run, one, [(u, f"one-{t}") for u, t in plan]),
                 pool.submit(_run, two, [(u, f"two-{t}") for u, t in plan])]
        sent = [s for f in first for s in f.result()]

    # server two loses the store: its service stops, its store address goes dead
    two.stop_service()
    use_service(two, False)
    conf = two.config.read_text()
    dead = re.sub(r"^storageserver: .*$", "storageserver: 127.0.0.1:9", conf, flags=re.M)
    two.config.write_text(dead + "\n[faulty]\nonstoreerror: allow\n")
    try:
        with ThreadPoolExecutor(2) as pool:  # server one prints on meanwhile
            cut = [pool.submit(_run, one, [(u, f"one-cut-{u}") for u in USERS]),
                   pool.submit(_run, two, [(u, f"two-cut-{u}-{i}") for u in USERS
                                           for i in range(2)])]
            sent += [s for f in cut for s in f.result()]
        journal = two.base / "spool" / "journal"
        assert len(list(journal.glob("*.json"))) == 4  # printed, charged in the journal
    finally:
        two.config.write_text(conf)
    replay(two)
    replay(two)  # a second replay (or the next job's) charges nothing more
    assert not list((two.base / "spool" / "journal").glob("*.json"))
    use_service(two, True)
    two.start_service()

    per_user = {u: 0 for u in USERS}
    for site, user, data, _job in sent:
        site.settled(user, data)
        assert site.printer.copies(data) == 1  # each job printed once
        per_user[user] += 1
    with contextlib.closing(one.store()) as store:
        for user, jobs in per_user.items():
            charged = [j for j in store.history(HistoryFilter(user=user))
                       if j.action in (Action.ALLOW, Action.WARN)]
            assert len(charged) == jobs == 3 * 2 + 1 + 2  # 6 at once, 1 + 2 while cut off
            assert len({(j.host, j.job_uuid) for j in charged}) == jobs  # none twice
            assert store.get_user(user).balance == BALANCE - PRICE * PAGES * jobs
            quota = store.get_user_quota(user, "faulty")
            assert quota.page_counter == PAGES * jobs
            assert sum(j.price for j in charged) == Decimal(PRICE * PAGES * jobs)
    for site in two_sites:
        assert "Traceback" not in site.cupsd.error_log()
