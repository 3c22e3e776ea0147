"""Rows to domain values and back; input checks shared by the SQL store."""

from __future__ import annotations

import json
from datetime import UTC
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Row

from pagetally.core.models import (
    Action,
    Allowance,
    BillingCode,
    Group,
    JobRecord,
    LimitBy,
    Payment,
    PaymentKind,
    Period,
    PriceTable,
    Printer,
    User,
)
from pagetally.errors import InvalidAmount, InvalidInput
from pagetally.storage.types import to_money

NAME_MAX = 255
MONEY_MAX = Decimal("999999999999")  # NUMERIC(18, 6) holds 12 integer digits


def check_name(kind: str, name: str) -> str:
    """A name as the store accepts it: not empty, no control characters, not too long."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{kind} name must not be empty")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"{kind} name {name[:40]!r}... is longer than {NAME_MAX} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidInput(f"{kind} name {name!r} holds control characters")
    return name


def check_price(what: str, value: Decimal) -> Decimal:
    """A price or factor as kept in a printer's price table: up to 12 places, >= 0."""
    from pagetally.core.money import PRICE_QUANTUM

    try:
        dec = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidAmount(f"{what} {value!r} is not a number") from None
    if not dec.is_finite():
        raise InvalidAmount(f"{what} {value!r} is not a finite number")
    if dec.quantize(PRICE_QUANTUM) != dec:
        raise InvalidAmount(f"{what} {value} has more than 12 decimal places")
    if abs(dec) > MONEY_MAX:
        raise InvalidAmount(f"{what} {value} is too large")
    if dec < 0:
        raise InvalidAmount(f"{what} {value} must not be negative")
    return dec


def check_money(what: str, value: Decimal, *, negative_ok: bool = True) -> Decimal:
    """`value` as stored money, or InvalidAmount (not a finite number, too precise, ...)."""
    try:
        dec = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidAmount(f"{what} {value!r} is not a number") from None
    if not dec.is_finite():
        raise InvalidAmount(f"{what} {value!r} is not a finite number")
    if to_money(dec) != dec:
        raise InvalidAmount(f"{what} {value} has more than 6 decimal places")
    if abs(dec) > MONEY_MAX:
        raise InvalidAmount(f"{what} {value} is too large")
    if not negative_ok and dec < 0:
        raise InvalidAmount(f"{what} {value} must not be negative")
    return to_money(dec)


#: Page counters are 64-bit columns; limits and sizes 32-bit (check_count's `top`).
COUNTER_MAX = 2**63 - 1
LIMIT_MAX = 2**31 - 1


def check_count(what: str, value: int | None, top: int = COUNTER_MAX) -> int | None:
    """A page count or limit: None or a whole number from 0 to `top`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{what} must be a whole number >= 0, not {value!r}")
    if value > top:
        raise InvalidInput(f"{what} {value} is out of range (at most {top:,})")
    return value


def user_of(row: Row[Any]) -> User:
    m = row._mapping
    return User(
        name=m["username"],
        id=m["id"],
        limit_by=LimitBy(m["limitby"]),
        balance=m["balance"],
        lifetime_paid=m["lifetimepaid"],
        overcharge=m["overcharge"],
        email=m["email"],
        description=m["description"] or "",
    )


def group_of(row: Row[Any]) -> Group:
    m = row._mapping
    return Group(
        name=m["groupname"],
        id=m["id"],
        limit_by=LimitBy(m["limitby"]),
        description=m["description"] or "",
    )


def prices_json(prices: PriceTable) -> str:
    return json.dumps(prices.to_dict(), sort_keys=True, separators=(",", ":"))


def printer_of(row: Row[Any]) -> Printer:
    m = row._mapping
    data = json.loads(m["prices"] or "{}")
    if data:
        prices = PriceTable.from_dict(data)
    else:
        prices = PriceTable(per_page=m["priceperpage"], per_job=m["priceperjob"])
    return Printer(
        name=m["printername"],
        id=m["id"],
        description=m["description"] or "",
        prices=prices,
        max_job_size=m["maxjobsize"],
        passthrough=bool(m["passthrough"]),
    )


def billing_code_of(row: Row[Any]) -> BillingCode:
    m = row._mapping
    return BillingCode(
        code=m["billingcode"],
        id=m["id"],
        description=m["description"] or "",
        balance=m["balance"],
        page_counter=int(m["pagecounter"]),
    )


def payment_of(row: Row[Any]) -> Payment:
    m = row._mapping
    return Payment(
        user=m["username"],
        amount=m["amount"],
        kind=PaymentKind(m["kind"]),
        description=m["description"] or "",
        date=m["date"],
        id=m["id"],
    )


def allowance_of(row: Row[Any]) -> Allowance:
    m = row._mapping
    return Allowance(
        target=m["target"],
        is_group=bool(m["isgroup"]),
        period=Period(m["period"]),
        credit=m["credit"],
        cap=m["cap"],
        pages=int(m["pages"]),
        reset_counters=bool(m["resetcounters"]),
        printer=m["printer"],
        description=m["description"] or "",
        id=m["id"],
    )


def job_of(row: Row[Any]) -> JobRecord:
    return job_of_values(row._mapping["id"], row._mapping)


def job_of_values(job_id: int | None, m: Any) -> JobRecord:
    """A JobRecord from jobhistory column values (a row, or what was inserted)."""
    return JobRecord(
        id=job_id,
        date=m["jobdate"].astimezone(UTC),
        user=m["username"],
        printer=m["printername"],
        action=Action(m["action"]),
        pages=int(m["jobsize"]),
        color_pages=int(m["colorpages"]),
        sheets=m["sheets"],
        copies=int(m["copies"]),
        price=to_money(m["jobprice"]),
        reason=m["reason"] or "",
        billing_code=m["billingcode"],
        host=m["hostname"] or None,
        title=m["title"] or "",
        filename=m["filename"] or "",
        size_bytes=int(m["jobsizebytes"]),
        sha256=m["sha256"],
        options=m["options"] or "",
        job_id=m["jobid"] or "",
        job_uuid=m["jobuuid"] or "",
        printer_counter=m["pagecounter"],
        precomputed_pages=m["precomputedjobsize"],
        precomputed_price=(
            None if m["precomputedjobprice"] is None else to_money(m["precomputedjobprice"])
        ),
        code=m.get("decisioncode") or "",
    )
