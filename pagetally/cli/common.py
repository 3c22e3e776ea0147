"""Options and small helpers shared by the nouns."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

import typer

from pagetally.cli.output import Format

__all__ = ["Format", "FormatOption", "amount", "email", "factor", "pages"]
from pagetally.core.money import parse_amount
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


def factor(text: str) -> Decimal:
    """An overcharge factor: a number >= 0 (0 prints for free)."""
    return amount(text, "overcharge factor")


def email(text: str) -> str:
    if text and not re.fullmatch(r"[^@\s]+@[^@\s]+", text):
        raise InvalidInput(f"e-mail address {text!r} is not of the form name@domain")
    return text


def pages(value: int | None, what: str) -> int | None:
    if value is not None and value < 0:
        raise InvalidInput(f"{what} must be 0 or more, got {value}")
    return value
