"""Mails that match the reason: a balance refusal does not speak of a quota limit,
the administrator is not told "Print Quota exceeded" for an unknown user or
printer, and PyKota's texts and `%(name)s` placeholders are accepted."""

from __future__ import annotations

from pagetally.core.models import (
    Action,
    Decision,
    DecisionCode,
    JobFacts,
    LimitBy,
)
from pagetally.core.rules import decide
from pagetally.core.settings import RuleSettings
from pagetally.notify.messages import fill, job_notices
from tests.core import helpers

FACTS = JobFacts(user="pkben", printer="lab", pages=2, job_id="15")
#: PyKota 1.27's pykota.conf.sample hardwarn, as sites have it.
PYKOTA_HARDWARN = (
    "Your Print Quota Hard Limit is reached.\nThis means that you are not allowed to print anymore."
)


def test_balance_refusal_speaks_of_the_balance() -> None:
    user = helpers.user("pkben", limit_by=LimitBy.BALANCE, balance="-0.20")
    snap = helpers.snap(user, quotas=[helpers.uquota(who="pkben")])
    decision = decide(snap, FACTS, RuleSettings(hardwarn=PYKOTA_HARDWARN), helpers.NOW)
    assert decision.code == DecisionCode.BALANCE_TOO_LOW
    person, admin = job_notices(decision, FACTS, user=user)
    assert "hard limit" not in person.body.lower() and "balance is too low" in person.body
    assert person.subject == "Print Quota Exceeded"  # PyKota's subject: mail filters
    assert admin.body.startswith("Print Quota exceeded for user pkben on printer lab")


def test_unknown_user_is_not_a_quota_to_the_admin() -> None:
    decision = Decision(
        Action.DENY,
        "User pkben is unknown; the policy denies the job",
        code=DecisionCode.POLICY_DENY,
    )
    person, admin = job_notices(decision, FACTS)
    assert admin.body.startswith("Printing denied for user pkben on printer lab")
    assert "Print Quota exceeded" not in admin.body and "is unknown" in admin.body
    assert person.subject == "Printing denied" and "Quota" not in person.body


def test_pykota_texts_and_placeholders() -> None:
    values = {
        "user": "ann",
        "username": "ann",
        "printer": "lp",
        "printername": "lp",
        "balance": "1.00 EUR",
    }
    assert fill(PYKOTA_HARDWARN, values) == PYKOTA_HARDWARN  # no placeholders: unchanged
    text = "%(username)s on %(printername)s: $balance left; 100% sure; %(nosuch)s"
    assert fill(text, values) == "ann on lp: 1.00 EUR left; 100% sure; %(nosuch)s"
    assert fill("%(username)s", {"username": "$user %(username)s"}) == "$user %(username)s"
