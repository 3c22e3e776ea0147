"""Request bodies and shared parameters of the API, checked before any route runs
(FastAPI answers 422 naming the field), and the small conversions routes share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from pagetally.core.models import LimitBy, PaymentKind
from pagetally.core.money import check_payable, parse_amount
from pagetally.errors import InvalidInput
from pagetally.storage.webqueries import PAGE_MAX, JobSort

Name = Annotated[str, Field(min_length=1, max_length=255)]
Text = Annotated[str, Field(max_length=255)]
Amount = Annotated[str, Field(min_length=1, max_length=40, examples=["2.50"])]
Limit = Annotated[int | None, Field(ge=0, le=2**31 - 1)]

Since = Annotated[
    datetime | None, Query(description="From (inclusive), ISO 8601; UTC when no offset is given.")
]
Until = Annotated[datetime | None, Query(description="Until (exclusive), ISO 8601.")]
PageLimit = Annotated[int, Query(ge=1, le=PAGE_MAX, description="Jobs per page.")]
After = Annotated[
    str | None, Query(max_length=200, description="The `next` cursor of the previous page.")
]
Sort = Annotated[JobSort, Query(description="Order by date, price or pages (then by id).")]
Descending = Annotated[bool, Query(description="Newest (largest) first.")]


def aware(when: datetime | None) -> datetime | None:
    """A datetime from a request as UTC (no offset given: UTC)."""
    if when is None:
        return None
    try:
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(f"date {when.isoformat()} is out of range") from None


def period(
    since: datetime | None, until: datetime | None, now: datetime, days: int = 30
) -> tuple[datetime, datetime]:
    """A dashboard's [since, until): by default the last `days` days."""
    end = aware(until) or now
    start = aware(since) or (end - timedelta(days=days))
    return start, end


def money(text: str, currency: str, what: str, *, allow_negative: bool = False) -> Decimal:
    """An amount from a request, payable in `currency` (InvalidAmount otherwise)."""
    try:
        value = parse_amount(text, allow_negative=allow_negative)
        return check_payable(value, currency, text)
    except InvalidInput as exc:
        raise type(exc)(f"{what}: {exc}") from None


def price(text: str, what: str) -> Decimal:
    """A price (per page, per job): may be finer than the currency, never negative."""
    try:
        return parse_amount(text)
    except InvalidInput as exc:
        raise type(exc)(f"{what}: {exc}") from None


class NewUser(BaseModel):
    name: Name
    limit_by: LimitBy = LimitBy.QUOTA
    email: Text | None = None
    description: Text = ""


class UserChange(BaseModel):
    limit_by: LimitBy | None = None
    email: Text | None = None
    description: Text | None = None
    overcharge: Amount | None = None


class NewGroup(BaseModel):
    name: Name
    limit_by: LimitBy = LimitBy.QUOTA
    description: Text = ""


class Members(BaseModel):
    names: list[Name] = Field(min_length=1, max_length=1000)


class NewPrinter(BaseModel):
    name: Name
    description: Text = ""
    price_per_page: Amount = "0"
    price_per_job: Amount = "0"
    max_job_size: Limit = None


class PrinterChange(BaseModel):
    description: Text | None = None
    price_per_page: Amount | None = None
    price_per_job: Amount | None = None
    max_job_size: Limit = None
    passthrough: bool | None = None


class QuotaLimits(BaseModel):
    soft_limit: Limit = None
    hard_limit: Limit = None
    max_job_size: Limit = None


class QuotaReset(BaseModel):
    page_counter: Annotated[int, Field(ge=0, le=2**62)] = 0
    lifetime: bool = False


class NewBillingCode(BaseModel):
    code: Name
    description: Text = ""


class BillingCodeChange(BaseModel):
    description: Text | None = None
    balance: Amount | None = None


class NewPayment(BaseModel):
    user: Name
    amount: Amount
    kind: PaymentKind = PaymentKind.CREDIT
    note: Text = ""


class Credit(BaseModel):
    amount: Amount
    note: Text = ""


class RefundDecision(BaseModel):
    note: Text = ""


class RefundAsk(BaseModel):
    fraction: Annotated[str, Field(max_length=20)] = "1"
    pages: bool = False
    note: Text = ""
