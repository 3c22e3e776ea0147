"""Invoice numbers from the store: never twice, also when admins issue at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.errors import InvalidInput
from pagetally.storage import open_store
from pagetally.storage.base import StoreSettings
from tests.cli.conftest import NOW
from tests.cli.test_jobs_report_history import job
from tests.cli.test_servers import admin_and_reader
from tests.servers import ServerInfo, mariadb_server, postgresql_server  # noqa: F401
from tests.tools.test_invoice import pdf_text


def test_concurrent_issuers_never_share_a_number(tmp_path: Path) -> None:
    settings = StoreSettings(backend="sqlite", name=str(tmp_path / "pt.db"))
    open_store(settings).close()  # created and migrated once

    def issue(worker: int) -> list[int]:
        got: list[int] = []
        with open_store(settings) as store:
            for _ in range(5):
                got += store.issue_numbers("invoice", [(f"u{worker}", Decimal("1"))] * 2, NOW)
        return got

    with ThreadPoolExecutor(4) as pool:
        numbers = [n for batch in pool.map(issue, range(4)) for n in batch]
    assert sorted(numbers) == list(range(1, 41))
    with open_store(settings) as store:
        assert store.last_invoice_number() == 40
        with pytest.raises(InvalidInput, match="invoice number 40 is not free"):
            store.issue_numbers("invoice", [("x", Decimal(1))], NOW, first=40)
        assert store.issue_numbers("receipt", [("x", Decimal(1))], NOW, first=41) == [41]


def invoices_on(server: ServerInfo, tmp_path: Path) -> None:
    """On a server: the admin invoices, concurrent issuers never share a number, and
    the read-only role cannot take one."""
    s, admin, reader = admin_and_reader(server, tmp_path)
    job(admin, "-u", "bob", "-P", "lp1", "-p", "5")
    admin("invoice", "-o", str(tmp_path / "a.pdf"))
    assert "Invoice #1" in pdf_text(tmp_path / "a.pdf")[0]
    r = reader("invoice", "-o", str(tmp_path / "b.pdf"), code=7)
    assert "read-only credentials" in r.stderr

    def issue(worker: int) -> list[int]:
        with open_store(s) as store:
            return [
                n
                for _ in range(5)
                for n in store.issue_numbers("invoice", [(f"u{worker}", Decimal(1))] * 2, NOW)
            ]

    with ThreadPoolExecutor(4) as pool:
        numbers = [n for batch in pool.map(issue, range(4)) for n in batch]
    assert sorted(numbers) == list(range(2, 42))


@pytest.mark.slow
@pytest.mark.postgresql
def test_invoices_on_postgresql(postgresql_server: ServerInfo, tmp_path: Path) -> None:  # noqa: F811
    invoices_on(postgresql_server, tmp_path)


@pytest.mark.slow
@pytest.mark.mariadb
def test_invoices_on_mariadb(mariadb_server: ServerInfo, tmp_path: Path) -> None:  # noqa: F811
    invoices_on(mariadb_server, tmp_path)
