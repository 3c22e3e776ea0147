"""Prices finer than amounts: PyKota kept prices as FLOATs, so a price per page
of 0.0000125 was possible; PageTally keeps prices to 12 places (exactly, in the
printer's price table) and rounds each job's price to 6 (half to even)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pagetally.core.money import PRICE_PLACES, parse_amount
from pagetally.errors import InvalidAmount
from tests.cli.conftest import Cli


def test_prices_take_twelve_places_amounts_six() -> None:
    assert parse_amount("0.0000125", places=PRICE_PLACES) == Decimal("0.0000125")
    with pytest.raises(InvalidAmount, match="more than 6 decimal places"):
        parse_amount("0.0000125")
    with pytest.raises(InvalidAmount, match="more than 12 decimal places"):
        parse_amount("0.0000000000001", places=PRICE_PLACES)


def test_a_fine_price_is_kept_and_each_job_rounded_to_six_places(cli: Cli) -> None:
    cli("printers", "add", "lp", "--price-per-page", "0.0000125", "--price-per-job", "0.0000001")
    [lp] = cli.json("printers", "list")
    assert (lp["price_per_page"], lp["price_per_job"]) == ("0.0000125", "0.0000001")
    cli("users", "add", "ann", "--limit-by", "balance", "--balance", "1")
    cli("quotas", "set", "ann", "-P", "lp")
    cli("jobs", "add", "-u", "ann", "-P", "lp", "-p", "1000")  # 0.0125001 → 0.012500
    cli("jobs", "add", "-u", "ann", "-P", "lp", "-p", "3")  # 0.0000376 → 0.000038
    prices = [Decimal(j["price"]) for j in cli.json("history")]
    assert prices == [Decimal("0.0125"), Decimal("0.000038")]
    with cli.store() as store:
        assert store.get_user("ann").balance == Decimal("0.987462")
        # PyKota's priceperpage column keeps the store's 6 places (dumpykota's shape)
    assert (
        "more than 12 decimal places"
        in cli("printers", "edit", "lp", "--price-per-page", "0.0000000000001", code=2).stderr
    )
