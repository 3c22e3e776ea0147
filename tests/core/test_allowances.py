"""Scheduled allowances: period keys at boundaries, the cap, page grants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pagetally.core.allowances import (
    applies_to_printer,
    credit_to_grant,
    pages_after_grant,
    period_key,
)
from pagetally.core.models import Allowance, Period
from pagetally.errors import InvalidInput, RuleError
from tests.core.helpers import D

TERMS = (date(2026, 9, 1), date(2027, 1, 11), date(2026, 4, 13))


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_day_keys() -> None:
    assert period_key(Period.DAY, at(2026, 11, 24, 0, 0)) == "2026-11-24"
    assert period_key(Period.DAY, at(2026, 11, 24, 23, 59, 59)) == "2026-11-24"
    assert period_key(Period.DAY, at(2026, 11, 25)) == "2026-11-25"


def test_month_keys_at_the_boundary() -> None:
    assert period_key(Period.MONTH, at(2026, 11, 30, 23, 59, 59)) == "2026-11"
    assert period_key(Period.MONTH, at(2026, 12, 1)) == "2026-12"
    assert period_key(Period.MONTH, at(2026, 12, 31, 23, 59)) == "2026-12"
    assert period_key(Period.MONTH, at(2027, 1, 1)) == "2027-01"


def test_week_keys_are_iso_weeks() -> None:
    assert period_key(Period.WEEK, at(2026, 11, 24)) == "2026-W48"
    # Sunday ends the week, Monday starts the next
    assert period_key(Period.WEEK, at(2026, 11, 29, 23, 59)) == "2026-W48"
    assert period_key(Period.WEEK, at(2026, 11, 30)) == "2026-W49"
    # ISO year differs from the calendar year around New Year
    assert period_key(Period.WEEK, at(2027, 1, 1)) == "2026-W53"
    assert period_key(Period.WEEK, at(2027, 1, 4)) == "2027-W01"
    assert period_key(Period.WEEK, at(2025, 12, 29)) == "2026-W01"


def test_term_keys() -> None:
    assert period_key(Period.TERM, at(2026, 9, 1), TERMS) == "term:2026-09-01"
    assert period_key(Period.TERM, at(2026, 8, 31, 23, 59), TERMS) == "term:2026-04-13"
    assert period_key(Period.TERM, at(2026, 12, 31), TERMS) == "term:2026-09-01"
    assert period_key(Period.TERM, at(2027, 1, 11), TERMS) == "term:2027-01-11"
    assert period_key(Period.TERM, at(2030, 1, 1), TERMS) == "term:2027-01-11"


def test_term_before_any_start_is_an_error() -> None:
    with pytest.raises(RuleError, match="no term has started on 2026-01-01"):
        period_key(Period.TERM, at(2026, 1, 1), TERMS)
    with pytest.raises(RuleError, match="none configured"):
        period_key(Period.TERM, at(2026, 1, 1))


def test_keys_are_read_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    # 00:30 on 1 December in Paris is still 30 November in UTC
    assert period_key(Period.MONTH, datetime(2026, 12, 1, 0, 30, tzinfo=paris)) == "2026-11"
    with pytest.raises(InvalidInput, match="timezone-aware"):
        period_key(Period.DAY, datetime(2026, 12, 1))


def test_credit_without_cap() -> None:
    a = Allowance("alice", credit=D("5"))
    assert credit_to_grant(D("100"), a) == D("5")
    assert credit_to_grant(D("-3"), a) == D("5")


def test_credit_respects_the_cap() -> None:
    a = Allowance("alice", credit=D("5"), cap=D("10"))
    assert credit_to_grant(D("0"), a) == D("5")
    assert credit_to_grant(D("7.50"), a) == D("2.50")  # up to the cap only
    assert credit_to_grant(D("10"), a) == D("0")
    assert credit_to_grant(D("25"), a) == D("0")  # never lowers a balance above the cap
    assert credit_to_grant(D("-2"), a) == D("5")


@given(
    balance=st.decimals(min_value=-1000, max_value=1000, places=2),
    credit=st.decimals(min_value=0, max_value=100, places=2),
    cap=st.one_of(st.none(), st.decimals(min_value=-100, max_value=1000, places=2)),
)
def test_credit_never_negative_never_above_cap(
    balance: Decimal, credit: Decimal, cap: Decimal | None
) -> None:
    grant = credit_to_grant(balance, Allowance("x", credit=credit, cap=cap))
    assert Decimal(0) <= grant <= credit
    if cap is not None and grant > 0:
        assert balance + grant <= cap


def test_pages_given_back() -> None:
    a = Allowance("alice", pages=50)
    assert pages_after_grant(120, a) == 70
    assert pages_after_grant(30, a) == 0  # never below 0
    assert pages_after_grant(0, a) == 0
    assert pages_after_grant(-5, a) == -5  # never raised


def test_reset_counters() -> None:
    assert pages_after_grant(120, Allowance("alice", reset_counters=True)) == 0
    assert pages_after_grant(120, Allowance("alice", pages=10, reset_counters=True)) == 0


def test_printer_selection() -> None:
    assert applies_to_printer(Allowance("a"), "lab")
    assert applies_to_printer(Allowance("a", printer="lab"), "lab")
    assert not applies_to_printer(Allowance("a", printer="lab"), "office")
