"""Refunds (pkrefund) in the store, on every engine: money, pages, codes, once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from pagetally.core.models import (
    Action,
    BillingCode,
    ChargeRequest,
    Decision,
    Group,
    JobFacts,
    LimitBy,
    PaymentKind,
    PriceTable,
    Printer,
    User,
)
from pagetally.core.refunds import Refund, refund_for
from pagetally.errors import InvalidAmount, NotFound, RuleError
from pagetally.storage import HistoryFilter, StoreSettings, open_store
from pagetally.storage.sql import SqlStore

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=2)


@pytest.fixture
def site(store: SqlStore) -> SqlStore:
    """alice (balance 10, in staff) prints on lp1 inside the printer group floor."""
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=D("10")))
    store.add_group(Group("staff"))
    store.add_members("staff", ["alice"])
    store.add_printer(Printer("lp1", prices=PriceTable(per_page=D("0.10"))))
    store.add_printer(Printer("floor"))
    store.add_to_printer_group("floor", ["lp1"])
    store.set_user_quota("alice", "lp1", soft_limit=50, hard_limit=100)
    store.set_user_quota("alice", "floor")
    store.set_group_quota("staff", "floor", hard_limit=500)
    store.add_billing_code(BillingCode("PRJ", balance=D("100")))
    return store


def charge(
    store: SqlStore,
    n: int,
    pages: int = 12,
    price: str = "1.20",
    action: Action = Action.ALLOW,
    **kw: object,
) -> int:
    facts = JobFacts(
        user="alice",
        printer="lp1",
        pages=pages,
        job_id=str(n),
        job_uuid=f"urn:uuid:{n:08d}",
        host="ws1",
        **kw,  # type: ignore[arg-type]
    )
    decision = Decision(action, price=D(price), pages=pages, reason="ok" if n else "")
    job = store.charge(ChargeRequest(facts, decision, T0)).job
    assert job.id is not None
    return job.id


def counters(store: SqlStore) -> tuple[int, int, int, int, int]:
    lp1, floor = store.get_user_quota("alice", "lp1"), store.get_user_quota("alice", "floor")
    group = store.get_group_quota("staff", "floor")
    return (
        lp1.page_counter,
        lp1.life_page_counter,
        floor.page_counter,
        floor.life_page_counter,
        group.page_counter,
    )


def test_refund_gives_the_money_back_and_marks_the_job(site: SqlStore) -> None:
    row = charge(site, 42)
    assert site.get_user("alice").balance == D("8.80")
    res = site.refund(row, refund_for(site.get_job(row), currency="EUR", note="jam"), LATER)
    assert (res.amount, res.pages, res.balance_after) == (D("1.20"), 0, D("10.00"))
    user = site.get_user("alice")
    assert (user.balance, user.lifetime_paid) == (D("10.00"), D("0"))
    # money only (PyKota's default): the pages stay counted
    assert counters(site) == (12, 12, 12, 12, 12)
    pay = site.payments("alice")
    assert [(p.kind, p.amount, p.description, p.date) for p in pay] == [
        (PaymentKind.REFUND, D("1.20"), "Refund of job 42 on lp1: 1.20 EUR; jam", LATER)
    ]
    # the history keeps the charge: same row, price, pages and date; action REFUND
    jobs = list(site.history(HistoryFilter(user="alice")))
    assert len(jobs) == 1
    job = jobs[0]
    assert (job.id, job.action, job.price, job.pages, job.date) == (
        row,
        Action.REFUND,
        D("1.20"),
        12,
        T0,
    )
    assert job.reason == "Refund of job 42 on lp1: 1.20 EUR; jam (was allow: ok)"
    assert res.job == job


def test_refund_with_pages_and_billing_code(site: SqlStore) -> None:
    row = charge(site, 7, billing_code="PRJ")
    charge(site, 8, pages=5, price="0.50")
    assert counters(site) == (17, 17, 17, 17, 17)
    assert site.get_billing_code("PRJ").balance == D("98.80")
    res = site.refund(row, refund_for(site.get_job(row), fraction=D("0.5"), pages=True), LATER)
    assert (res.amount, res.pages, res.balance_after) == (D("0.60"), 12, D("8.90"))
    # both printers of the chain, both counters; the group's is the members' sum
    assert counters(site) == (5, 5, 5, 5, 5)
    code = site.get_billing_code("PRJ")
    assert (code.balance, code.page_counter) == (D("99.40"), 0)
    assert site.get_job(row).action is Action.REFUND
    assert site.jobs_by_job_id("8", "lp1")[0].action is Action.ALLOW


def test_pages_never_go_below_zero(site: SqlStore) -> None:
    row = charge(site, 1)
    site.reset_user_quota("alice", "lp1", page_counter=4)
    site.refund(row, refund_for(site.get_job(row), pages=True), LATER)
    lp1 = site.get_user_quota("alice", "lp1")
    assert (lp1.page_counter, lp1.life_page_counter) == (0, 0)
    assert site.get_user_quota("alice", "floor").page_counter == 0


def test_refund_once_and_only_charged_jobs(site: SqlStore) -> None:
    row = charge(site, 1)
    denied = charge(site, 2, action=Action.DENY)
    refund = refund_for(site.get_job(row))
    site.refund(row, refund, LATER)
    before = (site.get_user("alice").balance, len(site.payments("alice")))
    with pytest.raises(RuleError, match="job 1 was refunded already"):
        site.refund(row, refund, LATER)
    with pytest.raises(RuleError, match="job 1 was refunded already"):
        refund_for(site.get_job(row))
    with pytest.raises(RuleError, match=r"job 2 was not charged \(action deny\)"):
        site.refund(denied, Refund(D("0"), 0, "x"), LATER)
    assert (site.get_user("alice").balance, len(site.payments("alice"))) == before
    assert site.get_job(denied).action is Action.DENY
    with pytest.raises(NotFound, match="job '999999' does not exist"):
        site.refund(999999, refund, LATER)


def test_refund_never_exceeds_the_job(site: SqlStore) -> None:
    row = charge(site, 1)
    with pytest.raises(InvalidAmount, match="between 0 and its price"):
        site.refund(row, Refund(D("1.21"), 0, "too much"), LATER)
    with pytest.raises(InvalidAmount, match="0 to 12 pages"):
        site.refund(row, Refund(D("1"), 13, "too many"), LATER)
    assert site.get_job(row).action is Action.ALLOW
    assert site.payments("alice") == []


def test_jobs_by_job_id_lists_every_reuse(site: SqlStore) -> None:
    first = charge(site, 5)
    facts = JobFacts(user="alice", printer="lp1", pages=1, job_id="5", host="ws2")
    second = site.charge(ChargeRequest(facts, Decision(Action.ALLOW, pages=1), LATER)).job.id
    assert [j.id for j in site.jobs_by_job_id("5", "lp1")] == [first, second]
    assert site.jobs_by_job_id("5", "floor") == []


def _racer(settings: StoreSettings, row: int, start: threading.Barrier, out: list[str]) -> None:
    store = open_store(settings)
    try:
        refund = refund_for(store.get_job(row))
        start.wait()
        store.refund(row, refund, LATER)
        out.append("refunded")
    except RuleError as err:
        out.append(str(err))
    finally:
        store.close()


@pytest.mark.slow
def test_concurrent_refunds_refund_once(site: SqlStore, settings: StoreSettings) -> None:
    """Racers read the job as charged, then all refund it at once: one wins."""
    racers, rounds = 4, 3
    rows = [charge(site, n) for n in range(1, rounds + 1)]
    for row in rows:
        out: list[str] = []
        start = threading.Barrier(racers)
        threads = [
            threading.Thread(target=_racer, args=(settings, row, start, out)) for _ in range(racers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(out)[-1] == "refunded" and out.count("refunded") == 1, out
        assert all("refunded already" in o for o in out if o != "refunded"), out
    assert site.get_user("alice").balance == D("10.00")
    assert [p.amount for p in site.payments("alice")] == [D("1.20")] * rounds


def test_refund_of_a_deleted_users_job(site: SqlStore) -> None:
    """The history outlives the user: money cannot go back to nobody; a refund
    of nothing (a free job) still marks the row."""
    row = charge(site, 1)
    free = charge(site, 2, price="0")
    site.delete_user("alice")
    with pytest.raises(NotFound, match="user 'alice' does not exist"):
        site.refund(row, refund_for(site.get_job(row)), LATER)
    assert site.get_job(row).action is Action.ALLOW
    res = site.refund(free, refund_for(site.get_job(free), pages=False), LATER)
    assert (res.job.action, res.amount, res.balance_after) == (Action.REFUND, D("0"), None)
