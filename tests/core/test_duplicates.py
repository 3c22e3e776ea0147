"""denyduplicates' rule, pure: the same document (sha256) as the user's last job
on the printer, within the delay, is refused with DecisionCode.DUPLICATE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pagetally.core.duplicates import duplicate_of
from pagetally.core.models import Action, JobFacts, JobRecord

T0 = datetime(2026, 11, 24, 12, tzinfo=UTC)
LAST = JobRecord(1, T0, "alice", "lab", Action.ALLOW, 3, sha256="ab" * 32, job_id="7",
                 job_uuid="u7")
FACTS = JobFacts("alice", "lab", 3, sha256="ab" * 32, job_id="8", job_uuid="u8")


def test_the_same_document_within_the_delay_is_refused_by_code() -> None:
    refused = duplicate_of(LAST, FACTS, 60, T0 + timedelta(seconds=59))
    assert refused is not None and refused.action is Action.DENY
    assert refused.code == "duplicate"
    assert refused.reason == ("duplicate job: the same document as your previous job on lab "
                              "(2026-11-24 12:00:00 UTC) within 60 s")


def test_what_is_not_a_duplicate() -> None:
    later = T0 + timedelta(seconds=60)
    assert duplicate_of(LAST, FACTS, 60, later) is None  # the delay has passed
    assert duplicate_of(None, FACTS, 0, later) is None  # no previous job
    other = JobFacts("alice", "lab", 3, sha256="cd" * 32, job_id="8")
    assert duplicate_of(LAST, other, 0, later) is None  # another document
    retry = JobFacts("alice", "lab", 3, sha256="ab" * 32, job_id="7", job_uuid="u7")
    assert duplicate_of(LAST, retry, 0, later) is None  # CUPS running job 7 again
    assert duplicate_of(LAST, FACTS, 0, T0 + timedelta(days=400)) is not None  # 0: any time
