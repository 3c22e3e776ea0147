"""The quota report's entries (storage/reports.py) come in Python's order of
names (code points) on every engine: SQLite's BINARY collation, PostgreSQL's
"C", MariaDB's binary strings; a database's own collation would put "B" beside
"b" or "é" beside "e", and `pagetally report` would no longer print what it
printed."""

from __future__ import annotations

from decimal import Decimal as D

from pagetally.core.models import Printer, User
from pagetally.storage import StoreSettings
from pagetally.storage.reports import quota_report
from pagetally.storage.sql import SqlStore
from tests.storage.conftest import sql_only

NAMES = ["b", "B", "a", "ab", "aB", "a-b", "a_b", "a.b", "é", "e", "z", "Zoë", "€uro", "日本", "𝄞x"]


def test_entries_in_code_point_order(store: SqlStore, settings: StoreSettings) -> None:
    sql_only(settings, "the order is SQL's (LDAP's report sorts in Python; PyKota's schema "
             "takes ASCII names only)")  # fmt: skip
    for p in ("lp2", "LP1", "lp1"):
        store.add_printer(Printer(p))
    for i, name in enumerate(NAMES):
        balance = (D(-1) if i % 2 else D(1)) * D(i * 1234567).scaleb(-6)
        store.add_user(User(name, balance=balance, lifetime_paid=D(i).scaleb(-1)))
        for j, p in enumerate(("lp2", "LP1", "lp1")):
            if (i + j) % 3:
                store.set_user_quota(name, p, soft_limit=i, hard_limit=None)
    report = quota_report(store)
    keys = [(e[0], e[1]) for e in report.entries]
    assert keys == sorted(keys)
    assert len(keys) == sum(1 for i in range(len(NAMES)) for j in range(3) if (i + j) % 3)
    assert [e[4] for e in report.entries if e[1] == "Zoë"] == [NAMES.index("Zoë")] * 2
    for name in NAMES:  # money as the store's own reads give it (Money type)
        user, account = store.get_user(name), report.accounts[name]
        assert (str(account.balance), str(account.lifetime_paid), str(account.overcharge)) == (
            str(user.balance), str(user.lifetime_paid), str(user.overcharge))  # fmt: skip
    some = quota_report(store, ["lp*"], ["a*", "é"])
    assert [(e[0], e[1]) for e in some.entries] == [
        k for k in keys if k[0].startswith("lp") and (k[1].startswith("a") or k[1] == "é")
    ]


def test_first_user_quotas_are_the_listings_first(store: SqlStore, settings: StoreSettings) -> None:
    """The admin's quota page reads its first entries and a count: the same as
    the whole listing cut, for every kind of pattern (LIKE's case rules differ
    by engine: fnmatch decides)."""
    sql_only(settings, "the admin's quota page on LDAP reads the whole listing")
    for p in ("lp2", "LP1", "lp1"):
        store.add_printer(Printer(p))
    for i, name in enumerate(NAMES):
        store.add_user(User(name))
        for j, p in enumerate(("lp2", "LP1", "lp1")):
            if (i + j) % 3:
                store.set_user_quota(name, p, soft_limit=i)
    for pat in (["*"], ["a"], ["*a*"], ["*A*"], ["[ab]*"], ["*b", "é"], ["nobody"], ["a?b"]):
        every = store.user_quotas(users=pat)
        for limit in (0, 1, 3, 100):
            first, total = store.first_user_quotas(pat, limit)
            assert (first, total) == (every[:limit], len(every)), (pat, limit)
