"""Money: amounts typed by people, and amounts shown to them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pagetally.core.money import MAX_AMOUNT, format_money, parse_amount, quantize
from pagetally.errors import InvalidAmount, InvalidInput


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", "12"),
        ("0.50", "0.50"),
        (" 3.2 ", "3.2"),
        (".5", "0.5"),
        ("7.", "7"),
        ("+4", "4"),
        ("0.123456", "0.123456"),
        ("1.5000000", "1.5"),  # trailing zeros are not precision
        ("-0", "0"),
        ("1000000000", "1000000000"),
    ],
)
def test_parse_amount_accepts(text: str, value: str) -> None:
    assert parse_amount(text) == Decimal(value)


def test_parse_amount_negative_only_when_allowed() -> None:
    with pytest.raises(InvalidAmount, match="negative"):
        parse_amount("-3")
    assert parse_amount("-3.25", allow_negative=True) == Decimal("-3.25")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "required"),
        ("   ", "required"),
        ("abc", "not a number"),
        ("12abc", "not a number"),
        ("1,000.00", "with a dot for the decimals"),
        ("0,50", r"with a dot for the decimals \(0.50\)"),  # a hint, not a guess
        ("٣", "not a number"),  # ARABIC-INDIC DIGIT THREE: ASCII digits only
        ("1.٥", "not a number"),
        ("9" * 32, "too large"),  # was decimal.InvalidOperation (exit 70)
        ("1 000", "not a number"),
        ("1e3", "not a number"),
        ("0x10", "not a number"),
        ("--1", "not a number"),
        ("NaN", "not a finite amount"),
        ("-inf", "not a finite amount"),
        ("Infinity", "not a finite amount"),
        ("0.1234567", "more than 6 decimal places"),
        ("1000000000.01", "too large"),
        ("99999999999999999999", "too large"),
    ],
)
def test_parse_amount_refuses_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(InvalidAmount, match=message) as err:
        parse_amount(text)
    assert isinstance(err.value, InvalidInput)
    assert err.value.exit_code == 2
    if text.strip():
        assert repr(text) in str(err.value)  # names what the person typed


def test_payable_in_the_currency() -> None:
    from pagetally.core.money import check_payable, minor_units

    assert (minor_units("EUR"), minor_units("jpy"), minor_units("KWD")) == (2, 0, 3)
    assert check_payable(Decimal("1.50"), "EUR", "1.50") == Decimal("1.50")
    with pytest.raises(InvalidAmount, match="more decimal places than EUR has \\(2\\)"):
        check_payable(Decimal("1.505"), "EUR", "1.505")
    with pytest.raises(InvalidAmount, match="JPY"):
        check_payable(Decimal("1.5"), "JPY", "1.5")
    assert check_payable(Decimal("1.505"), "KWD", "1.505") == Decimal("1.505")


@given(st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=6))
def test_parse_amount_round_trips(value: Decimal) -> None:
    assert parse_amount(str(value), allow_negative=True) == value
    assert parse_amount(f"{value:f}", allow_negative=True) == value


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("0.3", "EUR", "0.30 EUR"),
        ("0", "EUR", "0.00 EUR"),
        ("12", "USD", "12.00 USD"),
        ("-1.25", "CHF", "-1.25 CHF"),
        ("0.0125", "EUR", "0.0125 EUR"),
        ("0.1234565", "EUR", "0.123456 EUR"),  # half to even at 6 places
        ("-0.0000001", "EUR", "0.00 EUR"),  # no "-0.00"
        ("1E+3", "", "1000.00"),
    ],
)
def test_format_money(amount: str, currency: str, shown: str) -> None:
    assert format_money(Decimal(amount), currency) == shown


def test_quantize_is_bankers_rounding() -> None:
    assert quantize(Decimal("0.0000005")) == Decimal("0.000000")
    assert quantize(Decimal("0.0000015")) == Decimal("0.000002")
