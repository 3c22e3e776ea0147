"""Money: parsing amounts people type, and showing amounts. Decimal, never float.

Amounts keep at most 6 decimal places (prices per page of a thousandth of a cent
exist; more is a typo). `MAX_AMOUNT` bounds what a person may type: larger is a
mistake, not a payment, and it keeps every sum well inside Decimal's precision.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext

from pagetally.errors import InvalidAmount

PLACES = 6
QUANTUM = Decimal(1).scaleb(-PLACES)  # 0.000001
#: Prices and factors may be finer than amounts: PyKota kept them as FLOATs
#: (0.0000125 per page was possible); a job's price is rounded to PLACES.
PRICE_PLACES = 12
PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_PLACES)
MAX_AMOUNT = Decimal("1000000000")  # one thousand million, in any currency

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")  # ASCII digits only

#: ISO 4217 currencies whose minor unit is not 2 decimal places (the others: 2).
MINOR_UNITS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def minor_units(currency: str) -> int:
    """Decimal places of `currency`'s smallest coin (EUR 2, JPY 0, KWD 3)."""
    return MINOR_UNITS.get(currency.upper(), 2)


def check_payable(value: Decimal, currency: str, raw: str) -> Decimal:
    """A payment or balance must be payable in `currency`: 1.505 EUR is refused
    (prices per page may be finer; what a person pays or is paid may not)."""
    places = minor_units(currency) if currency else 2
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise InvalidAmount(
            f"{raw!r} has more decimal places than {currency or 'the currency'} has ({places})"
        )
    return value


_SPECIAL = re.compile(r"[+-]?(?:nan|snan|inf|infinity)", re.IGNORECASE)


def quantize(amount: Decimal) -> Decimal:
    """Round to 6 decimal places, half to even (banker's rounding)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return amount.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def parse_amount(text: str, *, allow_negative: bool = False, places: int = PLACES) -> Decimal:
    """Read an amount typed by a person: "12", "0.50", "-3.2".

    ASCII digits only ("٣" is refused, not read as 3). A comma is refused with a
    hint ("0,50": write 0.50): it is a decimal point in some countries and digit
    grouping in others, and a payment must not depend on the guess. Raises
    InvalidAmount, naming the text, for: empty or non-numeric text, NaN or
    infinity, a negative amount unless `allow_negative`, more than 6 decimal
    places (`places`: PRICE_PLACES for prices; trailing zeros do not count) and
    amounts above MAX_AMOUNT.
    """
    raw = text
    text = text.strip()
    if not text:
        raise InvalidAmount("an amount is required, got an empty text")
    if "," in text:
        hint = text.replace(",", ".") if text.count(",") == 1 and "." not in text else None
        raise InvalidAmount(
            f"{raw!r}: write amounts with a dot for the decimals"
            + (f" ({hint})" if hint else "")
            + " and no digit grouping"
        )
    if _SPECIAL.fullmatch(text):
        raise InvalidAmount(f"{raw!r} is not a finite amount")
    if not _NUMBER.fullmatch(text):
        raise InvalidAmount(f"{raw!r} is not a number (write e.g. 12 or 0.50)")
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid text
        raise InvalidAmount(f"{raw!r} is not a number") from None
    if value < 0 and not allow_negative:
        raise InvalidAmount(f"{raw!r} is negative; a positive amount is required")
    if abs(value) > MAX_AMOUNT:  # before quantize: 32 digits are beyond its precision
        raise InvalidAmount(f"{raw!r} is too large (at most {MAX_AMOUNT:,})")
    if value != value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):
        raise InvalidAmount(f"{raw!r} has more than {places} decimal places")
    return value + 0  # normalises -0 to 0


def format_money(amount: Decimal, currency: str = "", places: int = PLACES) -> str:
    """Show an amount for a person: "0.30 EUR", "-1.25 EUR", "0.0125 EUR".

    At least 2 decimal places, more only when the amount has them (up to
    `places`, rounded half to even: 6 for amounts, PRICE_PLACES where a price
    may be shown). `currency` is the ISO code; empty shows the number only.
    """
    with localcontext() as ctx:
        ctx.prec = 60
        value = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    text = f"{value:f}"
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(2, "0")
        text = f"{whole}.{frac}"
    else:
        text += ".00"
    if text.startswith("-") and Decimal(text) == 0:
        text = text[1:]
    return f"{text} {currency}" if currency else text
