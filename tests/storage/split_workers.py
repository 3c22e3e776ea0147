"""Worker processes for the split set-up's tests (spawned, not forked): charges
through `open_split` (reads from the replica, decisions and charges on the primary)."""

from __future__ import annotations

from datetime import UTC, datetime

from pagetally.core.models import Action, ChargeRequest, Decision, JobFacts
from pagetally.storage import StoreSettings, open_split
from tests.storage.workers import PAGES, PRICE, balance_rule


def charge_split(
    primary: StoreSettings, read: StoreSettings, worker: int, count: int, mode: str
) -> int:
    """Charge `count` jobs of alice on lp1 through the split; returns how many
    reads the replica answered before each charge (get_user: a report's read)."""
    store = open_split(primary, read)
    try:
        for i in range(count):
            facts = JobFacts(
                user="alice", printer="lp1", pages=PAGES, job_id=str(i),
                job_uuid=f"urn:uuid:{worker:04d}-{i:06d}", host=f"ws{worker}",
                billing_code="PRJ", title=f"job {worker}/{i}",
            )  # fmt: skip
            store.get_user("alice")  # a read between charges, answered by the replica
            now = datetime.now(UTC)
            if mode == "decide":
                store.decide_and_charge(facts, balance_rule, now)
            else:
                store.charge(
                    ChargeRequest(facts, Decision(Action.ALLOW, price=PRICE, pages=PAGES), now)
                )
        return count
    finally:
        store.close()
