"""The accounting service on a private socket, in front of a real store."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import LimitBy, PriceTable, Printer, User
from pagetally.service.server import AccountingService
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.sql import SqlStore
from tests.servers import postgresql_server  # noqa: F401
from tests.sqlite_store import migrated_sqlite


@dataclass
class Served:
    store: SqlStore  # the same store, opened directly: what the tests check against
    service: AccountingService
    socket: str
    settings: StoreSettings


def short_dir() -> Path:
    """A private folder with a short path (a Unix socket's path is at most 107 bytes)."""
    return Path(tempfile.mkdtemp(prefix="pts-"))


def populate(store: SqlStore) -> None:
    store.add_printer(Printer("lab", prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("100.00")))
    store.set_user_quota("alice", "lab")


def serve(settings: StoreSettings, **kwargs: object) -> Iterator[Served]:
    run = short_dir()
    store = open_store(settings)
    populate(store)
    served_store = open_store(settings)
    path = str(run / "run" / "pagetally.sock")
    service = AccountingService(served_store, path, describe="test store", **kwargs)  # type: ignore[arg-type]
    service.start()
    try:
        yield Served(store, service, path, settings)
    finally:
        service.stop()
        served_store.close()
        store.close()
        shutil.rmtree(run, ignore_errors=True)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    db = migrated_sqlite(tmp_path / "pagetally.db")
    yield from serve(StoreSettings(backend="sqlite", name=str(db)))
