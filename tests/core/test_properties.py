"""Properties of decide() over random accounts: what must hold for every job."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pagetally.core.models import (
    AccountSnapshot,
    Action,
    DecisionCode,
    Enforcement,
    Group,
    JobFacts,
    LimitBy,
    Policy,
)
from pagetally.core.rules import decide
from pagetally.core.settings import RuleSettings
from tests.core.helpers import NOW, gquota, job, printer, snap, uquota, user

limits = st.one_of(st.none(), st.integers(min_value=0, max_value=50))
money = st.decimals(min_value=-5, max_value=5, places=2).map(str)


@st.composite
def cases(draw: st.DrawFn) -> tuple[AccountSnapshot, JobFacts, RuleSettings]:
    names = ["lab", "floor", "building"][: draw(st.integers(min_value=1, max_value=3))]
    chain = [
        printer(
            n,
            per_page=draw(st.sampled_from(["0", "0.10", "0.05"])),
            max_job_size=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=40))),
            passthrough=(i == 0 and draw(st.booleans()) and draw(st.booleans())),
        )
        for i, n in enumerate(names)
    ]
    quotas = [
        uquota(
            n,
            used=draw(st.integers(min_value=0, max_value=60)),
            soft=draw(limits),
            hard=draw(limits),
            date_limit=draw(st.one_of(st.none(), st.just(NOW), st.just(NOW + timedelta(1)))),
        )
        for n in names
        if draw(st.booleans())
    ]
    gl = draw(st.sampled_from(list(LimitBy)))
    with_group: bool = draw(st.booleans())
    groups = [Group("g", limit_by=gl)] if with_group else []
    gq = [
        gquota("g", n, used=draw(st.integers(min_value=0, max_value=60)), hard=draw(limits))
        for n in names
        if with_group and draw(st.booleans())
    ]
    u = user(
        limit_by=draw(st.sampled_from(list(LimitBy))),
        balance=draw(money),
        overcharge=draw(st.sampled_from(["0", "0.5", "1", "2"])),
    )
    s = snap(
        u if draw(st.integers(min_value=0, max_value=9)) else None,
        chain,
        quotas=quotas,
        groups=groups,
        group_quotas=gq,
        group_balances={"g": draw(money)},
    )
    rules = RuleSettings(
        enforcement=draw(st.sampled_from(list(Enforcement))),
        policy=draw(st.sampled_from(list(Policy))),
    )
    facts = job(draw(st.integers(min_value=0, max_value=40)), color_pages=1)
    return s, facts, rules


@settings(max_examples=120)
@given(cases())
def test_every_decision_is_consistent(case: tuple[AccountSnapshot, JobFacts, RuleSettings]) -> None:
    s, facts, rules = case
    d = decide(s, facts, rules, NOW)
    assert d.price >= 0
    assert d.price == d.price.quantize(Decimal("0.000001"))
    assert d.reason
    assert d.code in set(DecisionCode)
    assert d.action in (Action.ALLOW, Action.WARN, Action.DENY)
    if not d.allowed:
        assert d.pages == 0
        assert d.user_date_limits == {} and d.group_date_limits == {}
    elif d.code == DecisionCode.PASSTHROUGH:
        assert d.pages == 0
        assert d.price == 0
    else:
        assert d.pages == facts.pages
    for deadline in [*d.user_date_limits.values(), *d.group_date_limits.values()]:
        assert deadline == NOW + rules.grace_delay
    if s.user is not None and s.user.limit_by is LimitBy.NOPRINT and s.printer is not None:
        assert not d.allowed or d.code == DecisionCode.PASSTHROUGH


@settings(max_examples=120)
@given(cases())
def test_strict_never_lets_a_user_pass_a_hard_limit(
    case: tuple[AccountSnapshot, JobFacts, RuleSettings],
) -> None:
    s, facts, rules = case
    rules = RuleSettings(enforcement=Enforcement.STRICT, policy=rules.policy)
    d = decide(s, facts, rules, NOW)
    if not d.allowed or s.user is None or s.user.limit_by is not LimitBy.QUOTA:
        return
    if d.code == DecisionCode.PASSTHROUGH:
        return
    for q in s.user_quotas.values():
        if q.hard_limit is not None:
            assert q.page_counter + d.pages <= q.hard_limit
