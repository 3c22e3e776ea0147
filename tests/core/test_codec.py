"""The JSON codec round-trips every value a journal entry or service message holds."""

from datetime import UTC, datetime
from decimal import Decimal

from pagetally.core import codec
from pagetally.core.models import (
    Action,
    ChargeRequest,
    Decision,
    JobFacts,
)


def test_charge_request_round_trips_exactly() -> None:
    when = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    req = ChargeRequest(
        facts=JobFacts(
            user="o'brien",
            printer="lab",
            pages=7,
            color_pages=2,
            ink={"C": 1.5},
            billing_code="P-1",
            title='a\nb "q"',
            job_id="12",
            job_uuid="urn:uuid:1",
        ),
        decision=Decision(
            action=Action.WARN,
            reason="soft",
            price=Decimal("0.700000"),
            pages=7,
            user_date_limits={"lab": when},
            group_date_limits={("staff", "lab"): when},
            code="soft_limit",
        ),
        date=when,
        precomputed_price=Decimal("0.1"),
    )
    back = codec.loads(ChargeRequest, codec.dumps(req))
    assert back == req
    assert isinstance(back.decision.price, Decimal) and back.decision.price == Decimal("0.7")
    assert back.decision.group_date_limits == {("staff", "lab"): when}
    assert back.decision.action is Action.WARN


def test_user_names_are_normalised_as_configured() -> None:
    from pagetally.core.usernames import normalise_user

    assert normalise_user("EXAMPLE\\Alice", winbind_separator="\\") == "Alice"
    assert normalise_user("alice@EXAMPLE.ORG") == "alice"
    assert normalise_user("Alice", case="lower") == "alice"
    assert normalise_user("alice@x", strip_realm=False, case="upper") == "ALICE@X"
