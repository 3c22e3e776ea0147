"""Groups are checked first: page quotas of the members' sum, shared balances."""

from __future__ import annotations

from datetime import timedelta

from pagetally.core.limits import check_group
from pagetally.core.models import Action, DecisionCode, Enforcement, Group, LimitBy
from pagetally.core.rules import decide
from pagetally.core.settings import RuleSettings
from tests.core.helpers import NOW, D, gquota, job, printer, snap, uquota, user

LAX = RuleSettings()
STRICT = RuleSettings(enforcement=Enforcement.STRICT)
STAFF = Group("staff")
STUDENTS = Group("students")


def test_group_quota_denies_a_member_with_room_of_their_own() -> None:
    s = snap(user(), groups=[STAFF], group_quotas=[gquota("staff", used=500, hard=500)])
    d = decide(s, job(1), LAX, NOW)
    assert (d.action, d.code, d.pages) == (Action.DENY, DecisionCode.HARD_LIMIT, 0)
    assert d.reason == "Print quota of group staff exceeded on printer lab: 500 of 500 pages used"


def test_any_group_deny_wins() -> None:
    quotas = [gquota("staff", used=0, hard=500), gquota("students", used=90, hard=100)]
    s = snap(user(), groups=[STAFF, STUDENTS], group_quotas=quotas)
    assert decide(s, job(5), LAX, NOW).action is Action.ALLOW
    d = decide(s, job(11), STRICT, NOW)
    assert d.action is Action.DENY
    assert "group students" in d.reason


def test_groups_are_checked_before_the_user() -> None:
    s = snap(
        user(),
        quotas=[uquota(used=100, hard=100)],
        groups=[STAFF],
        group_quotas=[gquota("staff", used=100, hard=100)],
    )
    assert "group staff" in decide(s, job(1), LAX, NOW).reason


def test_group_grace_deadline_keyed_by_group_and_printer() -> None:
    s = snap(user(), groups=[STAFF], group_quotas=[gquota("staff", used=85, soft=80, hard=100)])
    d = decide(s, job(1), LAX, NOW)
    assert (d.action, d.code) == (Action.WARN, DecisionCode.SOFT_LIMIT)
    assert d.group_date_limits == {("staff", "lab"): NOW + timedelta(days=7)}
    assert d.user_date_limits == {}
    expired = gquota("staff", used=85, soft=80, hard=100, date_limit=NOW)
    d = decide(snap(user(), groups=[STAFF], group_quotas=[expired]), job(1), LAX, NOW)
    assert d.code == DecisionCode.GRACE_EXPIRED


def test_group_quota_on_every_printer_of_the_chain() -> None:
    chain = [printer(), printer("floor2")]
    s = snap(
        user(),
        chain,
        groups=[STAFF],
        group_quotas=[gquota("staff", "floor2", used=1000, hard=1000)],
    )
    d = decide(s, job(1), LAX, NOW)
    assert d.reason == (
        "Print quota of group staff exceeded on printer floor2: 1000 of 1000 pages used"
    )


def test_group_without_entry_on_the_chain_is_not_checked() -> None:
    s = snap(user(), groups=[STAFF], group_quotas=[gquota("staff", "elsewhere", used=9, hard=1)])
    assert decide(s, job(1), LAX, NOW).action is Action.ALLOW


def test_noquota_and_nochange_groups_are_skipped() -> None:
    full = [gquota("free1", used=9, hard=1), gquota("free2", used=9, hard=1)]
    groups = [Group("free1", limit_by=LimitBy.NOQUOTA), Group("free2", limit_by=LimitBy.NOCHANGE)]
    s = snap(user(), groups=groups, group_quotas=full)
    assert decide(s, job(1), LAX, NOW).action is Action.ALLOW


def test_noprint_group_bars_its_members() -> None:
    s = snap(user(), groups=[Group("banned", limit_by=LimitBy.NOPRINT)])
    d = decide(s, job(1), LAX, NOW)
    assert (d.action, d.code) == (Action.DENY, DecisionCode.NOPRINT)
    assert d.reason == "Group banned is not allowed to print (limited by noprint)"


def test_group_balance_is_the_members_sum() -> None:
    team = Group("team", limit_by=LimitBy.BALANCE)
    entry = [gquota("team")]

    def at(total: str, settings: RuleSettings = LAX) -> tuple[Action, str]:
        # alice has plenty of pages; the group's shared balance decides
        s = snap(user(), groups=[team], group_quotas=entry, group_balances={"team": total})
        d = decide(s, job(5), settings, NOW)
        return d.action, d.reason

    assert at("10")[0] is Action.ALLOW
    assert at("0.80") == (
        Action.WARN,
        "Balance of group team low: 0.80 EUR, this job costs 0.50 EUR",
    )
    assert at("0") == (
        Action.DENY,
        "Balance of group team too low: 0.00 EUR, this job costs 0.50 EUR",
    )
    assert at("0.50", STRICT)[0] is Action.WARN  # exactly 0 left
    assert at("0.49", STRICT)[0] is Action.DENY


def test_group_balance_denies_a_rich_member() -> None:
    team = Group("team", limit_by=LimitBy.BALANCE)
    s = snap(
        user(limit_by=LimitBy.BALANCE, balance="100"),
        groups=[team],
        group_quotas=[gquota("team")],
        group_balances={"team": "-3"},
    )
    assert decide(s, job(1), LAX, NOW).code == DecisionCode.BALANCE_TOO_LOW


def test_group_warning_and_user_warning_combine() -> None:
    s = snap(
        user(limit_by=LimitBy.BALANCE, balance="0.90"),
        groups=[STAFF],
        group_quotas=[gquota("staff", used=85, soft=80, hard=100)],
    )
    d = decide(s, job(1), LAX, NOW)
    assert d.action is Action.WARN
    assert d.code == DecisionCode.SOFT_LIMIT  # the first warning names the code
    assert "group staff soft limit passed" in d.reason
    assert "Balance low: 0.90 EUR" in d.reason
    assert d.price == D("0.10")


def test_group_max_job_size() -> None:
    s = snap(user(), groups=[STAFF], group_quotas=[gquota("staff", max_job_size=10)])
    d = decide(s, job(11), LAX, NOW)
    assert d.reason == "Job too large for group staff on printer lab: 11 pages, at most 10 allowed"


# --- check_group: the one rule for a group's entries, the decision's and `warn`'s ---


def test_check_group_pages_on_each_entry_balance_once() -> None:
    lab, floor2 = gquota("staff", "lab", used=5, soft=4, hard=10), gquota("staff", "floor2")
    got = check_group(STAFF, (lab, floor2), D("0"), D("0"), 1, LAX, NOW)
    assert [(c.action, c.code, q.printer) for c, q in got] == [
        (Action.WARN, DecisionCode.SOFT_LIMIT, "lab"),
        (Action.ALLOW, DecisionCode.OK, "floor2"),
    ]
    team = Group("team", limit_by=LimitBy.BALANCE)
    [(check, about)] = check_group(team, (lab, floor2), D("0"), D("0.10"), 1, LAX, NOW)
    assert (check.action, check.code) == (Action.DENY, DecisionCode.BALANCE_TOO_LOW)
    assert about.printer == "lab"
    assert "Balance of group team" in check.reason


def test_check_group_leaves_out_what_it_does_not_check() -> None:
    entry = (gquota("staff", "lab", used=9, hard=1),)
    for limit_by in (LimitBy.NOQUOTA, LimitBy.NOCHANGE, LimitBy.NOPRINT):
        assert check_group(Group("g", limit_by=limit_by), entry, D("0"), D("0"), 1, LAX, NOW) == []
    assert check_group(STAFF, (), D("0"), D("0"), 1, LAX, NOW) == []


def test_warn_and_the_decision_word_a_group_over_its_quota_alike() -> None:
    entry = gquota("staff", "lab", used=1000, hard=1000)
    s = snap(user(), groups=[STAFF], group_quotas=[entry])
    [(check, _)] = check_group(STAFF, (entry,), D("0"), D("0"), 0, LAX, NOW)
    assert (check.action, check.reason) == (Action.DENY, decide(s, job(1), LAX, NOW).reason)
