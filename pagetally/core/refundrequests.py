"""Refund requests (the web's refund page): a user asks, an admin decides.

A request names one history row and says why (a jam, a bad print). Only the
job's own user may ask, only for a job that was charged and not refunded yet,
and only once while a request for it is pending. An approval refunds through
the same path as `pagetally jobs refund` (core.refunds.refund_for, then the
store's `refund`); a refusal changes nothing but the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pagetally.core.invoices import RefundReceipt
from pagetally.core.models import Action, JobRecord
from pagetally.core.refunds import RefundResult
from pagetally.errors import InvalidInput, RuleError

REASON_MAX = 500


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """One request as stored."""

    id: int
    job_row: int
    user: str
    reason: str
    created: datetime
    state: RequestState = RequestState.PENDING
    decided_by: str | None = None
    decided: datetime | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class WebRefund:
    """A refund made on the web, as the store made it in one unit of work: the
    refund, its receipt and (an approval) the request marked approved."""

    done: RefundResult
    receipt: RefundReceipt
    request: RefundRequest | None = None


def check_request(job: JobRecord, user: str, reason: str, pending_rows: set[int]) -> str:
    """The request's reason, cleaned, when `user` may ask a refund of `job`.

    RuleError when the job is not theirs, was not charged, was refunded already or
    has a request pending; InvalidInput for an empty or overlong reason.
    """
    text = " ".join(reason.split())
    if job.user != user:
        raise RuleError("you may only ask for refunds of your own jobs")
    if job.action is Action.REFUND:
        raise RuleError(f"job {job.id} was refunded already")
    if job.action not in (Action.ALLOW, Action.WARN):
        raise RuleError(f"job {job.id} was not charged: nothing to refund")
    if job.id in pending_rows:
        raise RuleError(f"a refund of job {job.id} was asked already and waits for an admin")
    if not text:
        raise InvalidInput("say why the job should be refunded")
    if len(text) > REASON_MAX:
        raise InvalidInput(f"the reason is longer than {REASON_MAX} characters")
    return text
