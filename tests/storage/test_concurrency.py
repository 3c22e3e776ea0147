"""8 processes charging the same user 200 times each lose nothing, on every engine.

`charge`: every job allowed; the atomic updates must add up exactly.
`decide`: the balance covers only 1,200 of the 1,600 jobs; deciding on a locked
snapshot must allow exactly 1,200 and deny the rest (no overdraft).
"""

from __future__ import annotations

import multiprocessing
from decimal import Decimal

import pytest

from pagetally.core.models import Action, BillingCode, LimitBy, PriceTable, Printer, User
from pagetally.storage import HistoryFilter, StoreSettings
from pagetally.storage.sql import SqlStore
from tests.storage.workers import PAGES, PRICE, charge_many

WORKERS = 8
JOBS = 200
TOTAL = WORKERS * JOBS


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["charge", "decide"])
def test_concurrent_charges_add_up(store: SqlStore, settings: StoreSettings, mode: str) -> None:
    allowed = TOTAL if mode == "charge" else 1200
    start = PRICE * TOTAL + Decimal("7.25") if mode == "charge" else PRICE * allowed
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=start))
    store.add_printer(Printer("lp1", prices=PriceTable(per_page=Decimal("0.25"))))
    store.add_printer(Printer("floor"))
    store.add_to_printer_group("floor", ["lp1"])
    store.set_user_quota("alice", "lp1")
    store.set_user_quota("alice", "floor")
    store.add_billing_code(BillingCode("PRJ", balance=Decimal("1000")))

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WORKERS) as pool:
        times = pool.starmap(charge_many, [(settings, w, JOBS, mode) for w in range(WORKERS)])
    assert len(times) == WORKERS

    user = store.get_user("alice")
    assert user.balance == start - PRICE * allowed
    for printer in ("lp1", "floor"):
        q = store.get_user_quota("alice", printer)
        assert (q.page_counter, q.life_page_counter) == (PAGES * allowed, PAGES * allowed)
    code = store.get_billing_code("PRJ")
    assert (code.page_counter, code.balance) == (PAGES * allowed, 1000 - PRICE * allowed)
    jobs = list(store.history(HistoryFilter(user="alice")))
    assert len(jobs) == TOTAL
    assert sum(1 for j in jobs if j.action is Action.ALLOW) == allowed
    assert sum(j.price for j in jobs) == PRICE * allowed
    assert len({(j.host, j.job_uuid) for j in jobs}) == TOTAL
