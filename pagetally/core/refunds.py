"""Refunds (PyKota's pkrefund): what giving a charged job back returns, as a value.

The store applies a `Refund` in one transaction: credit `amount` to the user as
a REFUND payment, take `pages` off the counters of the job's printer chain (and
`amount`/`pages` off the job's billing code), and mark the job refunded.
PyKota's pkrefund gave the money back and left page counters alone; that stays
the default, and `pages=True` also gives the pages back. How the history keeps a
refunded job (the same row, action REFUND, price and pages as charged): see
`pagetally.storage.refunds`.
"""

from __future__ import annotations

from decimal import Decimal

from pagetally.core.models import ONE, ZERO, Action, JobRecord
from pagetally.core.money import format_money, quantize
from pagetally.errors import InvalidAmount, RuleError


class Refund:
    """What to give back for one job; both parts are never negative."""

    __slots__ = ("amount", "pages", "reason")

    def __init__(self, amount: Decimal, pages: int, reason: str) -> None:
        self.amount = amount
        self.pages = pages
        self.reason = reason

    def __repr__(self) -> str:
        return f"Refund({self.amount}, {self.pages}, {self.reason!r})"


class RefundResult:
    """What the store did: the job as it now reads (action REFUND), what went
    back, and the user's balance after it (None: the user no longer exists)."""

    __slots__ = ("amount", "balance_after", "job", "pages")

    def __init__(
        self, job: JobRecord, amount: Decimal, pages: int, balance_after: Decimal | None
    ) -> None:
        self.job = job
        self.amount = amount
        self.pages = pages
        self.balance_after = balance_after

    def __repr__(self) -> str:
        return f"RefundResult(job {self.job.id}, {self.amount}, {self.pages}, {self.balance_after})"


def check_refund(job: JobRecord, refund: Refund) -> None:
    """A refund never gives back more than the job took (InvalidAmount), and only
    a charged job can be refunded (RuleError): the store checks this again inside
    its transaction, against the row as it is then."""
    if job.action is Action.REFUND:
        raise RuleError(f"job {job.job_id or job.id} was refunded already")
    if job.action not in (Action.ALLOW, Action.WARN):
        raise RuleError(
            f"job {job.job_id or job.id} was not charged (action {job.action.value}): "
            "nothing to refund"
        )
    if not ZERO <= refund.amount <= max(job.price, ZERO):
        raise InvalidAmount(
            f"a refund of job {job.job_id or job.id} is between 0 and its price "
            f"{job.price}, not {refund.amount}"
        )
    if not 0 <= refund.pages <= max(job.pages, 0):
        raise InvalidAmount(
            f"a refund of job {job.job_id or job.id} gives back 0 to {job.pages} pages, "
            f"not {refund.pages}"
        )


def refund_for(
    job: JobRecord,
    *,
    currency: str = "",
    fraction: Decimal = ONE,
    pages: bool = False,
    note: str = "",
) -> Refund:
    """The refund of a charged job: its price (or `fraction` of it, 0 to 1).

    Refuses (RuleError) a job that was never charged (denied, cancelled, a
    problem) or was refunded already; InvalidAmount for a fraction outside 0..1.
    """
    check_refund(job, Refund(ZERO, 0, ""))
    if not ZERO <= fraction <= ONE:
        raise InvalidAmount(f"a refund is between 0 and 1 of the job's price, not {fraction}")
    amount = quantize(max(job.price, ZERO) * fraction)
    back = max(job.pages, 0) if pages else 0
    what = (
        f"Refund of job {job.job_id or job.id} on {job.printer}: {format_money(amount, currency)}"
    )
    if back:
        what += f" and {back} pages"
    return Refund(amount, back, f"{what}; {note}" if note else what)
