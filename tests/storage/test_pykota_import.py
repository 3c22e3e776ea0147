"""`import-pykota` on each engine: a PyKota store (our DDL from PyKota's schema
facts, generated data: 10,000 jobs, odd floats) imported into PageTally's store on
the same engine; counts and sums equal, rounding reported, a second run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.storage import StoreSettings
from pagetally.storage.engine import make_engine
from pagetally.storage.pykota_import import ImportReport, PyKotaImport
from pagetally.storage.pykota_source import PyKotaSource
from pagetally.storage.sql import SqlStore
from tests.storage.conftest import sql_only
from tests.storage.pykota_fake import Filled, create_schema, fill

_SOURCES: dict[str, tuple[StoreSettings, Filled]] = {}
#: Imports of the 10,000-job store take seconds on every engine, SQLite too: not
#: the fast core's (tests/cli/test_import_pykota.py imports 500 jobs there).
_TEN_THOUSAND = pytest.mark.slow


@pytest.fixture
def pykota(
    settings: StoreSettings,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[StoreSettings, Filled]]:
    """A filled PyKota store on the engine of `settings` (made once per engine)."""
    sql_only(settings, "imports PyKota's SQL stores into a SQL store (LDAP is read as it is)")
    backend = settings.backend
    if backend not in _SOURCES:
        if backend == "sqlite":
            src = StoreSettings(
                backend="sqlite", name=str(tmp_path_factory.mktemp("pykota") / "pykota.db")
            )
        else:
            server = request.getfixturevalue(
                "postgresql_server" if backend == "postgresql" else "mariadb_server"
            )
            made = server.new_database("pk")
            # PyKota's admin role reads and writes its tables
            src = StoreSettings(
                backend=backend,
                name=made.name,
                server=made.server,
                user=made.admin_user,
                password=made.admin_password,
            )
        engine = make_engine(src, readonly=False)
        try:
            create_schema(engine)
            filled = fill(engine)
        finally:
            engine.dispose()
        _SOURCES[backend] = (src, filled)
    yield _SOURCES[backend]


def _import(src: StoreSettings, store: SqlStore) -> ImportReport:
    source = PyKotaSource(src)
    try:
        return PyKotaImport(source, store, tz=UTC).run()
    finally:
        source.close()


@_TEN_THOUSAND
def test_import_equal_counts_and_sums_then_rerun_adds_nothing(
    pykota: tuple[StoreSettings, Filled], store: SqlStore
) -> None:
    src, filled = pykota
    report = _import(src, store)
    assert report.mismatches() == []
    seen = report.pagetally.counts
    assert seen["users"] == filled.users == len(store.find_users())
    assert seen["jobs"] == filled.jobs == 10_000
    assert seen["pages"] == filled.pages
    assert seen["payments"] == filled.payments == len(store.payments())  # the twin kept
    jobs = list(store.history())
    assert len(jobs) == 10_000
    assert sum(j.pages for j in jobs) == filled.pages
    if store.backend != "mysql":  # MySQL's FLOAT is single precision: other values
        assert sum(j.price for j in jobs) == filled.job_prices_kept
        assert report.pagetally.money["job prices"] == filled.job_prices_kept
        user = store.get_user("user001")
        assert user.balance == Decimal("0.3")  # 0.1 + 0.2 in PyKota
        assert any(
            r.where == "user 'user003' balance"  # the largest roundings are listed
            and str(r.original) == "10.0000005"
            for r in report.rounded
        )
        assert report.rounding_total["balance"] < 0
        assert report.rounded_count > 0
    # quotas, counters, grace dates, printer groups and coefficients came across
    quota = store.get_user_quota("user001", "lp1")
    assert quota.soft_limit == 200 and quota.hard_limit == 300
    assert [p.name for p in store.printer_chain("lp1")] == ["lp1", "floor1"]
    assert store.get_printer("lp1").prices.media == {"a3": Decimal(2)}
    assert store.get_group_quota("group1", "lp1").date_limit == datetime(2019, 9, 1, 8, tzinfo=UTC)
    assert store.get_user("Émile").name == "Émile"
    assert store.get_billing_code("proj1").balance == Decimal("0.3")

    again = _import(src, store)
    assert again.mismatches() == []
    assert sum(again.created.values()) == 0
    assert sum(again.updated.values()) == 0
    assert len(list(store.history())) == 10_000
    assert len(store.payments()) == filled.payments


@_TEN_THOUSAND
def test_a_changed_balance_is_set_to_pykotas_on_the_next_run(
    pykota: tuple[StoreSettings, Filled], store: SqlStore
) -> None:
    src, _ = pykota
    _import(src, store)
    store.edit_user("user010", description="changed in PageTally")
    report = _import(src, store)
    assert report.updated["users"] == 1
    assert store.get_user("user010").description == "user 10"


def test_not_a_pykota_store_is_refused(tmp_path: Path, store: SqlStore) -> None:
    sql_only(store.settings, "imports PyKota's SQL stores into a SQL store")
    if store.backend != "sqlite":
        pytest.skip("the check does not depend on the engine")
    empty = tmp_path / "empty.db"
    import sqlite3

    sqlite3.connect(empty).close()
    from pagetally.errors import StorageError

    with pytest.raises(StorageError, match="not a PyKota store: table"):
        PyKotaSource(StoreSettings(backend="sqlite", name=str(empty)))


@_TEN_THOUSAND
def test_a_second_pykota_store_is_refused_not_merged(
    pykota: tuple[StoreSettings, Filled], store: SqlStore, tmp_path: Path
) -> None:
    """Jobs are keyed on PyKota's row id: another store's job 1 is not this one's."""
    if store.backend != "sqlite":
        pytest.skip("the check does not depend on the engine")
    src, _ = pykota
    _import(src, store)
    other = StoreSettings(backend="sqlite", name=str(tmp_path / "other.db"))
    engine = make_engine(other, readonly=False)
    create_schema(engine)
    fill(engine, jobs=5, seed=99)
    engine.dispose()
    from pagetally.errors import StorageError

    before = store.find_users()
    with pytest.raises(StorageError, match="another job as PyKota job 1 "):
        _import(other, store)
    assert len(list(store.history())) == 10_000
    assert store.find_users() == before  # refused before anything was written
