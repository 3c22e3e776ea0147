"""Users, groups, printers, quotas, billing codes and payments, on every engine."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from pagetally.core.models import (
    BillingCode,
    Group,
    LimitBy,
    Payment,
    PaymentKind,
    PriceTable,
    Printer,
    User,
)
from pagetally.errors import (
    AlreadyExists,
    InvalidAmount,
    InvalidInput,
    NotFound,
    PrinterGroupCycle,
)
from pagetally.storage.sql import SqlStore


def test_users_add_get_edit_delete(store: SqlStore) -> None:
    alice = store.add_user(
        User("alice", limit_by=LimitBy.BALANCE, balance=D("12.5"), email="a@example.org")
    )
    assert alice.id is not None
    assert alice.balance == D("12.5")
    assert isinstance(alice.balance, D)
    assert store.get_user("alice").email == "a@example.org"
    with pytest.raises(AlreadyExists, match="user 'alice' already exists"):
        store.add_user(User("alice"))
    edited = store.edit_user(
        "alice", limit_by=LimitBy.NOQUOTA, overcharge=D("0.5"), description="Lab"
    )
    assert (edited.limit_by, edited.overcharge, edited.description) == (
        LimitBy.NOQUOTA,
        D("0.5"),
        "Lab",
    )
    store.delete_user("alice")
    with pytest.raises(NotFound, match="user 'alice' does not exist"):
        store.get_user("alice")
    with pytest.raises(NotFound):
        store.edit_user("alice", description="x")


def test_names_are_case_sensitive_and_checked(store: SqlStore) -> None:
    store.add_user(User("Bob"))
    store.add_user(User("bob"))
    assert [u.name for u in store.find_users(["?ob"])] == ["Bob", "bob"]
    assert store.get_user("bob").name == "bob"
    with pytest.raises(InvalidInput):
        store.add_user(User(""))
    with pytest.raises(InvalidInput):
        store.add_user(User("bad\nname"))


def test_wildcards_follow_fnmatch_even_with_percent_and_underscore(store: SqlStore) -> None:
    for name in ("a_1", "ab1", "a%1", "zed", "a[1", "Ax1"):
        store.add_user(User(name))
    names = lambda pats: [u.name for u in store.find_users(pats)]  # noqa: E731
    assert names(["a_1"]) == ["a_1"]  # '_' is literal, not LIKE's any-char
    assert names(["a%1"]) == ["a%1"]
    assert names(["a?1"]) == ["a%1", "a[1", "a_1", "ab1"]
    assert names(["a[b_]1"]) == ["a_1", "ab1"]
    assert names(["a[!b]1"]) == ["a%1", "a[1", "a_1"]
    assert names(["z*", "A*"]) == ["Ax1", "zed"]
    assert names(["*"]) == sorted(["a_1", "ab1", "a%1", "zed", "a[1", "Ax1"])
    assert names(["nobody*"]) == []


def test_payments_credit_refund_free_debit(store: SqlStore) -> None:
    store.add_user(User("carol"))
    when = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    u = store.add_payment(Payment("carol", D("10.25"), description="cash", date=when))
    assert (u.balance, u.lifetime_paid) == (D("10.25"), D("10.25"))
    u = store.add_payment(Payment("carol", D("2"), kind=PaymentKind.FREE))
    assert (u.balance, u.lifetime_paid) == (D("12.25"), D("10.25"))
    u = store.add_payment(Payment("carol", D("-1.000001"), kind=PaymentKind.DEBIT))
    assert u.balance == D("11.249999")
    u = store.add_payment(Payment("carol", D("-0.25"), kind=PaymentKind.REFUND))
    assert u.balance == D("10.999999")
    pays = store.payments("carol")
    assert [p.kind for p in pays] == [
        PaymentKind.CREDIT,
        PaymentKind.FREE,
        PaymentKind.DEBIT,
        PaymentKind.REFUND,
    ]
    assert pays[0].date == when and pays[0].date.tzinfo is not None
    assert pays[0].description == "cash"
    assert sum(p.amount for p in pays) == D("10.999999")
    with pytest.raises(InvalidAmount, match="6 decimal"):
        store.add_payment(Payment("carol", D("0.0000001")))
    with pytest.raises(InvalidAmount):
        store.add_payment(Payment("carol", D("NaN")))
    with pytest.raises(NotFound):
        store.add_payment(Payment("nobody", D("1")))
    assert store.get_user("carol").balance == D("10.999999")  # nothing changed


def test_groups_members_and_balance(store: SqlStore) -> None:
    for name, bal in (("u1", "1.5"), ("u2", "2.25"), ("u3", "100")):
        store.add_user(User(name, balance=D(bal)))
    g = store.add_group(Group("staff", limit_by=LimitBy.BALANCE))
    assert g.limit_by is LimitBy.BALANCE
    with pytest.raises(AlreadyExists):
        store.add_group(Group("staff"))
    store.add_members("staff", ["u1", "u2", "u2"])
    assert [u.name for u in store.members("staff")] == ["u1", "u2"]
    assert [g.name for g in store.groups_of("u1")] == ["staff"]
    assert store.group_balance("staff") == (D("3.75"), D("0"))
    with pytest.raises(NotFound):
        store.add_members("staff", ["ghost"])
    store.remove_members("staff", ["u1"])
    assert [u.name for u in store.members("staff")] == ["u2"]
    assert store.edit_group("staff", description="d").description == "d"
    assert [g.name for g in store.find_groups(["st*"])] == ["staff"]
    store.delete_group("staff")
    assert store.find_groups() == []
    assert store.groups_of("u2") == []


def test_printers_prices_and_groups(store: SqlStore) -> None:
    table = PriceTable(
        per_page=D("0.05"),
        per_job=D("0.10"),
        per_color_page=D("0.25"),
        per_sheet=D("0.01"),
        media={"a3": D("2")},
    )
    p = store.add_printer(Printer("lp1", prices=table, max_job_size=50, description="hall"))
    assert p.prices == table and p.max_job_size == 50
    with pytest.raises(AlreadyExists):
        store.add_printer(Printer("lp1"))
    with pytest.raises(InvalidAmount):
        store.add_printer(Printer("bad", prices=PriceTable(per_page=D("-1"))))
    store.add_printer(Printer("lp2"))
    store.add_printer(Printer("floor"))
    store.add_printer(Printer("building"))
    store.add_to_printer_group("floor", ["lp1", "lp2"])
    store.add_to_printer_group("building", ["floor"])
    assert [x.name for x in store.printer_chain("lp1")] == ["lp1", "floor", "building"]
    assert [x.name for x in store.printer_group_members("floor")] == ["lp1", "lp2"]
    with pytest.raises(PrinterGroupCycle):
        store.add_to_printer_group("lp1", ["building"])
    with pytest.raises(PrinterGroupCycle):
        store.add_to_printer_group("floor", ["floor"])
    e = store.edit_printer("lp1", clear_max_job_size=True, passthrough=True)
    assert e.max_job_size is None and e.passthrough
    e = store.edit_printer("lp1", prices=PriceTable(per_page=D("1")), max_job_size=3)
    assert e.prices.per_page == D("1") and e.max_job_size == 3
    store.remove_from_printer_group("floor", ["lp1"])
    assert [x.name for x in store.printer_chain("lp1")] == ["lp1"]
    store.delete_printer("floor")
    assert [x.name for x in store.printer_chain("lp2")] == ["lp2"]
    assert [x.name for x in store.find_printers(["lp*"])] == ["lp1", "lp2"]
    with pytest.raises(NotFound):
        store.printer_chain("ghost")


def test_quotas_set_reset_delete(store: SqlStore) -> None:
    store.add_user(User("dan"))
    store.add_user(User("eve"))
    store.add_printer(Printer("lp1"))
    store.add_group(Group("g"))
    store.add_members("g", ["dan", "eve"])
    q = store.set_user_quota("dan", "lp1", soft_limit=10, hard_limit=20, max_job_size=5)
    assert (q.page_counter, q.soft_limit, q.hard_limit, q.max_job_size) == (0, 10, 20, 5)
    store.reset_user_quota("dan", "lp1", page_counter=7, lifetime=True)
    q = store.set_user_quota("dan", "lp1", soft_limit=11)  # limits replaced, counters kept
    assert (q.page_counter, q.life_page_counter, q.soft_limit, q.hard_limit) == (7, 7, 11, None)
    store.set_user_quota("eve", "lp1")
    store.reset_user_quota("eve", "lp1", page_counter=3)
    gq = store.set_group_quota("g", "lp1", soft_limit=100, hard_limit=200)
    assert (gq.page_counter, gq.life_page_counter, gq.hard_limit) == (10, 7, 200)
    assert store.get_group_quota("g", "lp1").page_counter == 10
    assert [(x.user, x.page_counter) for x in store.user_quotas(users=["*"])] == [
        ("dan", 7),
        ("eve", 3),
    ]
    assert [x.group for x in store.group_quotas(groups=["g*"])] == ["g"]
    r = store.reset_user_quota("dan", "lp1")
    assert (r.page_counter, r.life_page_counter, r.date_limit) == (0, 7, None)
    with pytest.raises(InvalidInput):
        store.set_user_quota("dan", "lp1", hard_limit=-1)
    store.add_user(User("fay"))
    with pytest.raises(NotFound, match="quota entry 'fay on lp1'"):
        store.get_user_quota("fay", "lp1")
    with pytest.raises(NotFound, match="printer 'ghost'"):
        store.get_user_quota("fay", "ghost")
    store.delete_user_quota("dan", "lp1")
    with pytest.raises(NotFound):
        store.get_user_quota("dan", "lp1")
    store.delete_group_quota("g", "lp1")
    assert store.group_quotas() == []
    store.delete_user("eve")  # quota entries go with the user
    assert store.user_quotas() == []


def test_billing_codes(store: SqlStore) -> None:
    c = store.add_billing_code(BillingCode("PRJ-1", description="project", balance=D("50")))
    assert (c.code, c.balance, c.page_counter) == ("PRJ-1", D("50"), 0)
    with pytest.raises(AlreadyExists):
        store.add_billing_code(BillingCode("PRJ-1"))
    assert store.edit_billing_code("PRJ-1", balance=D("40.5")).balance == D("40.5")
    store.add_billing_code(BillingCode("OTHER"))
    assert [x.code for x in store.find_billing_codes(["PRJ*"])] == ["PRJ-1"]
    store.delete_billing_code("PRJ-1")
    with pytest.raises(NotFound):
        store.get_billing_code("PRJ-1")


def test_a_starting_balance_is_a_payment_when_asked(store: SqlStore) -> None:
    """sync and autopykota create users with a starting balance and its payment
    ("opening") in one unit of work, so a user's payments add up to the balance."""
    store.add_user(User("ann", balance=D("2.50"), lifetime_paid=D("2.50")), opening="initial x")
    store.add_users(
        [User(n, balance=D("1.25"), lifetime_paid=D("1.25")) for n in ("bob", "cy")]
        + [User("dee")],
        opening="initial y",
    )
    store.add_user(User("eve", balance=D("3")))  # not asked: `users add` pays it itself
    paid = sorted((p.user, p.amount, p.kind, p.description) for p in store.payments())
    assert paid == [
        ("ann", D("2.50"), PaymentKind.CREDIT, "initial x"),
        ("bob", D("1.25"), PaymentKind.CREDIT, "initial y"),
        ("cy", D("1.25"), PaymentKind.CREDIT, "initial y"),
    ]  # dee: nothing to pay
    for name in ("ann", "bob", "cy", "dee"):
        assert sum((p.amount for p in store.payments(name)), D(0)) == store.get_user(name).balance
