"""A small site for the web tests: users, an admin, a read-only admin, printers,
quotas and charged jobs, over a migrated SQLite store (tests/sqlite_store.py)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from argon2 import PasswordHasher

from pagetally.core.models import (
    Action,
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
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.sql import SqlStore
from pagetally.web.settings import WebSettings
from tests.sqlite_store import migrated_sqlite

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
#: Markup in a user name and a job title: must be escaped everywhere.
EVIL = '<b id="x">e&vil</b>'
EVIL_TITLE = '<script>alert("t")</script><img src=x onerror=alert(1)>'
PASSWORD = "correct horse 42"
SETTINGS = WebSettings(
    admins=frozenset({"root"}),
    readonly_admins=frozenset({"@auditors"}),
    secret="test-secret",
    currency="EUR",
)

# PASSWORD hashed once, with argon2's cheapest parameters: checking the default
# ones costs ~0.5 s a login on a loaded machine (the parameters are in the hash)
_HASH: list[str] = []


def pw_hash() -> str:
    if not _HASH:
        _HASH.append(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(PASSWORD))
    return _HASH[0]


def charge(
    store: SqlStore,
    user: str,
    n: int,
    *,
    pages: int = 3,
    price: str = "0.30",
    title: str = "report.pdf",
    color: int = 0,
    sheets: int | None = None,
    printer: str = "lp1",
    when: datetime | None = None,
    action: Action = Action.ALLOW,
) -> int:
    facts = JobFacts(
        user=user,
        printer=printer,
        pages=pages,
        color_pages=color,
        sheets=sheets,
        title=title,
        job_id=str(n),
        host="ws1",
        job_uuid=f"urn:uuid:{user}-{n}",
    )
    decision = Decision(
        action,
        price=D(price) if action is not Action.DENY else D(0),
        pages=pages if action is not Action.DENY else 0,
        reason="" if action is not Action.DENY else "hard limit reached",
    )
    job = store.charge(ChargeRequest(facts, decision, when or NOW - timedelta(days=n))).job
    assert job.id is not None
    return job.id


_TEMPLATE: list[Path] = []


def build_site(folder: Path) -> SqlStore:
    """The site in `folder`: a copy of one built per test process (~1 s to build
    on a loaded machine, a millisecond to copy)."""
    if not _TEMPLATE:
        made = Path(tempfile.mkdtemp(prefix="pagetally-websit-"))
        atexit.register(shutil.rmtree, made, True)
        _fill(made).close()  # the last connection closed checkpoints the WAL
        _TEMPLATE.append(made / "web.db")
    path = folder / "web.db"
    shutil.copyfile(_TEMPLATE[0], path)
    return open_store(StoreSettings(backend="sqlite", name=str(path)))


def _fill(folder: Path) -> SqlStore:
    store = open_store(
        StoreSettings(backend="sqlite", name=str(migrated_sqlite(folder / "web.db")))
    )
    assert isinstance(store, SqlStore)
    return fill(store)


def fill(store: SqlStore) -> SqlStore:
    """The site's users, printers, quotas, payments and jobs, into a migrated `store`."""
    for name in ("alice", "bob", "root", "audrey", EVIL):
        store.add_user(
            User(name, limit_by=LimitBy.BALANCE, balance=D("10"), email=f"{len(name)}@example.org")
        )
        store.set_web_password_hash(name, pw_hash(), NOW)
    store.add_group(Group("auditors"))
    store.add_members("auditors", ["audrey"])
    store.add_printer(Printer("lp1", prices=PriceTable(per_page=D("0.10"))))
    store.add_printer(
        Printer("color1", prices=PriceTable(per_page=D("0.10"), per_color_page=D("0.50")))
    )
    for name in ("alice", "bob", EVIL):
        store.set_user_quota(name, "lp1", soft_limit=50, hard_limit=100)
    store.set_user_quota("alice", "color1", soft_limit=10, hard_limit=12)
    store.add_payment(Payment("alice", D("5"), PaymentKind.CREDIT, "cash at desk", NOW))
    charge(store, "alice", 1, title="alice-thesis.pdf", pages=4, sheets=2, price="0.40")
    charge(
        store,
        "alice",
        2,
        title="alice-slides.pdf",
        pages=10,
        color=10,
        sheets=10,
        price="5.00",
        printer="color1",
        when=NOW - timedelta(days=40),
    )
    charge(store, "alice", 3, title="alice-denied.pdf", action=Action.DENY)
    charge(store, "bob", 4, title="bob-secret-plan.pdf", pages=2, price="0.20")
    charge(store, EVIL, 5, title=EVIL_TITLE, pages=1, price="0.10")
    return store
