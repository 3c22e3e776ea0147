"""A user's status page, as values: quota per printer and a warning near a limit.

Pure: built from the store's rows and the site's thresholds, so the rule "warn
at 90% of a hard limit, at the soft limit, in grace, or with a balance below
`poorman`" is tested without a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pagetally.core.models import GroupQuota, LimitBy, User, UserQuota

NEAR = Decimal("0.9")


@dataclass(frozen=True)
class QuotaLine:
    printer: str
    used: int
    soft: int | None
    hard: int | None
    grace_until: datetime | None
    life: int
    level: str  # "ok", "near", "over" (soft passed), "blocked" (hard reached)
    message: str


def quota_line(q: UserQuota, now: datetime) -> QuotaLine:
    used, soft, hard = q.page_counter, q.soft_limit, q.hard_limit
    level, msg = "ok", ""
    if hard is not None and used >= hard:
        level, msg = "blocked", f"hard limit of {hard} pages reached on {q.printer}"
    elif soft is not None and used >= soft:
        if q.date_limit is not None and q.date_limit <= now:
            level, msg = "blocked", f"grace period on {q.printer} is over"
        else:
            level = "over"
            msg = f"soft limit of {soft} pages passed on {q.printer}"
            if q.date_limit is not None:
                msg += f"; grace until {q.date_limit:%Y-%m-%d %H:%M} UTC"
    elif (hard is not None and used >= hard * NEAR) or (soft is not None and used >= soft * NEAR):
        level = "near"
        top = soft if soft is not None else hard
        msg = f"{used} of {top} pages used on {q.printer}"
    return QuotaLine(q.printer, used, soft, hard, q.date_limit, q.life_page_counter, level, msg)


def group_line(q: GroupQuota, now: datetime) -> QuotaLine:
    """A group's entry, read by the same rule (its counter is its members' sum)."""
    as_user = UserQuota(
        q.group,
        q.printer,
        page_counter=q.page_counter,
        life_page_counter=q.life_page_counter,
        soft_limit=q.soft_limit,
        hard_limit=q.hard_limit,
        date_limit=q.date_limit,
    )
    return quota_line(as_user, now)


def balance_warning(user: User, poorman: Decimal, currency: str) -> str:
    """A warning when the user pays by balance and it is low."""
    if user.limit_by is LimitBy.QUOTA:
        return ""
    from pagetally.core.money import format_money

    if user.balance <= 0:
        return f"your balance is {format_money(user.balance, currency)}: printing may be refused"
    if user.balance <= poorman:
        return f"your balance is low: {format_money(user.balance, currency)}"
    return ""
