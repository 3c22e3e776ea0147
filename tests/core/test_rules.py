"""The decision's order: policy, pass-through, job size, noprint, billing codes,
limit-by, balance. Page quotas and groups have their own files."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pagetally.core.models import Action, BillingCode, DecisionCode, Enforcement, LimitBy, Policy
from pagetally.core.rules import decide, rule_for
from pagetally.core.settings import RuleSettings, UnknownBillingCode
from tests.core.helpers import NOW, D, job, printer, snap, uquota, user

LAX = RuleSettings()
STRICT = RuleSettings(enforcement=Enforcement.STRICT)
BAL = LimitBy.BALANCE


# --- missing user, printer, quota entry: the policy ---------------------------------


@pytest.mark.parametrize(
    ("policy", "action", "code"),
    [
        (Policy.DENY, Action.DENY, DecisionCode.POLICY_DENY),
        (Policy.ALLOW, Action.ALLOW, DecisionCode.POLICY_ALLOW),
        (Policy.EXTERNAL, Action.DENY, DecisionCode.POLICY_EXTERNAL),
    ],
)
def test_unknown_user_follows_policy(policy: Policy, action: Action, code: str) -> None:
    d = decide(snap(None), job(3, who="bob"), RuleSettings(policy=policy), NOW)
    assert (d.action, d.code) == (action, code)
    assert d.reason.startswith("User bob is unknown to PageTally; the ")
    assert d.pages == (3 if action is Action.ALLOW else 0)
    if action is Action.ALLOW:
        assert d.price == 0  # no account: nothing is collected, the row says so


def test_default_policy_is_deny() -> None:
    d = decide(snap(None), job(3, who="bob"), LAX, NOW)
    assert d.action is Action.DENY
    assert d.reason == "User bob is unknown to PageTally; the policy denies the job"
    assert not d.allowed


@pytest.mark.parametrize(
    ("policy", "action"), [(Policy.DENY, Action.DENY), (Policy.ALLOW, Action.ALLOW)]
)
def test_unknown_printer_follows_policy(policy: Policy, action: Action) -> None:
    d = decide(snap(user(), []), job(3, printer_name="ghost"), RuleSettings(policy=policy), NOW)
    assert d.action is action
    assert "Printer ghost is unknown" in d.reason
    assert d.price == 0


def test_missing_quota_entry_follows_policy() -> None:
    s = snap(user(), quotas=[])
    d = decide(s, job(2), LAX, NOW)
    assert (d.action, d.code) == (Action.DENY, DecisionCode.POLICY_DENY)
    assert d.reason == "User alice has no quota entry on printer lab; the policy denies the job"
    d = decide(s, job(2), RuleSettings(policy=Policy.EXTERNAL), NOW)
    assert d.code == DecisionCode.POLICY_EXTERNAL


def test_missing_entry_with_allow_policy_still_checks_balance() -> None:
    allow = RuleSettings(policy=Policy.ALLOW)
    rich = snap(user(limit_by=BAL, balance="5"), quotas=[])
    d = decide(rich, job(2), allow, NOW)
    assert (d.action, d.code, d.price, d.pages) == (
        Action.ALLOW,
        DecisionCode.POLICY_ALLOW,
        D("0.20"),
        2,
    )
    poor = snap(user(limit_by=BAL, balance="0"), quotas=[])
    assert decide(poor, job(2), allow, NOW).code == DecisionCode.BALANCE_TOO_LOW


def test_accounting_only_entry_allows() -> None:
    d = decide(snap(user()), job(5), LAX, NOW)
    assert (d.action, d.code, d.pages, d.price) == (Action.ALLOW, DecisionCode.OK, 5, D("0.50"))
    assert d.user_date_limits == {} and d.group_date_limits == {}


# --- pass-through ----------------------------------------------------------------------


def test_passthrough_printer_neither_checks_nor_charges_nor_counts() -> None:
    p = printer(passthrough=True, max_job_size=1)
    s = snap(user(limit_by=LimitBy.NOPRINT), [p], quotas=[])
    d = decide(s, job(50), STRICT, NOW)
    assert (d.action, d.code, d.price, d.pages) == (
        Action.ALLOW,
        DecisionCode.PASSTHROUGH,
        D("0"),
        0,
    )
    # even an unknown user prints through it
    assert decide(snap(None, [p]), job(5), LAX, NOW).action is Action.ALLOW


# --- max job size ------------------------------------------------------------------------


def test_printer_max_job_size() -> None:
    s = snap(user(), [printer(max_job_size=100)])
    assert decide(s, job(100), LAX, NOW).action is Action.ALLOW
    d = decide(s, job(101), LAX, NOW)
    assert (d.action, d.code, d.pages) == (Action.DENY, DecisionCode.JOB_TOO_LARGE, 0)
    assert d.reason == "Job too large for printer lab: 101 pages, at most 100 allowed"


def test_printer_group_max_job_size() -> None:
    s = snap(user(), [printer(), printer("floor", max_job_size=10)])
    d = decide(s, job(11), LAX, NOW)
    assert d.reason == "Job too large for printer floor: 11 pages, at most 10 allowed"


def test_user_max_job_size_after_printer() -> None:
    s = snap(user(), [printer(max_job_size=100)], quotas=[uquota(max_job_size=20)])
    assert decide(s, job(20), LAX, NOW).allowed
    d = decide(s, job(21), LAX, NOW)
    assert d.reason == "Job too large for alice on printer lab: 21 pages, at most 20 allowed"
    # the printer's limit is checked first
    assert "for printer lab" in decide(s, job(500), LAX, NOW).reason


# --- limit-by ----------------------------------------------------------------------------


def test_noprint_is_refused() -> None:
    d = decide(snap(user(limit_by=LimitBy.NOPRINT)), job(1), LAX, NOW)
    assert (d.action, d.code) == (Action.DENY, DecisionCode.NOPRINT)
    assert d.reason == "User alice is not allowed to print (limited by noprint)"


def test_nochange_prints_free_and_counts_past_every_limit() -> None:
    s = snap(user(limit_by=LimitBy.NOCHANGE), quotas=[uquota(used=500, hard=100)])
    d = decide(s, job(7), STRICT, NOW)
    assert (d.action, d.code, d.price, d.pages) == (Action.ALLOW, DecisionCode.NOCHANGE, D("0"), 7)


def test_noquota_is_charged_but_never_refused() -> None:
    s = snap(user(limit_by=LimitBy.NOQUOTA, balance="-50"), quotas=[uquota(used=500, hard=100)])
    d = decide(s, job(7), STRICT, NOW)
    assert (d.action, d.code, d.price, d.pages) == (
        Action.ALLOW,
        DecisionCode.NOQUOTA,
        D("0.70"),
        7,
    )


# --- balance -----------------------------------------------------------------------------


def test_balance_laxist() -> None:
    def at(balance: str) -> tuple[Action, str]:
        d = decide(snap(user(limit_by=BAL, balance=balance)), job(5), LAX, NOW)
        return d.action, d.code

    assert at("5.00") == (Action.ALLOW, DecisionCode.OK)
    assert at("1.01") == (Action.ALLOW, DecisionCode.OK)
    assert at("1.00") == (Action.WARN, DecisionCode.BALANCE_LOW)  # poorman 1.0
    assert at("0.01") == (Action.WARN, DecisionCode.BALANCE_LOW)  # laxist: may overshoot
    assert at("0.00") == (Action.DENY, DecisionCode.BALANCE_TOO_LOW)
    assert at("-2") == (Action.DENY, DecisionCode.BALANCE_TOO_LOW)


def test_balance_reasons_people_can_read() -> None:
    d = decide(snap(user(limit_by=BAL, balance="0.30")), job(5), STRICT, NOW)
    assert d.reason == "Balance too low: 0.30 EUR, this job costs 0.50 EUR"
    assert d.message == STRICT.balancewarn  # not hardwarn: "quota hard limit" is untrue
    assert "hard limit" not in d.message and "balance is too low" in d.message
    d = decide(snap(user(limit_by=BAL, balance="1.20")), job(5), STRICT, NOW)
    assert (d.action, d.reason) == (Action.WARN, "Balance low: 0.70 EUR left after this job")
    assert d.message == STRICT.poorwarn
    chf = RuleSettings(currency="CHF")
    d = decide(snap(user(limit_by=BAL, balance="0")), job(5), chf, NOW)
    assert d.reason == "Balance too low: 0.00 CHF, this job costs 0.50 CHF"


def test_balance_strict_subtracts_the_price() -> None:
    def at(balance: str) -> Action:
        return decide(snap(user(limit_by=BAL, balance=balance)), job(5), STRICT, NOW).action

    assert at("1.51") is Action.ALLOW  # 1.01 left
    assert at("1.50") is Action.WARN  # 1.00 left: poorman
    assert at("0.50") is Action.WARN  # exactly 0 left: still allowed
    assert at("0.49") is Action.DENY


def test_pykota_float_bug_fixed() -> None:
    """PyKota: balance 0.70, 7 pages at 0.10 cost 0.7000000000000001 and were refused."""
    s = snap(user(limit_by=BAL, balance="0.70"), [printer(per_page="0.10")])
    for settings in (LAX, STRICT):
        d = decide(s, job(7), settings, NOW)
        assert d.allowed
        assert d.price == D("0.70")
        assert D("0.70") - d.price == D("0.00")
        assert str(D("0.70") - d.price) == "0.000000"


def test_balance_zero_and_poorman_from_config() -> None:
    credit_line = RuleSettings(balance_zero=D("-5"), poorman=D("0"))
    d = decide(snap(user(limit_by=BAL, balance="-4")), job(5), credit_line, NOW)
    assert d.action is Action.WARN
    d = decide(snap(user(limit_by=BAL, balance="-5")), job(5), credit_line, NOW)
    assert d.action is Action.DENY


def test_overcharge_zero_always_allows_on_balance() -> None:
    s = snap(user(limit_by=BAL, balance="-100", overcharge="0"))
    d = decide(s, job(50), STRICT, NOW)
    assert (d.action, d.code, d.price, d.pages) == (Action.ALLOW, DecisionCode.FREE, D("0"), 50)


def test_overcharge_below_one_undercharges_and_lets_more_through() -> None:
    s = snap(user(limit_by=BAL, balance="0.25", overcharge="0.5"))
    d = decide(s, job(5), STRICT, NOW)  # 0.50 × 0.5 = 0.25: exactly the balance
    assert (d.allowed, d.price) == (True, D("0.25"))
    s = snap(user(limit_by=BAL, balance="0.25", overcharge="2"))
    d = decide(s, job(5), STRICT, NOW)
    assert (d.action, d.price) == (Action.DENY, D("1.00"))


def test_balance_user_ignores_page_quota() -> None:
    s = snap(user(limit_by=BAL, balance="50"), quotas=[uquota(used=100, hard=10)])
    assert decide(s, job(5), STRICT, NOW).action is Action.ALLOW


# --- billing codes -----------------------------------------------------------------------


def test_billing_code_known_unknown_and_create() -> None:
    s = snap(user(), billing_code=BillingCode("proj-7", balance=D("10")))
    d = decide(s, job(3, billing_code="proj-7"), LAX, NOW)
    assert (d.action, d.price) == (Action.ALLOW, D("0.30"))
    d = decide(snap(user()), job(3, billing_code="nope"), LAX, NOW)
    assert (d.action, d.code) == (Action.DENY, DecisionCode.UNKNOWN_BILLING_CODE)
    assert d.reason == "Billing code nope is unknown"
    # the snapshot holds another code: still unknown
    d = decide(s, job(3, billing_code="proj-8"), LAX, NOW)
    assert d.code == DecisionCode.UNKNOWN_BILLING_CODE
    create = RuleSettings(unknown_billing_code=UnknownBillingCode.CREATE)
    assert decide(snap(user()), job(3, billing_code="nope"), create, NOW).allowed


def test_deny_counts_nothing_but_reports_the_price() -> None:
    d = decide(snap(user(limit_by=BAL, balance="0")), job(5), LAX, NOW)
    assert (d.pages, d.price) == (0, D("0.50"))


def test_decision_does_not_touch_its_inputs() -> None:
    s = snap(user(), quotas=[uquota(used=85, soft=80, hard=100)])
    before = repr(s)
    d = decide(s, job(1), LAX, NOW)
    assert d.user_date_limits == {"lab": NOW + timedelta(days=7)}
    assert repr(s) == before


def test_rule_for_fixes_everything_but_the_snapshot() -> None:
    rule = rule_for(job(5), STRICT, NOW)
    assert rule(snap(user(limit_by=BAL, balance="0.50"))).action is Action.WARN
    assert rule(snap(user(limit_by=BAL, balance="0.49"))).action is Action.DENY
