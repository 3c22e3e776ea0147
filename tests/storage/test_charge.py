"""Charging, snapshots, decide-and-charge, history and allowances, on every engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from pagetally.core.models import (
    AccountSnapshot,
    Action,
    Allowance,
    BillingCode,
    ChargeRequest,
    Decision,
    Group,
    JobFacts,
    LimitBy,
    Payment,
    PaymentKind,
    PriceTable,
    Printer,
    User,
)
from pagetally.errors import InvalidInput
from pagetally.storage import HistoryFilter, StoreSettings
from pagetally.storage.sql import SqlStore
from tests.storage.conftest import sql_only

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def site(store: SqlStore) -> SqlStore:
    """alice (balance 10) prints on lp1 inside floor inside building; bob is in staff."""
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=D("10")))
    store.add_user(User("bob"))
    store.add_group(Group("staff"))
    store.add_members("staff", ["alice", "bob"])
    store.add_printer(Printer("lp1", prices=PriceTable(per_page=D("0.10"))))
    store.add_printer(Printer("floor", prices=PriceTable(per_job=D("0.05"))))
    store.add_printer(Printer("building"))
    store.add_to_printer_group("floor", ["lp1"])
    store.add_to_printer_group("building", ["floor"])
    store.set_user_quota("alice", "lp1", soft_limit=50, hard_limit=100)
    store.set_user_quota("alice", "floor")
    store.set_user_quota("alice", "building", hard_limit=1000)
    store.set_group_quota("staff", "floor", hard_limit=500)
    store.add_billing_code(BillingCode("PRJ", balance=D("100")))
    return store


def job(n: int, pages: int = 3, **kw: object) -> JobFacts:
    base: dict[str, object] = {
        "user": "alice",
        "printer": "lp1",
        "pages": pages,
        "job_id": str(n),
        "job_uuid": f"urn:uuid:{n:08d}",
        "host": "ws1.example.org",
        "title": "report.pdf",
    }
    base.update(kw)
    return JobFacts(**base)  # type: ignore[arg-type]


def allow(price: str, pages: int, **kw: object) -> Decision:
    return Decision(Action.ALLOW, price=D(price), pages=pages, **kw)  # type: ignore[arg-type]


def test_charge_counts_on_printer_and_every_group_above(site: SqlStore) -> None:
    res = site.charge(ChargeRequest(job(1), allow("0.35", 3), T0))
    assert not res.already_charged
    assert res.balance_after == D("9.65")
    assert res.job.price == D("0.35") and res.job.action is Action.ALLOW
    assert res.job.date == T0
    for printer in ("lp1", "floor", "building"):
        q = site.get_user_quota("alice", printer)
        assert (q.page_counter, q.life_page_counter) == (3, 3), printer
    assert site.get_group_quota("staff", "floor").page_counter == 3
    assert site.get_user("alice").balance == D("9.65")


def test_charging_the_same_job_twice_changes_nothing(site: SqlStore) -> None:
    site.charge(ChargeRequest(job(7), allow("0.35", 3), T0))
    again = site.charge(ChargeRequest(job(7), allow("0.35", 3), T0 + timedelta(minutes=1)))
    assert again.already_charged
    assert again.job.date == T0
    assert again.balance_after == D("9.65")
    assert site.get_user_quota("alice", "lp1").page_counter == 3
    assert len(list(site.history())) == 1
    # CUPS reuses job ids: the same id with another UUID is another job
    other = site.charge(ChargeRequest(job(7, job_uuid="urn:uuid:new"), allow("0.35", 3), T0))
    assert not other.already_charged
    assert site.get_user_quota("alice", "lp1").page_counter == 6


def test_jobs_without_identity_never_collide(site: SqlStore) -> None:
    for _ in range(2):
        r = site.charge(ChargeRequest(job(0, job_id="", job_uuid="", host=None), allow("1", 1), T0))
        assert not r.already_charged
    assert site.get_user("alice").balance == D("8")
    assert len(list(site.history())) == 2


def test_denied_job_is_recorded_and_changes_nothing(site: SqlStore) -> None:
    deny = Decision(Action.DENY, reason="hard limit reached", price=D("0.35"), pages=3)
    res = site.charge(ChargeRequest(job(2, billing_code="PRJ"), deny, T0))
    assert res.job.action is Action.DENY and res.job.reason == "hard limit reached"
    assert res.job.price == D("0")
    assert site.get_user("alice").balance == D("10")
    assert site.get_user_quota("alice", "lp1").page_counter == 0
    assert site.get_billing_code("PRJ").page_counter == 0


def test_billing_code_warn_and_grace_deadlines(site: SqlStore) -> None:
    deadline = T0 + timedelta(days=7)
    warn = Decision(
        Action.WARN,
        reason="soft limit passed",
        price=D("0.35"),
        pages=3,
        user_date_limits={"lp1": deadline},
        group_date_limits={("staff", "floor"): deadline},
    )
    site.charge(ChargeRequest(job(3, billing_code="PRJ"), warn, T0))
    code = site.get_billing_code("PRJ")
    assert (code.page_counter, code.balance) == (3, D("99.65"))
    q = site.get_user_quota("alice", "lp1")
    # warn_count counts deny banners (PyKota), not warned jobs
    assert (q.warn_count, q.date_limit) == (0, deadline)
    assert site.get_user_quota("alice", "floor").date_limit is None
    assert site.get_group_quota("staff", "floor").date_limit == deadline
    rows = list(site.history(HistoryFilter(billing_code="PRJ")))
    assert [r.action for r in rows] == [Action.WARN]


def test_group_entry_alone_counts_through_a_new_member_entry(site: SqlStore) -> None:
    site.charge(ChargeRequest(job(4, user="bob"), allow("0", 2), T0))
    assert site.get_user_quota("bob", "floor").page_counter == 2  # created for the group
    assert site.get_group_quota("staff", "floor").page_counter == 2


def test_history_keeps_every_field_and_filters(site: SqlStore) -> None:
    facts = job(
        5,
        pages=4,
        color_pages=2,
        sheets=2,
        copies=2,
        billing_code="PRJ",
        filename="/tmp/x.pdf",
        size_bytes=12345,
        sha256="a" * 64,
        options="sides=two-sided-long-edge",
        title="t" * 500,
    )
    site.charge(
        ChargeRequest(
            facts,
            allow("0.45", 4),
            T0,
            printer_counter=1000,
            precomputed_pages=4,
            precomputed_price=D("0.45"),
        )
    )
    site.charge(ChargeRequest(job(6, host="other"), allow("0.1", 1), T0 + timedelta(hours=1)))
    site.charge(ChargeRequest(job(8, user="bob"), allow("0", 1), T0 + timedelta(hours=2)))
    (r,) = site.history(HistoryFilter(billing_code="PRJ"))
    assert (r.pages, r.color_pages, r.sheets, r.copies) == (4, 2, 2, 2)
    assert (r.filename, r.size_bytes, r.sha256) == ("/tmp/x.pdf", 12345, "a" * 64)
    assert r.options == "sides=two-sided-long-edge"
    assert (r.printer_counter, r.precomputed_pages, r.precomputed_price) == (1000, 4, D("0.45"))
    assert r.host == "ws1.example.org" and r.job_id == "5" and len(r.title) == 200
    assert [j.job_id for j in site.history(HistoryFilter(user="alice"))] == ["5", "6"]
    assert [j.job_id for j in site.history(HistoryFilter(user="b*"))] == ["8"]
    assert [j.job_id for j in site.history(HistoryFilter(host="other"))] == ["6"]
    assert [j.job_id for j in site.history(HistoryFilter(newest_first=True, limit=2))] == [
        "8",
        "6",
    ]
    assert [j.job_id for j in site.history(HistoryFilter(user="*", limit=1))] == ["5"]
    win = HistoryFilter(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2))
    assert [j.job_id for j in site.history(win)] == ["6"]
    assert [j.job_id for j in site.history(HistoryFilter(printer="lp?"))] == ["5", "6", "8"]
    with pytest.raises(InvalidInput):
        list(site.history(HistoryFilter(limit=-1)))


def test_snapshot_holds_what_the_decision_needs(site: SqlStore) -> None:
    site.add_payment(Payment("bob", D("5")))
    snap = site.snapshot("alice", "lp1", "PRJ")
    assert snap.user is not None and snap.user.balance == D("10")
    assert snap.printer is not None and snap.printer.name == "lp1"
    assert [p.name for p in snap.printers] == ["lp1", "floor", "building"]
    assert [g.name for g in snap.groups] == ["staff"]
    assert set(snap.user_quotas) == {"lp1", "floor", "building"}
    assert snap.user_quotas["lp1"].hard_limit == 100
    assert set(snap.group_quotas) == {("staff", "floor")}
    assert snap.group_balances == {"staff": D("15")}
    assert snap.billing_code is not None and snap.billing_code.balance == D("100")
    ghost = site.snapshot("ghost", "nowhere", "NOPE")
    assert (ghost.user, ghost.printer, ghost.billing_code, ghost.printers) == (
        None,
        None,
        None,
        (),
    )


def _balance_rule(snap: AccountSnapshot) -> Decision:
    assert snap.user is not None
    price = D("3")
    if snap.user.balance < price:
        return Decision(Action.DENY, reason="balance too low")
    return Decision(Action.ALLOW, price=price, pages=1)


def test_decide_and_charge_decides_on_the_locked_snapshot(site: SqlStore) -> None:
    results = [site.decide_and_charge(job(100 + i), _balance_rule, T0) for i in range(5)]
    assert [r.job.action for r in results] == [Action.ALLOW] * 3 + [Action.DENY] * 2
    assert site.get_user("alice").balance == D("1")
    assert site.get_user_quota("alice", "building").page_counter == 3
    again = site.decide_and_charge(job(100), _balance_rule, T0)
    assert again.already_charged and again.job.action is Action.ALLOW


def test_unknown_user_and_printer_are_recorded_only(site: SqlStore) -> None:
    deny = Decision(Action.DENY, reason="unknown user")
    res = site.charge(ChargeRequest(job(9, user="ghost", printer="nowhere"), deny, T0))
    assert (res.job.user, res.job.printer, res.balance_after) == ("ghost", "nowhere", None)
    assert len(list(site.history(HistoryFilter(user="ghost")))) == 1


def test_history_survives_deleting_the_user(site: SqlStore) -> None:
    site.charge(ChargeRequest(job(10), allow("1", 1), T0))
    site.delete_user("alice")
    assert [j.user for j in site.history()] == ["alice"]


def test_allowance_applies_once_per_period_with_cap(site: SqlStore) -> None:
    a = site.add_allowance(
        Allowance("alice", credit=D("5"), cap=D("12"), description="monthly credit")
    )
    assert a.id is not None and [x.id for x in site.allowances()] == [a.id]
    assert site.apply_allowance(a, "2026-11", T0) is True
    assert site.get_user("alice").balance == D("12")  # capped: 10 + 2
    assert site.apply_allowance(a, "2026-11", T0) is False
    assert site.get_user("alice").balance == D("12")
    assert site.apply_allowance(a, "2026-12", T0) is True  # a new period is granted
    assert site.get_user("alice").balance == D("12")  # already at the cap: nothing
    free = [p for p in site.payments("alice") if p.kind is PaymentKind.FREE]
    assert [p.amount for p in free] == [D("2")]
    assert free[0].description == "monthly credit (2026-11)"
    site.delete_allowance(a.id)
    assert site.allowances() == []


def test_group_allowance_gives_pages_back_to_each_member(site: SqlStore) -> None:
    site.set_user_quota("bob", "lp1")
    site.reset_user_quota("alice", "lp1", page_counter=30)
    site.reset_user_quota("bob", "lp1", page_counter=4)
    site.reset_user_quota("alice", "floor", page_counter=30)
    a = site.add_allowance(Allowance("staff", is_group=True, pages=10, printer="lp1"))
    assert site.apply_allowance(a, "2026-W48", T0)
    assert site.get_user_quota("alice", "lp1").page_counter == 20
    assert site.get_user_quota("bob", "lp1").page_counter == 0
    assert site.get_user_quota("alice", "floor").page_counter == 30  # other printer kept
    r = site.add_allowance(Allowance("alice", reset_counters=True))
    assert site.apply_allowance(r, "2026-11-24", T0)
    assert {q.page_counter for q in site.user_quotas(users=["alice"])} == {0}


def test_the_backends_time_is_kept_with_the_charge(site: SqlStore, settings: StoreSettings) -> None:
    """/metrics' backend time: a print job's charge keeps its milliseconds (PostgreSQL's
    one-statement charge inserts them too, migration 0012)."""
    sql_only(settings, "backend times are read by the web's /metrics, which needs SQL")
    site.charge(ChargeRequest(job(1), allow("0.35", 3), T0, backend_ms=1234))
    site.charge(ChargeRequest(job(2), allow("0.35", 3), T0))  # not measured: not counted
    refused = Decision(Action.DENY, "hard limit reached", pages=0, code="hard_limit")
    site.charge(ChargeRequest(job(3), refused, T0, backend_ms=40))  # a refusal is kept too
    times = site.backend_times([1000, 2000])
    assert [(t.printer, t.action, t.jobs, t.total_ms, t.at_most) for t in times] == [
        ("lp1", "allow", 1, 1234, (0, 1)),
        ("lp1", "deny", 1, 40, (1, 1)),
    ]
