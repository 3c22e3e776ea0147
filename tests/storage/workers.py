"""Worker processes for the concurrency test and the benchmark (spawned, not forked)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from pagetally.core.models import AccountSnapshot, Action, ChargeRequest, Decision, JobFacts
from pagetally.storage import StoreSettings, open_store

PRICE = Decimal("0.50")
PAGES = 2


def balance_rule(snap: AccountSnapshot) -> Decision:
    """Allow while the balance covers the price (checked on the locked snapshot)."""
    assert snap.user is not None
    if snap.user.balance < PRICE:
        return Decision(Action.DENY, reason="balance too low")
    return Decision(Action.ALLOW, price=PRICE, pages=PAGES)


def charge_many(
    settings: StoreSettings, worker: int, count: int, mode: str, user: str = "alice"
) -> float:
    """Charge `count` jobs of `user` on lp1; returns the seconds it took."""
    import time

    store = open_store(settings)
    start = time.perf_counter()
    try:
        for i in range(count):
            facts = JobFacts(
                user=user,
                printer="lp1",
                pages=PAGES,
                job_id=str(i),
                job_uuid=f"urn:uuid:{worker:04d}-{i:06d}",
                host=f"ws{worker}",
                billing_code="PRJ",
                title=f"job {worker}/{i}",
            )
            now = datetime.now(UTC)
            if mode == "decide":
                store.decide_and_charge(facts, balance_rule, now)
            else:
                decision = Decision(Action.ALLOW, price=PRICE, pages=PAGES)
                store.charge(ChargeRequest(facts, decision, now))
        return time.perf_counter() - start
    finally:
        store.close()
