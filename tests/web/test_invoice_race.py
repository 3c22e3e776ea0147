"""Two first downloads of the same monthly invoice at once keep one number: the
store issues it atomically (`invoice_number_for`), on SQLite, PostgreSQL and MariaDB,
through concurrent requests to the web app and straight at the store."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pagetally.storage import open_store
from pagetally.storage.schema import invoices
from pagetally.storage.sql import SqlStore
from pagetally.web.app import create_app
from tests.servers import mariadb_server, postgresql_server  # noqa: F401
from tests.web.conftest import login
from tests.web.engines import ENGINES, at_once, site_of
from tests.web.site import NOW, SETTINGS

CLIENTS = 8


@pytest.fixture(params=ENGINES)
def any_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from site_of(request, tmp_path)


def _numbers(store: SqlStore) -> list[tuple[int, str, str]]:
    with store._engine.connect() as conn:
        return [
            (r.number, r.kind, r.username)
            for r in conn.execute(select(invoices).order_by(invoices.c.number))
        ]


def test_simultaneous_first_downloads_get_one_number(any_site: SqlStore) -> None:
    app = create_app(SETTINGS, any_site, now=lambda: NOW)
    clients = [login(TestClient(app), "alice") for _ in range(CLIENTS)]
    got = at_once(CLIENTS, lambda i: clients[i].get("/invoices/2026-10.pdf"))
    assert [getattr(r, "status_code", r) for r in got] == [200] * CLIENTS
    assert _numbers(any_site) == [(1, "m2026-10", "alice")]
    texts = {r.content for r in got}  # type: ignore[attr-defined]
    assert len(texts) == 1  # the same document each time: the same number


def test_store_issues_one_number_per_invoice_under_contention(any_site: SqlStore) -> None:
    """Web servers over one store (a store object, its own pool, each), many rounds:
    without the user's row lock PostgreSQL gave 31 of 40 such rounds two numbers."""
    servers = [open_store(any_site.settings) for _ in range(CLIENTS)]
    try:
        for month in range(1, 11):
            kind = f"m2025-{month:02d}"
            got = at_once(
                CLIENTS,
                lambda i: servers[i].invoice_number_for(
                    kind, ("alice", "bob")[i % 2], D("1.00"), NOW
                ),
            )
            assert not [g for g in got if isinstance(g, Exception)], got
            assert len(set(got[0::2])) == 1 and len(set(got[1::2])) == 1, (kind, got)
    finally:
        for server in servers:
            server.close()
    rows = _numbers(any_site)
    assert [n for n, _k, _u in rows] == list(range(1, 21))  # no duplicate, none burnt
    assert {(k, u) for _n, k, u in rows} == {
        (f"m2025-{m:02d}", u) for m in range(1, 11) for u in ("alice", "bob")
    }
