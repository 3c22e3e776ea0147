"""The PostgreSQL charge path (storage/pg_charge.py) when its connection dies:
the pipelined calls bypass SQLAlchemy's execute, so their driver errors must
still come out as PageTally's (StoreUnavailable: the backend journals the charge),
never as a psycopg traceback, and the dead connection must leave the pool."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import URL, create_engine, text

from pagetally.core.models import Action, JobFacts, LimitBy, Payment, PriceTable, Printer, User
from pagetally.errors import StoreUnavailable
from pagetally.storage import StoreSettings
from pagetally.storage.sql import SqlStore
from tests.servers import ServerInfo
from tests.storage.workers import PRICE, balance_rule

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]


def _kill_sessions(server: ServerInfo, settings: StoreSettings) -> int:
    url = URL.create(
        "postgresql+psycopg",
        server.superuser,
        server.superpassword,
        "127.0.0.1",
        server.port,
        "postgres",
    )
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :db AND usename = :who"
                    ),
                    {"db": settings.name, "who": settings.admin_user},
                ).all()
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_connection_lost_mid_charge_is_store_unavailable(
    store: SqlStore, settings: StoreSettings, postgresql_server: ServerInfo
) -> None:
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("10")))
    store.add_printer(Printer("lp1", prices=PriceTable(per_page=Decimal("0.25"))))

    def job(n: int) -> JobFacts:
        return JobFacts(
            user="alice",
            printer="lp1",
            pages=2,
            job_id=str(n),
            job_uuid=f"urn:uuid:{n}",
            host="ws1",
        )

    store.decide_and_charge(job(1), balance_rule, datetime.now(UTC))
    assert _kill_sessions(postgresql_server, settings) >= 1
    with pytest.raises(StoreUnavailable, match="PostgreSQL"):
        store.decide_and_charge(job(2), balance_rule, datetime.now(UTC))
    # the dead connection left the pool: the next charge works, nothing doubled
    assert not store.decide_and_charge(job(2), balance_rule, datetime.now(UTC)).already_charged
    assert store.get_user("alice").balance == Decimal("10") - 2 * PRICE


@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_one_trip_decides_on_the_state_it_charges(store: SqlStore, settings: StoreSettings) -> None:
    """The one-trip path decides on the account state its last charge left; when
    another print server changed the account since (here: charged it down to
    nothing), the server refuses that stale decision and the rule decides again
    on the state it meets: the job is refused, nothing goes below zero."""
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("1.50")))
    store.add_printer(Printer("lp1", prices=PriceTable(per_page=Decimal("0.25"))))
    other = SqlStore(settings)

    def job(n: int) -> JobFacts:
        return JobFacts(
            user="alice",
            printer="lp1",
            pages=2,
            job_id=str(n),
            job_uuid=f"urn:uuid:{n}",
            host="ws1",
        )

    try:
        now = datetime.now(UTC)
        assert store.decide_and_charge(job(1), balance_rule, now).balance_after == Decimal("1.00")
        assert other.decide_and_charge(job(2), balance_rule, now).balance_after == Decimal("0.50")
        assert other.decide_and_charge(job(3), balance_rule, now).balance_after == Decimal("0")
        # `store` last saw 1.00 and would allow; the state it meets is 0: refused
        late = store.decide_and_charge(job(4), balance_rule, now)
        assert late.job.action is Action.DENY and late.balance_after == Decimal("0")
        assert other.decide_and_charge(job(2), balance_rule, now).already_charged
        store.add_payment(Payment("alice", Decimal("0.50"), date=now))
        assert store.decide_and_charge(job(5), balance_rule, now).balance_after == Decimal("0")
    finally:
        other.close()
    assert store.get_user("alice").balance == Decimal("0")
    assert [j.action for j in store.history()].count(Action.ALLOW) == 4
