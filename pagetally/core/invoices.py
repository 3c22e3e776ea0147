"""What an invoice says: pure rules, no I/O (rendered by pagetally/notify/documents.py).

A job's price is what was taken from the user's balance, so it already includes
any VAT: the invoice shows the total as charged (VAT included), the VAT part
`total × rate / (100 + rate)` and the total without VAT, rounded to cents so
that the two shown parts add up exactly to the total charged. Refunded jobs
(action REFUND) were given back and are not invoiced; denied ones never cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from pagetally.core.models import ZERO, Action, JobRecord
from pagetally.core.money import quantize

CENT = Decimal("0.01")
_INVOICED = (Action.ALLOW, Action.WARN)


@dataclass(frozen=True)
class Totals:
    """An invoice's sums: `total` is what was charged, VAT included."""

    total: Decimal
    vat: Decimal
    net: Decimal
    rate: Decimal


def vat_split(total: Decimal, rate: Decimal) -> Totals:
    """The VAT part of `total` at `rate` percent, and the rest (net + vat == total)."""
    total = quantize(total)
    if rate <= 0:
        return Totals(total, quantize(ZERO), total, rate)
    with localcontext() as ctx:
        ctx.prec = 60
        vat = (total * rate / (Decimal(100) + rate)).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return Totals(total, quantize(vat), quantize(total - vat), rate)


def invoiced_jobs(jobs: Sequence[JobRecord]) -> list[JobRecord]:
    """The jobs an invoice lists: those charged and not refunded, oldest first."""
    return sorted((j for j in jobs if j.action in _INVOICED), key=lambda j: j.date)


@dataclass(frozen=True)
class Site:
    """Who issues invoices (config: invoicesitename, invoicesiteaddress)."""

    name: str = ""
    address: tuple[str, ...] = ()


@dataclass(frozen=True)
class Invoice:
    """One user's invoice over a period."""

    number: int
    user: str
    user_detail: str  # description or e-mail, when known
    issued: datetime
    start: datetime | None
    end: datetime | None
    jobs: tuple[JobRecord, ...]
    totals: Totals
    unit: str


@dataclass(frozen=True)
class ReceiptLine:
    """One refunded job on a receipt."""

    job: JobRecord
    amount: Decimal
    pages: int


@dataclass(frozen=True)
class RefundReceipt:
    """The receipt kept for a job refunded from the web (storage: refundreceipts)."""

    job_row: int
    number: int
    user: str
    amount: Decimal
    pages: int
    balance_after: Decimal | None
    issued: datetime


@dataclass(frozen=True)
class Receipt:
    """What one user was given back by one `jobs refund` run."""

    number: int
    user: str
    issued: datetime
    lines: tuple[ReceiptLine, ...]
    total: Decimal
    balance_after: Decimal | None
    unit: str
