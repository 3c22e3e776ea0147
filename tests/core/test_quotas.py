"""Page quotas: soft, hard, grace across time, laxist vs strict, the printer chain."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pagetally.core.models import Action, Decision, DecisionCode, Enforcement
from pagetally.core.rules import decide
from pagetally.core.settings import RuleSettings
from pagetally.errors import InvalidInput
from tests.core.helpers import NOW, job, printer, snap, uquota, user

LAX = RuleSettings()
STRICT = RuleSettings(enforcement=Enforcement.STRICT)
DAY = timedelta(days=1)


def run(pages: int, settings: RuleSettings = LAX, now: datetime = NOW, **quota: Any) -> Decision:
    """Decide a job of `pages` for alice on lab with one quota entry."""
    return decide(snap(user(), quotas=[uquota(**quota)]), job(pages), settings, now)


def test_hard_limit_laxist_lets_the_last_job_overshoot() -> None:
    assert run(50, used=99, hard=100).action is Action.ALLOW  # 149 after: laxist
    d = run(1, used=100, hard=100)
    assert (d.action, d.code, d.pages) == (Action.DENY, DecisionCode.HARD_LIMIT, 0)
    assert d.reason == "Print quota exceeded on printer lab: 100 of 100 pages used"
    assert d.message == LAX.hardwarn


def test_hard_limit_strict_allows_exactly_the_limit() -> None:
    """PyKota's complaint: under strict a hard limit of 100 allowed only 99."""
    assert run(100, STRICT, used=0, hard=100).action is Action.ALLOW
    assert run(1, STRICT, used=99, hard=100).action is Action.ALLOW
    d = run(1, STRICT, used=100, hard=100)
    assert d.action is Action.DENY
    d = run(10, STRICT, used=95, hard=100)
    assert d.action is Action.DENY
    assert d.reason == (
        "Print quota exceeded on printer lab: 95 of 100 pages used, this job has 10"
    )


def test_soft_limit_alone_acts_as_hard() -> None:
    assert run(5, used=79, soft=80).action is Action.ALLOW
    d = run(5, used=80, soft=80)
    assert (d.action, d.code) == (Action.DENY, DecisionCode.HARD_LIMIT)
    assert d.reason == "Print quota exceeded on printer lab: 80 of 80 pages used"
    assert run(80, STRICT, used=0, soft=80).action is Action.ALLOW
    assert run(81, STRICT, used=0, soft=80).action is Action.DENY


def test_no_limits_is_accounting_only() -> None:
    assert run(10_000, STRICT, used=10**6).action is Action.ALLOW


def test_grace_starts_when_soft_limit_is_first_passed() -> None:
    # laxist: usage already at the soft limit, no deadline yet: warn, start it now
    d = run(5, used=80, soft=80, hard=100)
    assert (d.action, d.code) == (Action.WARN, DecisionCode.SOFT_LIMIT)
    assert d.user_date_limits == {"lab": NOW + 7 * DAY}
    assert d.message == LAX.softwarn
    assert d.reason == (
        "Print quota soft limit passed on printer lab: 80 of 80 pages used (hard limit 100); "
        "printing allowed until 2026-12-01 12:00 UTC"
    )
    assert d.pages == 5


def test_job_crossing_the_soft_limit_starts_grace_under_laxist() -> None:
    d = run(10, used=75, soft=80, hard=100)
    assert (d.action, d.user_date_limits) == (Action.ALLOW, {"lab": NOW + 7 * DAY})
    # not crossing: nothing recorded
    assert run(5, used=75, soft=80, hard=100).user_date_limits == {}


def test_strict_grace_counts_this_job() -> None:
    assert run(5, STRICT, used=75, soft=80, hard=100).action is Action.ALLOW  # 80: at soft
    d = run(6, STRICT, used=75, soft=80, hard=100)  # 81: past soft
    assert (d.action, d.user_date_limits) == (Action.WARN, {"lab": NOW + 7 * DAY})


def test_grace_across_time() -> None:
    deadline = NOW + 7 * DAY
    q: dict[str, Any] = {"used": 90, "soft": 80, "hard": 100, "date_limit": deadline}
    d = run(1, now=NOW + 3 * DAY, **q)
    assert d.action is Action.WARN
    assert d.user_date_limits == {}  # already recorded: not written again
    assert run(1, now=deadline - timedelta(seconds=1), **q).action is Action.WARN
    d = run(1, now=deadline, **q)
    assert (d.action, d.code) == (Action.DENY, DecisionCode.GRACE_EXPIRED)
    assert d.reason == (
        "Print quota exceeded on printer lab: grace period ended 2026-12-01 12:00 UTC, "
        "90 pages used, soft limit 80"
    )
    # the hard limit still applies within the grace period
    d = run(1, now=NOW + DAY, used=100, soft=80, hard=100, date_limit=deadline)
    assert d.code == DecisionCode.HARD_LIMIT


def test_grace_delay_from_config() -> None:
    d = run(1, RuleSettings(grace_delay_days=2), used=85, soft=80, hard=100)
    assert d.user_date_limits == {"lab": NOW + 2 * DAY}
    d = run(1, RuleSettings(grace_delay_days=0), used=85, soft=80, hard=100)
    assert d.code == DecisionCode.GRACE_EXPIRED


def test_soft_above_hard_still_stops_at_hard() -> None:
    assert run(1, used=60, soft=100, hard=50).action is Action.DENY


def test_denied_job_records_no_deadline() -> None:
    chain = [printer(), printer("floor")]
    quotas = [uquota(used=85, soft=80, hard=100), uquota("floor", used=500, hard=500)]
    d = decide(snap(user(), chain, quotas=quotas), job(1), LAX, NOW)
    assert d.action is Action.DENY
    assert d.user_date_limits == {}
    assert d.reason == "Print quota exceeded on printer floor: 500 of 500 pages used"


def test_every_printer_of_the_chain_is_checked() -> None:
    chain = [printer(), printer("floor2"), printer("building")]
    quotas = [
        uquota(used=10, hard=100),
        uquota("floor2", used=85, soft=80, hard=200),
        uquota("building", used=999, hard=1000),
    ]
    d = decide(snap(user(), chain, quotas=quotas), job(1), LAX, NOW)
    assert (d.action, d.pages) == (Action.WARN, 1)
    assert d.user_date_limits == {"floor2": NOW + 7 * DAY}
    d = decide(snap(user(), chain, quotas=quotas), job(2), STRICT, NOW)
    assert d.action is Action.DENY
    assert "printer building: 999 of 1000 pages used, this job has 2" in d.reason


def test_parent_without_entry_is_not_checked() -> None:
    chain = [printer(), printer("floor2")]
    d = decide(snap(user(), chain, quotas=[uquota(used=5, hard=100)]), job(1), STRICT, NOW)
    assert d.action is Action.ALLOW


def test_price_sums_over_nested_printer_groups() -> None:
    chain = [
        printer("lab", per_page="0.10"),
        printer("floor2", per_page="0.02"),
        printer("building", per_page="0.01", per_job="0.05"),
    ]
    d = decide(snap(user(), chain), job(10), LAX, NOW)
    assert str(d.price) == "1.350000"
    assert d.pages == 10  # the store adds these to every entry of the chain


@given(
    used=st.integers(min_value=0, max_value=300),
    hard=st.integers(min_value=0, max_value=300),
    soft=st.one_of(st.none(), st.integers(min_value=0, max_value=300)),
    pages=st.integers(min_value=0, max_value=300),
    days=st.integers(min_value=-10, max_value=10),
)
def test_strict_never_lets_usage_exceed_the_hard_limit(
    used: int, hard: int, soft: int | None, pages: int, days: int
) -> None:
    date_limit = NOW + days * DAY if soft is not None and days else None
    d = run(pages, STRICT, used=used, soft=soft, hard=hard, date_limit=date_limit)
    if d.allowed:
        assert used + d.pages <= hard
    else:
        assert d.pages == 0
    if used + pages <= min(hard, soft if soft is not None else hard):
        assert d.action is Action.ALLOW


@given(
    used=st.integers(min_value=0, max_value=300),
    soft=st.integers(min_value=0, max_value=300),
    hard=st.integers(min_value=0, max_value=300),
    pages=st.integers(min_value=1, max_value=300),
)
def test_strict_is_never_more_lenient_than_laxist(
    used: int, soft: int, hard: int, pages: int
) -> None:
    lax = run(pages, LAX, used=used, soft=soft, hard=hard)
    strict = run(pages, STRICT, used=used, soft=soft, hard=hard)
    if strict.allowed:
        assert lax.allowed


def test_deadlines_are_shown_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    deadline = datetime(2026, 12, 1, 13, 0, tzinfo=paris)
    d = run(1, used=85, soft=80, hard=100, date_limit=deadline)
    assert d.reason.endswith("printing allowed until 2026-12-01 12:00 UTC")


def test_naive_time_is_refused() -> None:
    with pytest.raises(InvalidInput, match="timezone-aware"):
        run(1, now=datetime(2026, 11, 24, 12, 0))
