"""`denyduplicates`: whether a job repeats the same user's previous job.

A rule of the domain, so it lives here, pure: the caller reads the user's last
job on the printer from the store and passes the clock.
"""

from __future__ import annotations

from datetime import datetime

from pagetally.core.models import Action, Decision, DecisionCode, JobFacts, JobRecord


def duplicate_of(last: JobRecord | None, facts: JobFacts, delay: int,
                 now: datetime) -> Decision | None:
    """The refusal when `facts` is the same document (sha256) as `last`, the
    user's previous job on this printer, within `delay` seconds (0: any time);
    else None. CUPS running this very job again (same job id and uuid) is a
    retry, not a duplicate."""
    if last is None or not facts.sha256 or last.sha256 != facts.sha256:
        return None
    if (last.job_id, last.job_uuid) == (facts.job_id, facts.job_uuid):
        return None
    if delay > 0 and (now - last.date).total_seconds() >= delay:
        return None
    when = last.date.strftime("%Y-%m-%d %H:%M:%S UTC")
    window = f" within {delay} s" if delay > 0 else ""
    return Decision(Action.DENY, f"duplicate job: the same document as your previous job "
                    f"on {facts.printer} ({when}){window}", pages=0,
                    code=DecisionCode.DUPLICATE)
