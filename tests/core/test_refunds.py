"""Refunds: the money (and optionally pages) of a charged job, once."""

from __future__ import annotations

import pytest

from pagetally.core.models import Action, JobRecord
from pagetally.core.refunds import refund_for
from pagetally.errors import InvalidAmount, RuleError
from tests.core.helpers import NOW, D


def charged(action: Action = Action.ALLOW, price: str = "1.20", pages: int = 12) -> JobRecord:
    return JobRecord(
        id=7,
        date=NOW,
        user="alice",
        printer="lab",
        action=action,
        pages=pages,
        price=D(price),
        job_id="42",
    )


def test_refund_gives_the_price_back_not_the_pages() -> None:
    r = refund_for(charged(), currency="EUR")
    assert (r.amount, r.pages) == (D("1.20"), 0)
    assert r.reason == "Refund of job 42 on lab: 1.20 EUR"


def test_refund_with_pages_and_a_note() -> None:
    r = refund_for(charged(Action.WARN), currency="EUR", pages=True, note="paper jam")
    assert (r.amount, r.pages) == (D("1.20"), 12)
    assert r.reason == "Refund of job 42 on lab: 1.20 EUR and 12 pages; paper jam"


def test_partial_refund_rounds_half_even() -> None:
    assert refund_for(charged(price="0.000003"), fraction=D("0.5")).amount == D("0.000002")
    assert refund_for(charged(), fraction=D("0.25")).amount == D("0.30")
    with pytest.raises(InvalidAmount, match="between 0 and 1"):
        refund_for(charged(), fraction=D("1.5"))


@pytest.mark.parametrize("action", [Action.DENY, Action.CANCEL, Action.PROBLEM])
def test_uncharged_jobs_cannot_be_refunded(action: Action) -> None:
    with pytest.raises(RuleError, match=f"action {action.value}"):
        refund_for(charged(action))


def test_refund_only_once() -> None:
    with pytest.raises(RuleError, match="refunded already"):
        refund_for(charged(Action.REFUND))


def test_check_refund_bounds_the_refund_by_the_job() -> None:
    from pagetally.core.refunds import Refund, check_refund

    check_refund(charged(), Refund(D("1.20"), 12, "all of it"))
    with pytest.raises(InvalidAmount, match=r"between 0 and its price 1\.20, not 1\.21"):
        check_refund(charged(), Refund(D("1.21"), 0, "more"))
    with pytest.raises(InvalidAmount, match="gives back 0 to 12 pages, not 13"):
        check_refund(charged(), Refund(D("0"), 13, "more pages"))
    with pytest.raises(RuleError, match="refunded already"):
        check_refund(charged(Action.REFUND), Refund(D("0"), 0, ""))
