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
