"""The store's per-job work, made cheaper: the same answers from fewer queries.

A printed job costs the store one snapshot and one charge. These tests pin what
those return (against the general lookups they short-cut) and how many SQL
statements they send, on SQLite, PostgreSQL and MariaDB, so that a change which
brings a query back fails here.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, text

from pagetally.core.models import (
    Action,
    ChargeRequest,
    Decision,
    Group,
    JobFacts,
    LimitBy,
    PriceTable,
    Printer,
    User,
)
from pagetally.storage import StoreSettings, accounting, engine, lookups, open_store
from pagetally.storage.sql import SqlStore
from tests.servers import ServerInfo, mariadb_server, postgresql_server  # noqa: F401
from tests.sqlite_store import migrated_sqlite

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", marks=[pytest.mark.slow, pytest.mark.postgresql], id="postgresql"),
    pytest.param("mysql", marks=[pytest.mark.slow, pytest.mark.mariadb], id="mariadb"),
]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        settings = StoreSettings(backend="sqlite", name=str(migrated_sqlite(tmp_path / "pt.db")))
    else:
        server: ServerInfo = request.getfixturevalue(
            "postgresql_server" if request.param == "postgresql" else "mariadb_server"
        )
        settings = server.new_database()
    s = open_store(settings)
    assert isinstance(s, SqlStore)
    s.upgrade()
    s.add_printer(Printer("solo", prices=PriceTable(per_page=Decimal("0.10"))))
    s.add_printer(Printer("lp1", prices=PriceTable(per_page=Decimal("0.05"))))
    s.add_printer(Printer("floor", prices=PriceTable(per_job=Decimal("0.01"))))
    s.add_printer(Printer("building"))
    s.add_to_printer_group("floor", ["lp1"])
    s.add_to_printer_group("building", ["floor"])
    s.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("10.00")))
    s.add_user(User("bob", limit_by=LimitBy.BALANCE, balance=Decimal("5.00")))
    s.add_group(Group("staff"))
    s.add_members("staff", ["bob"])
    for printer in ("solo", "lp1", "floor", "building"):
        s.set_user_quota("alice", printer)
    s.set_group_quota("staff", "floor", hard_limit=100)
    try:
        yield s
    finally:
        s.close()


def statements(s: SqlStore) -> collections.Counter[str]:
    """Every SQL statement the store sends from now on, by its first word."""
    seen: collections.Counter[str] = collections.Counter()

    @event.listens_for(s._engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        word = statement.split()[0].upper()
        if word not in ("BEGIN", "PRAGMA"):
            seen[word] += 1

    return seen


def charge(s: SqlStore, user: str, printer: str, job: str, pages: int = 3) -> Any:
    facts = JobFacts(
        user=user, printer=printer, pages=pages, job_id=job, job_uuid=f"urn:uuid:{job}"
    )
    snap = s.snapshot(user, printer)
    price = sum((p.prices.per_page * pages + p.prices.per_job for p in snap.printers), Decimal(0))
    decision = Decision(Action.ALLOW, "ok", pages=pages, price=price)
    return s.charge(ChargeRequest(facts=facts, decision=decision, date=datetime.now(UTC)))


def test_printer_chain_is_what_lookups_chain_says(store: SqlStore) -> None:
    for printer in ("solo", "lp1", "floor", "building", "nowhere"):
        with store._engine.connect() as conn:
            fast = accounting.printer_chain(conn, printer)
            general = lookups.chain(conn, printer)
        assert fast == general, printer
    with store._engine.connect() as conn:
        assert [p.name for p in accounting.printer_chain(conn, "lp1")] == [
            "lp1",
            "floor",
            "building",
        ]
        assert accounting.printer_chain(conn, "nowhere") == []


def test_a_job_on_an_ungrouped_printer_costs_few_statements(store: SqlStore) -> None:
    charge(store, "alice", "solo", "warm-up")
    seen = statements(store)
    snap = store.snapshot("alice", "solo")
    # PostgreSQL: one call of pagetally_snapshot (storage/pg_charge.py); elsewhere
    # user, printer (+ in a group?), groups, quotas
    pg = store.backend == "postgresql"
    assert sum(seen.values()) == (1 if pg else 4)
    seen.clear()
    res = charge(store, "alice", "solo", "j1")  # its snapshot is 4 more (PostgreSQL: 1)
    # snapshot 4; charge: pay (which locks the user's row and returns the balance),
    # printer, count, record; MariaDB cannot return from an UPDATE: lock the user's
    # row, printer, pay, read the balance, count, record; PostgreSQL: snapshot 1 (and
    # pagetally_charge, one autocommit statement sent on the driver's connection,
    # storage/pg_charge._alone, which SQLAlchemy's events do not see)
    expected = 1 if pg else 4 + (4 if store._engine.dialect.update_returning else 6)
    assert sum(seen.values()) == expected, dict(seen)
    assert res.balance_after == Decimal("9.40") == store.get_user("alice").balance
    assert snap.user is not None and snap.user.balance == Decimal("9.70")


def test_charged_twice_is_charged_once_without_a_lookup_first(store: SqlStore) -> None:
    """The second charge pays before its history row is refused: all of it is rolled
    back (reads skip the transaction on PostgreSQL: writes must not)."""
    first = charge(store, "alice", "lp1", "7")
    again = charge(store, "alice", "lp1", "7")
    assert not first.already_charged and again.already_charged
    assert again.job.id == first.job.id
    # 3 pages at 0.05 on lp1, and 0.01 a job on the group floor above it
    assert again.balance_after == first.balance_after == Decimal("9.84")
    assert store.get_user("alice").balance == Decimal("9.84")
    assert store.get_user_quota("alice", "lp1").page_counter == 3
    assert store.get_user_quota("alice", "building").page_counter == 3
    assert [j.job_id for j in store.history()] == ["7"]


def test_group_counted_member_gets_the_entry_the_group_needs(store: SqlStore) -> None:
    """bob has no entry of his own on floor, his group has: the charge creates his
    (the short cut for 'every printer has the user's entry' must not skip it)."""
    res = charge(store, "bob", "floor", "g1", pages=2)
    assert res.balance_after == Decimal("4.99")
    assert store.get_user_quota("bob", "floor").page_counter == 2
    assert store.get_group_quota("staff", "floor").page_counter == 2


@pytest.mark.slow
@pytest.mark.postgresql
def test_a_pooled_connection_killed_while_idle_is_replaced(
    postgresql_server: ServerInfo,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No ping before every use any more: an idle connection that the server ended
    is found dead at checkout and replaced, and the job's snapshot works."""
    monkeypatch.setattr(engine, "PING_IDLE_S", 0.2)
    settings = postgresql_server.new_database()
    s = open_store(settings)
    s.upgrade()
    s.add_printer(Printer("solo"))
    try:
        assert s.snapshot("alice", "solo").printer is not None
        with s._engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        admin = open_store(
            StoreSettings(
                backend="postgresql",
                name=settings.name,
                server=settings.server,
                admin_user=postgresql_server.superuser,
                admin_password=postgresql_server.superpassword,
            )
        )
        with admin._engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        admin.close()
        time.sleep(0.3)
        snap = s.snapshot("alice", "solo")
        assert snap.printer is not None and snap.printer.name == "solo"
        with s._engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        s.close()
