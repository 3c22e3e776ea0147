"""Options and small helpers shared by the nouns."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

import typer

from pagetally.cli.output import Format

__all__ = ["Format", "FormatOption", "amount", "email", "factor", "pages", "payment", "price"]
from pagetally.core.money import check_payable, parse_amount
from pagetally.errors import InvalidInput

FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output: table (people), csv or json.")
]


def amount(text: str, what: str = "amount", *, allow_negative: bool = False) -> Decimal:
    """A money amount typed by a person; InvalidAmount names `what` on error."""
    try:
        return parse_amount(text, allow_negative=allow_negative)
    except InvalidInput as exc:
        raise type(exc)(f"{what}: {exc}") from None


def price(text: str, what: str = "price") -> Decimal:
    """A price or price factor: up to PRICE_PLACES (12) decimal places, finer than
    amounts (PyKota's FLOAT prices); each job's price is rounded to 6 places."""
    from pagetally.core.money import PRICE_PLACES

    try:
        return parse_amount(text, places=PRICE_PLACES)
    except InvalidInput as exc:
        raise type(exc)(f"{what}: {exc}") from None


def factor(text: str) -> Decimal:
    """An overcharge factor: 1 normal, 0 free, negative (PyKota's "creative" use)
    pays the user for printing."""
    return amount(text, "overcharge factor", allow_negative=True)


def email(text: str) -> str:
    if text and not re.fullmatch(r"[^@\s]+@[^@\s]+", text):
        raise InvalidInput(f"e-mail address {text!r} is not of the form name@domain")
    return text


#: The store keeps limits and job sizes in 32-bit columns, page counters in 64-bit.
PAGES_MAX = 2**31 - 1
COUNTER_MAX = 2**63 - 1


def pages(value: int | None, what: str, top: int = PAGES_MAX) -> int | None:
    """A page count typed by a person: 0 to `top` (the column's range)."""
    if value is not None and value < 0:
        raise InvalidInput(f"{what} must be 0 or more, got {value}")
    if value is not None and value > top:
        raise InvalidInput(f"{what} {value} is out of range (at most {top:,})")
    return value


def payment(
    text: str, currency: str, what: str = "amount", *, allow_negative: bool = False
) -> Decimal:
    """An amount paid or granted: also payable in the currency (1.505 EUR refused)."""
    value = amount(text, what, allow_negative=allow_negative)
    try:
        return check_payable(value, currency, text)
    except InvalidInput as exc:
        raise type(exc)(f"{what}: {exc}") from None
