"""Two print servers, one store (issue 14): each its own private cupsd, thin
backend and `pagetally serve`, printing at once for the same users into one
PostgreSQL. Quotas and balances hold across them; one server loses the store
mid-run (its store address goes dead, `onstoreerror: allow`): it prints on and
journals the charges, and replays them exactly once when the store is back.

Each print server has a loopback address of its own, as two machines would
have: server one 127.0.0.2, server two 127.0.0.3 (Linux routes all of
127.0.0.0/8 to lo). Its cupsd listens there only (`Listen ADDRESS:PORT`,
tests/cups/cupsd.py), its printer is there, and its `pagetally serve` listens
there for pagetally-clients (`notifierlisten`); the thin backend reaches the
service through the server's own Unix socket, under its own folder with its
own spool and journal. Nothing but the database is shared.
"""

from __future__ import annotations

import contextlib
import re
import socket
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
from tests.ports import free_port
from tests.servers import ServerInfo

pytestmark = [pytest.mark.slow, pytest.mark.cups, pytest.mark.postgresql]
USERS = ("ann", "ben")
ADDRESSES = ("127.0.0.2", "127.0.0.3")
SIZE = 20_000  # bytes a job: the printer takes them quickly


@pytest.fixture(scope="module")
def two_sites(postgresql_server: ServerInfo) -> Iterator[tuple[Site, Site]]:
    settings = postgresql_server.new_database("pttwo")
    printers = tuple(SocketPrinter(host=a) for a in ADDRESSES)
    hubs = tuple(
        f"notifierlisten: {a}:{free_port(host=a)}\nnotifierservice: {{base}}/run/notify.sock\n"
        for a in ADDRESSES
    )
    try:
        with (
            fault_site(settings, printers[0], ADDRESSES[0], hubs[0]) as one,
            fault_site(settings, printers[1], ADDRESSES[1], hubs[1]) as two,
        ):
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


def _answers(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=5):
            return True
    except OSError:
        return False


def test_each_server_on_its_own_address(two_sites: tuple[Site, Site]) -> None:
    """cupsd and the service's client port of each server answer on its address
    and on no other (127.0.0.1 included)."""
    for site, mine in zip(two_sites, ADDRESSES, strict=True):
        assert site.cupsd.server == f"{mine}:{site.cupsd.port}"
        hub = int(re.findall(r"^notifierlisten: .*:(\d+)$", site.config.read_text(), re.M)[0])
        for port in (site.cupsd.port, hub):
            assert _answers(mine, port)
            for other in ("127.0.0.1", *ADDRESSES):
                if other != mine:
                    assert not _answers(other, port), (mine, other, port)


def test_two_servers_one_store_exact_and_journal_replayed_once(
    two_sites: tuple[Site, Site],
) -> None:
    one, two = two_sites
    plan = [(u, f"{u}-{i}") for i in range(3) for u in USERS]
    with ThreadPoolExecutor(2) as pool:  # both servers print at once
        first = [
            pool.submit(_run, one, [(u, f"one-{t}") for u, t in plan]),
            pool.submit(_run, two, [(u, f"two-{t}") for u, t in plan]),
        ]
        sent = [s for f in first for s in f.result()]

    # server two loses the store: its service stops, its store address goes dead
    two.stop_service()
    use_service(two, False)
    conf = two.config.read_text()
    dead = re.sub(r"^storageserver: .*$", "storageserver: 127.0.0.1:9", conf, flags=re.M)
    two.config.write_text(dead + "\n[faulty]\nonstoreerror: allow\n")
    try:
        with ThreadPoolExecutor(2) as pool:  # server one prints on meanwhile
            cut = [
                pool.submit(_run, one, [(u, f"one-cut-{u}") for u in USERS]),
                pool.submit(_run, two, [(u, f"two-cut-{u}-{i}") for u in USERS for i in range(2)]),
            ]
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
            charged = [
                j
                for j in store.history(HistoryFilter(user=user))
                if j.action in (Action.ALLOW, Action.WARN)
            ]
            assert len(charged) == jobs == 3 * 2 + 1 + 2  # 6 at once, 1 + 2 while cut off
            assert len({(j.host, j.job_uuid) for j in charged}) == jobs  # none twice
            assert store.get_user(user).balance == BALANCE - PRICE * PAGES * jobs
            quota = store.get_user_quota(user, "faulty")
            assert quota.page_counter == PAGES * jobs
            assert sum(j.price for j in charged) == Decimal(PRICE * PAGES * jobs)
    for site, address in zip(two_sites, ADDRESSES, strict=True):
        assert site.printer.uri.startswith(f"socket://{address}:")  # each its own printer
        assert len(site.printer.connections) == 3 * 2 + (2 if site is one else 4)
        assert "Traceback" not in site.cupsd.error_log()
