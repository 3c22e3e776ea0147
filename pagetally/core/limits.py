"""The two limit checks, each for one account: page quotas and balances.

`decide` (core/rules.py) runs them for the user and each of the user's groups
on every printer of the chain; `check_group` says which a group gets, for the
decision and for `pagetally warn` alike. Each returns a `Check`: the verdict, the reason a
person can read, a machine code, and a grace deadline to record if one starts.

Enforcement (PageTally fixes PyKota's off-by-one under strict):
- laxist: a limit is checked against usage before the job; the job that
  reaches it still prints (the last job may overshoot). "Reached" means
  usage ≥ limit.
- strict: against usage including this job; a hard limit of N allows exactly N
  pages (PyKota allowed N - 1). "Passed" means usage + job > limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from pagetally.core.models import Action, DecisionCode, Group, GroupQuota, LimitBy
from pagetally.core.money import format_money
from pagetally.core.settings import RuleSettings


class Check:
    """One check's verdict. `deadline` is a grace deadline to record (new ones only).

    Plain classes here, not dataclasses or NamedTuples: they cost almost nothing
    to define, and the backend pays every import on every job."""

    __slots__ = ("action", "code", "deadline", "message", "reason")

    def __init__(
        self,
        action: Action,
        code: DecisionCode = DecisionCode.OK,
        reason: str = "",
        message: str = "",
        deadline: datetime | None = None,
    ) -> None:
        self.action = action
        self.code = code
        self.reason = reason
        self.message = message
        self.deadline = deadline

    def __repr__(self) -> str:
        return f"Check({self.action.value}, {self.code.value}, {self.reason!r})"


ALLOWED = Check(Action.ALLOW)


def when(moment: datetime) -> str:
    """A deadline as people read it: "2026-12-01 12:00 UTC"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class PageAccount:
    """A quota entry as the page check sees it; `who` names it in reasons:
    "" for the job's user, "group staff" for a group."""

    __slots__ = ("date_limit", "hard", "printer", "soft", "used", "who")

    def __init__(
        self,
        printer: str,
        used: int,
        soft: int | None,
        hard: int | None,
        date_limit: datetime | None,
        who: str = "",
    ) -> None:
        self.printer = printer
        self.used = used
        self.soft = soft
        self.hard = hard
        self.date_limit = date_limit
        self.who = who


def _quota_words(acct: PageAccount) -> str:
    return f"Print quota of {acct.who}" if acct.who else "Print quota"


def check_pages(acct: PageAccount, pages: int, settings: RuleSettings, now: datetime) -> Check:
    """PyKota's soft/hard/grace rule for one quota entry.

    No limits: accounting only, allow. A hard limit reached: deny. A soft limit
    alone acts as a hard one. Between soft and hard: warn until the grace
    deadline (started now + grace delay when the soft limit is first passed,
    whether by an earlier job or by this one), deny after it.
    """
    pages = max(pages, 0)
    strict = settings.strict
    after = acct.used + pages

    def over(limit: int) -> bool:
        return after > limit if strict else acct.used >= limit

    words = _quota_words(acct)
    job_text = f", this job has {pages}" if strict else ""
    hard = acct.hard if acct.hard is not None else acct.soft  # a soft limit alone is hard
    if hard is not None and over(hard):
        return Check(
            Action.DENY,
            DecisionCode.HARD_LIMIT,
            f"{words} exceeded on printer {acct.printer}: "
            f"{acct.used} of {hard} pages used{job_text}",
            settings.hardwarn,
        )
    if acct.soft is None or acct.hard is None:
        return ALLOWED
    if not over(acct.soft):
        if after > acct.soft and acct.date_limit is None:
            # this job passes the soft limit: the grace delay starts now
            return Check(Action.ALLOW, deadline=now + settings.grace_delay)
        return ALLOWED
    deadline = acct.date_limit if acct.date_limit is not None else now + settings.grace_delay
    if now >= deadline:
        return Check(
            Action.DENY,
            DecisionCode.GRACE_EXPIRED,
            f"{words} exceeded on printer {acct.printer}: grace period ended {when(deadline)}, "
            f"{acct.used} pages used, soft limit {acct.soft}",
            settings.hardwarn,
        )
    return Check(
        Action.WARN,
        DecisionCode.SOFT_LIMIT,
        f"{words} soft limit passed on printer {acct.printer}: {acct.used} of {acct.soft} "
        f"pages used{job_text} (hard limit {acct.hard}); printing allowed until "
        f"{when(deadline)}",
        settings.softwarn,
        deadline if acct.date_limit is None else None,
    )


def check_balance(balance: Decimal, price: Decimal, settings: RuleSettings, who: str = "") -> Check:
    """PyKota's balance rule: deny at or below balancezero, warn at or below poorman.

    laxist compares the balance before the job; strict the balance after paying
    this job, and allows a job that leaves exactly balancezero (with a warning).
    """
    cur = settings.currency
    subject = f"Balance of {who}" if who else "Balance"
    cost = f", this job costs {format_money(price, cur)}"
    if settings.strict:
        left = balance - price
        if left < settings.balance_zero:
            return Check(
                Action.DENY,
                DecisionCode.BALANCE_TOO_LOW,
                f"{subject} too low: {format_money(balance, cur)}{cost}",
                settings.balancewarn,
            )
        if left == settings.balance_zero or left <= settings.poorman:
            return Check(
                Action.WARN,
                DecisionCode.BALANCE_LOW,
                f"{subject} low: {format_money(left, cur)} left after this job",
                settings.poorwarn,
            )
        return ALLOWED
    if balance <= settings.balance_zero:
        return Check(
            Action.DENY,
            DecisionCode.BALANCE_TOO_LOW,
            f"{subject} too low: {format_money(balance, cur)}{cost}",
            settings.balancewarn,
        )
    if balance <= settings.poorman:
        return Check(
            Action.WARN,
            DecisionCode.BALANCE_LOW,
            f"{subject} low: {format_money(balance, cur)}{cost}",
            settings.poorwarn,
        )
    return ALLOWED


def check_group(
    group: Group,
    entries: Sequence[GroupQuota],
    balance: Decimal,
    price: Decimal,
    pages: int,
    settings: RuleSettings,
    now: datetime,
) -> list[tuple[Check, GroupQuota]]:
    """A group's checks on its quota `entries`, each with the entry it is about.

    A balance group: its shared `balance` (the members' sum) once, against the
    job's `price`, about the first entry. A quota group: each entry's page quota
    with `pages` more. Groups limited by noquota or nochange, and groups without
    an entry, get no check. noprint is the caller's: the decision denies a job
    with its own words, and `warn` uses warnpykota's.
    """
    if not entries or group.limit_by in (LimitBy.NOQUOTA, LimitBy.NOCHANGE, LimitBy.NOPRINT):
        return []
    who = f"group {group.name}"
    if group.limit_by is LimitBy.BALANCE:
        return [(check_balance(balance, price, settings, who), entries[0])]
    out = []
    for gq in entries:
        acct = PageAccount(
            gq.printer, gq.page_counter, gq.soft_limit, gq.hard_limit, gq.date_limit, who
        )
        out.append((check_pages(acct, pages, settings, now), gq))
    return out
