"""The read/write split on a PostgreSQL primary with a streaming replica
(tests/replica.py): reads from the replica, writes and decisions on the primary.

- the store's charge and entity suites (test_charge.py, test_entities.py: 21
  tests) run again with `store` a SplitStore (`open_split`);
- the concurrency test (8 writers x 200 charges on one user with a printer
  group) through the split: exact balances, counters and history;
- failover: the replica stops; decisions and charges go on (the primary), the
  reads fall back to the primary, nothing is lost; the replica comes back and
  shows every charge.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import (
    Action,
    BillingCode,
    JobFacts,
    LimitBy,
    PriceTable,
    Printer,
    User,
)
from pagetally.storage import HistoryFilter, StoreSettings, open_split, open_store
from pagetally.storage.split import SplitStore
from tests.replica import Replicated, pg_replicated  # noqa: F401
from tests.storage.conftest import wipe
from tests.storage.split_workers import charge_split
from tests.storage.test_charge import *  # noqa: F403  (the suite, on the split)
from tests.storage.test_entities import *  # noqa: F403
from tests.storage.workers import PAGES, PRICE, balance_rule

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]


@pytest.fixture(scope="session")
def split_primary(pg_replicated: Replicated) -> StoreSettings:  # noqa: F811
    settings = pg_replicated.primary.new_database("split")
    store = open_store(settings)
    store.upgrade()
    store.close()
    return settings


@pytest.fixture(params=["pgsplit"])
def settings(split_primary: StoreSettings) -> StoreSettings:
    """The primary's settings (what a worker or a writer opens), emptied."""
    wipe(split_primary)
    return split_primary


@pytest.fixture
def store(settings: StoreSettings, pg_replicated: Replicated) -> Iterator[SplitStore]:  # noqa: F811
    """The suites' store: a SplitStore, reads from the replica."""
    split = open_split(settings, pg_replicated.read_settings(settings))
    try:
        yield split  # type: ignore[misc]  # a Store, typed as such by open_split
    finally:
        split.close()


def _site(store: SplitStore, start: Decimal) -> None:
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=start))
    store.add_printer(Printer("lp1", prices=PriceTable(per_page=Decimal("0.25"))))
    store.add_printer(Printer("floor"))
    store.add_to_printer_group("floor", ["lp1"])
    store.set_user_quota("alice", "lp1")
    store.set_user_quota("alice", "floor")
    store.add_billing_code(BillingCode("PRJ", balance=Decimal("1000")))


def _check(store: SplitStore, start: Decimal, allowed: int, total: int) -> None:
    """What users see, read through the split (the replica) — exact."""
    user = store.get_user("alice")
    assert user.balance == start - PRICE * allowed
    for printer in ("lp1", "floor"):
        q = store.get_user_quota("alice", printer)
        assert (q.page_counter, q.life_page_counter) == (PAGES * allowed, PAGES * allowed)
    code = store.get_billing_code("PRJ")
    assert (code.page_counter, code.balance) == (PAGES * allowed, 1000 - PRICE * allowed)
    jobs = list(store.history(HistoryFilter(user="alice")))
    assert len(jobs) == total
    assert sum(1 for j in jobs if j.action is Action.ALLOW) == allowed
    assert sum(j.price for j in jobs) == PRICE * allowed
    assert len({(j.host, j.job_uuid) for j in jobs}) == total


def test_concurrent_charges_through_the_split_add_up(
    store: SplitStore,
    settings: StoreSettings,
    pg_replicated: Replicated,  # noqa: F811
) -> None:
    """test_concurrency's `decide` mode (the balance covers 1,200 of 1,600 jobs:
    exactly 1,200 allowed, no overdraft), with a replica read before each charge."""
    workers, jobs, mode = 8, 200, "decide"
    total = workers * jobs
    allowed = total if mode == "charge" else 1200
    start = PRICE * total + Decimal("7.25") if mode == "charge" else PRICE * allowed
    _site(store, start)
    read = pg_replicated.read_settings(settings)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        done = pool.starmap(charge_split, [(settings, read, w, jobs, mode) for w in range(workers)])
    assert sum(done) == total
    _check(store, start, allowed, total)
    assert store.failovers == 0  # the replica answered every read


def test_replica_stops_decisions_go_on_nothing_lost(
    store: SplitStore,
    settings: StoreSettings,
    pg_replicated: Replicated,  # noqa: F811
) -> None:
    start = PRICE * 30
    _site(store, start)

    def job(n: int) -> JobFacts:
        return JobFacts(
            user="alice",
            printer="lp1",
            pages=PAGES,
            job_id=str(n),
            job_uuid=f"urn:uuid:{n:06d}",
            host="ws1",
            billing_code="PRJ",
        )

    for n in range(10):
        assert (
            store.decide_and_charge(job(n), balance_rule, datetime.now(UTC)).job.action
            is Action.ALLOW
        )
    assert store.get_user("alice").balance == start - PRICE * 10
    assert store.failovers == 0
    pg_replicated.stop_replica()
    try:
        for n in range(10, 40):  # 20 more fit the balance, the last 10 are refused
            store.decide_and_charge(job(n), balance_rule, datetime.now(UTC))
        # the reads come from the primary now, exact
        _check(store, start, 30, 40)
        assert store.failovers == 1  # noticed once, then the primary for a while
        # a charge replayed twice (a journal, a retry) is still one charge
        again = store.decide_and_charge(job(5), balance_rule, datetime.now(UTC))
        assert again.already_charged
    finally:
        pg_replicated.start_replica()
    fresh = open_split(settings, pg_replicated.read_settings(settings))
    try:  # the replica caught up: it shows every charge made while it was away
        _check(fresh, start, 30, 40)  # type: ignore[arg-type]
        assert fresh.failovers == 0  # type: ignore[attr-defined]
    finally:
        fresh.close()


def test_replica_answers_a_snapshot_with_the_read_only_credentials(
    store: SplitStore,
    settings: StoreSettings,
    pg_replicated: Replicated,  # noqa: F811
) -> None:
    """pagetally_snapshot without its locks is a plain read: the read-only user
    may run it, on a hot standby too (a decision's read for a site's reports or
    a policy that reads from the replica)."""
    _site(store, Decimal("3.00"))
    with open_store(pg_replicated.read_settings(settings), readonly=True) as replica:
        snap = replica.snapshot("alice", "lp1", "PRJ")
    assert snap.user is not None and snap.user.balance == Decimal("3.00")
    assert [p.name for p in snap.printers] == ["lp1", "floor"]
    assert set(snap.user_quotas) == {"lp1", "floor"}
    assert snap.billing_code is not None and snap.billing_code.balance == Decimal("1000")


def test_read_only_commands_read_the_read_store_and_fall_back(
    store: SplitStore,
    settings: StoreSettings,
    pg_replicated: Replicated,  # noqa: F811
    tmp_path: Path,
) -> None:
    """pagetally.conf's readstorageserver: a command without the admin
    credentials (Env.store()) reads from the replica; a read store that cannot be
    reached (nothing listens on port 9) leaves the reads to the primary."""
    from pagetally.cli.env import Env

    _site(store, Decimal("3.00"))
    for read_server, failovers in ((pg_replicated.server, 0), ("127.0.0.1:9", 1)):
        conf = tmp_path / f"pagetally-{failovers}.conf"
        conf.write_text(
            f"[global]\nstoragebackend: postgresql\nstorageserver: {settings.server}\n"
            f"storagename: {settings.name}\nstorageuser: {settings.user}\n"
            f"storageuserpw: {settings.password}\nreadstorageserver: {read_server}\n"
        )
        with Env(config_path=str(conf)).store() as reads:
            assert isinstance(reads, SplitStore)
            assert [u.name for u in reads.find_users()] == ["alice"]
            assert reads.get_user("alice").balance == Decimal("3.00")
            assert reads.failovers == failovers
