"""LDAP store benchmark: decide-and-charge per second with 1, 4 and 16 writers.

    .venv/bin/python bench/ldap.py                      # 1, 4, 16 writers, 10 s each
    .venv/bin/python bench/ldap.py --writers 1 4 --seconds 5 --same-user

A private slapd (tests/slapd.py: mdb, dbnosync, on 127.0.0.1) gets a fresh
branch per run, with `--users` users limited by balance, a printer inside a
printer group, quota entries on both and a billing code. Each writer process
charges through `decide_and_charge` for `--seconds` seconds: its own user
(the usual case: print servers charging different people), or with
`--same-user` all the same user (the worst case: every charge of that user
waits for the one before; see docs/store.md, "LDAP: charging").
After each run the totals are checked: the balances, page counters, billing
code and history add up exactly to the charges the writers counted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pagetally.core.models import (
    AccountSnapshot,
    Action,
    BillingCode,
    Decision,
    JobFacts,
    LimitBy,
    PriceTable,
    Printer,
    User,
)
from pagetally.storage import HistoryFilter, StoreSettings, open_store
from tests.slapd import start_slapd

PRICE = Decimal("0.50")
PAGES = 2
START = Decimal(1_000_000)


def _rule(snap: AccountSnapshot) -> Decision:
    assert snap.user is not None
    if snap.user.balance < PRICE:
        return Decision(Action.DENY, reason="balance too low")
    return Decision(Action.ALLOW, price=PRICE, pages=PAGES)


def writer(
    settings: StoreSettings, worker: int, user: str, barrier: Any, seconds: float, tag: str
) -> int:
    store = open_store(settings)
    try:
        store.get_user(user)  # connect before the clock starts
        barrier.wait()
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            facts = JobFacts(user=user, printer="lp1", pages=PAGES, job_id=str(n),
                             job_uuid=f"urn:uuid:{tag}-{worker}-{n}", host=f"ws{worker}",
                             billing_code="PRJ")  # fmt: skip
            store.decide_and_charge(facts, _rule, datetime.now(UTC))
            n += 1
        return n
    finally:
        store.close()


def setup(settings: StoreSettings, users: int) -> None:
    store = open_store(settings)
    try:
        store.upgrade()
        store.add_printer(Printer("lp1", prices=PriceTable(per_page=Decimal("0.25"))))
        store.add_printer(Printer("floor"))
        store.add_to_printer_group("floor", ["lp1"])
        store.add_billing_code(BillingCode("PRJ", balance=START))
        for i in range(users):
            name = f"u{i:03d}"
            store.add_user(User(name, limit_by=LimitBy.BALANCE, balance=START))
            store.set_user_quota(name, "lp1")
            store.set_user_quota(name, "floor")
    finally:
        store.close()


def check(settings: StoreSettings, charged: dict[str, int], total: int) -> None:
    """The directory's totals against what the writers charged: exact or fail."""
    store = open_store(settings)
    try:
        for user, n in charged.items():
            u = store.get_user(user)
            assert u.balance == START - PRICE * n, (user, u.balance, n)
            for printer in ("lp1", "floor"):
                q = store.get_user_quota(user, printer)
                assert q.page_counter == PAGES * n, (user, printer, q.page_counter, n)
        code = store.get_billing_code("PRJ")
        assert code.balance == START - PRICE * total and code.page_counter == PAGES * total
        jobs = list(store.history(HistoryFilter(printer="lp1")))
        assert len(jobs) == total and all(j.action is Action.ALLOW for j in jobs)
    finally:
        store.close()


def operations(settings: StoreSettings, n: int = 50) -> str:
    """Directory operations a charge (one writer, its own user), by kind: each is
    a round trip to slapd, which is what a charge's time goes to."""
    from collections import Counter

    store: Any = open_store(settings)
    seen: Counter[str] = Counter()
    run = store.d._run

    def counted(what: str, op: Any) -> Any:
        seen[what.split()[0]] += 1
        return run(what, op)

    try:
        store.get_user("u000")
        store.d._run = counted
        for i in range(n):
            store.decide_and_charge(
                JobFacts(
                    user="u000",
                    printer="lp1",
                    pages=PAGES,
                    job_id=str(i),
                    job_uuid=f"urn:uuid:ops-{i}",
                    host="ops",
                    billing_code="PRJ",
                ),
                _rule,
                datetime.now(UTC),
            )
    finally:
        store.close()
    kinds = ", ".join(f"{k} {v / n:.1f}" for k, v in sorted(seen.items()))
    return f"{sum(seen.values()) / n:.1f} directory operations a charge ({kinds})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--writers", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--same-user", action="store_true", help="every writer charges one user")
    args = ap.parse_args()
    server = start_slapd()
    ctx = multiprocessing.get_context("spawn")
    try:
        print(f"slapd {server.uri}; {args.seconds:g} s per run; "
              f"{'one user' if args.same_user else 'a user per writer'}")  # fmt: skip
        first = server.new_directory("ops")
        setup(first, 1)
        print(operations(first))
        print(f"{'writers':>8} {'charges':>8} {'charges/s':>10}  exact")
        for n in args.writers:
            settings = server.new_directory("bench")
            users = 1 if args.same_user else n
            setup(settings, users)
            barrier = ctx.Manager().Barrier(n)
            names = [f"u{(0 if args.same_user else w):03d}" for w in range(n)]
            with ctx.Pool(n) as pool:
                t0 = time.perf_counter()
                counts = pool.starmap(
                    writer,
                    [(settings, w, names[w], barrier, args.seconds, f"w{n}") for w in range(n)],
                )
                elapsed = time.perf_counter() - t0
            charged: dict[str, int] = {}
            for name, c in zip(names, counts, strict=True):
                charged[name] = charged.get(name, 0) + c
            total = sum(counts)
            check(settings, charged, total)
            # the pool's start-up is outside the writers' clock: rate over their seconds
            print(f"{n:>8} {total:>8} {total / args.seconds:>10.1f}  yes "
                  f"(wall {elapsed:.1f} s)")  # fmt: skip
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
