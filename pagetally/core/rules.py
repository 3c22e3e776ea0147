"""The rules that decide a job: may it print, what does it cost, what does it count.

`decide` is PyKota's checkUserPQuota and the checks cupspykota ran around it,
as one pure function. In order, the first DENY wins:

1. unknown user or printer → the `policy` (deny; allow; external: the caller
   runs its command, then snapshots and decides again — recognised by code
   `policy_external`; a second `policy_external` means the command did not
   create what was missing, and the job is denied);
2. a pass-through printer → allow, no check, no charge, no count;
3. the job's size against max_job_size: of each printer of the chain, then the
   user's quota entries, then the user's groups' entries;
4. limit_by noprint → deny; an unknown billing code → deny (or allow when the
   config says `create`);
5. no quota entry for the user on the job's printer → the `policy`
   (allow goes on with the other checks);
6. limit_by nochange → allow, free; noquota → allow, charged;
7. groups first: every group of the user (limit_by not noquota/nochange) with a
   quota entry on a printer of the chain: a balance group's shared balance (the
   sum of its members'), a quota group's page quota on each such printer;
8. the user: balance (overcharge 0 → always allow), or page quota on the job's
   printer and on every printer group above it where the user has an entry.

Any WARN (soft limit within grace, low balance) makes the result WARN. Grace
deadlines that start with this job come back in `user_date_limits` and
`group_date_limits` (only when the job is allowed). `pages` is what the job adds
to the counters: the job's pages when allowed, 0 on deny and on pass-through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal

from pagetally.core.limits import (
    ALLOWED,
    Check,
    PageAccount,
    check_balance,
    check_group,
    check_pages,
)
from pagetally.core.models import (
    ZERO,
    AccountSnapshot,
    Action,
    Decision,
    DecisionCode,
    Group,
    JobFacts,
    LimitBy,
    Policy,
    Printer,
    User,
)
from pagetally.core.pricing import job_price
from pagetally.core.settings import RuleSettings, UnknownBillingCode
from pagetally.errors import InvalidInput

_SKIPPED = (LimitBy.NOQUOTA, LimitBy.NOCHANGE)


class _Denied(Exception):
    """Internal: a check denied; carries the finished decision."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


class _Outcome:
    """What the checks gathered so far for an allowed job (a plain class: cheap
    to define at import)."""

    __slots__ = ("group_dates", "pages", "policy_reason", "price", "user_dates", "warnings")

    def __init__(self, price: Decimal, pages: int) -> None:
        self.price = price
        self.pages = pages
        self.warnings: list[Check] = []
        self.user_dates: dict[str, datetime] = {}
        self.group_dates: dict[tuple[str, str], datetime] = {}
        self.policy_reason = ""

    def deny(self, check: Check) -> _Denied:
        return _Denied(
            Decision(
                Action.DENY, check.reason, self.price, 0, code=check.code, message=check.message
            )
        )

    def take(self, check: Check, date_key: str | tuple[str, str] | None = None) -> None:
        """Keep a check's verdict: raise on DENY, remember warnings and deadlines."""
        if check.action is Action.DENY:
            raise self.deny(check)
        if check.action is Action.WARN:
            self.warnings.append(check)
        if check.deadline is not None:
            if isinstance(date_key, tuple):
                self.group_dates.setdefault(date_key, check.deadline)
            elif date_key is not None:
                self.user_dates.setdefault(date_key, check.deadline)

    def finish(self, code: DecisionCode = DecisionCode.OK, reason: str = "") -> Decision:
        if self.warnings:
            first = self.warnings[0]
            return Decision(
                Action.WARN,
                "; ".join(w.reason for w in self.warnings),
                self.price,
                self.pages,
                dict(self.user_dates),
                dict(self.group_dates),
                code=first.code,
                message=first.message,
            )
        if self.policy_reason and code is DecisionCode.OK:
            code, reason = DecisionCode.POLICY_ALLOW, self.policy_reason
        return Decision(
            Action.ALLOW,
            reason or "Within every limit",
            self.price,
            self.pages,
            dict(self.user_dates),
            dict(self.group_dates),
            code=code,
        )


def _policy(settings: RuleSettings, what: str, price: Decimal) -> Decision | None:
    """The `policy` for something missing: a final Decision, or None to go on (allow)."""
    if settings.policy is Policy.ALLOW:
        return None
    if settings.policy is Policy.EXTERNAL:
        return Decision(
            Action.DENY,
            f"{what}; the external policy command decides",
            price,
            0,
            code=DecisionCode.POLICY_EXTERNAL,
        )
    return Decision(
        Action.DENY, f"{what}; the policy denies the job", price, 0, code=DecisionCode.POLICY_DENY
    )


def _policy_allowed(what: str, price: Decimal, pages: int) -> Decision:
    return Decision(
        Action.ALLOW,
        f"{what}; the policy allows the job",
        price,
        pages,
        code=DecisionCode.POLICY_ALLOW,
    )


def _too_large(pages: int, limit: int | None, where: str) -> Check:
    if limit is None or pages <= limit:
        return ALLOWED
    return Check(
        Action.DENY,
        DecisionCode.JOB_TOO_LARGE,
        f"Job too large {where}: {pages} pages, at most {limit} allowed",
    )


def _size_checks(
    snapshot: AccountSnapshot, chain: tuple[Printer, ...], facts: JobFacts
) -> Iterator[Check]:
    """max_job_size: printers of the chain, the user's entries, the groups' entries."""
    pages = facts.pages
    for p in chain:
        yield _too_large(pages, p.max_job_size, f"for printer {p.name}")
    for p in chain:
        uq = snapshot.user_quotas.get(p.name)
        if uq is not None:
            yield _too_large(pages, uq.max_job_size, f"for {facts.user} on printer {p.name}")
    for g in snapshot.groups:
        for p in chain:
            gq = snapshot.group_quotas.get((g.name, p.name))
            if gq is not None:
                yield _too_large(pages, gq.max_job_size, f"for group {g.name} on printer {p.name}")


def _check_groups(
    snapshot: AccountSnapshot,
    chain: tuple[Printer, ...],
    facts: JobFacts,
    settings: RuleSettings,
    now: datetime,
    out: _Outcome,
) -> None:
    """Every group of the user with an entry on the chain; any DENY wins."""
    for g in snapshot.groups:
        if g.limit_by in _SKIPPED:
            continue
        entries = [
            gq for p in chain if (gq := snapshot.group_quotas.get((g.name, p.name))) is not None
        ]
        if g.limit_by is LimitBy.NOPRINT:
            raise out.deny(_noprint(g))
        if not entries:
            continue
        balance = snapshot.group_balances.get(g.name, ZERO)
        for check, gq in check_group(g, entries, balance, out.price, facts.pages, settings, now):
            out.take(check, (g.name, gq.printer))


def _check_user(
    snapshot: AccountSnapshot,
    user: User,
    chain: tuple[Printer, ...],
    facts: JobFacts,
    settings: RuleSettings,
    now: datetime,
    out: _Outcome,
) -> DecisionCode:
    """The user's own limit: balance, or page quotas on every printer with an entry."""
    if user.limit_by is LimitBy.BALANCE:
        if user.overcharge == 0:
            return DecisionCode.FREE
        out.take(check_balance(user.balance, out.price, settings))
        return DecisionCode.OK
    for p in chain:
        uq = snapshot.user_quotas.get(p.name)
        if uq is None:
            continue
        acct = PageAccount(p.name, uq.page_counter, uq.soft_limit, uq.hard_limit, uq.date_limit)
        out.take(check_pages(acct, facts.pages, settings, now), p.name)
    return DecisionCode.OK


def _noprint(who: User | Group) -> Check:
    kind = "User" if isinstance(who, User) else "Group"
    return Check(
        Action.DENY,
        DecisionCode.NOPRINT,
        f"{kind} {who.name} is not allowed to print (limited by noprint)",
    )


def decide(
    snapshot: AccountSnapshot, facts: JobFacts, settings: RuleSettings, now: datetime
) -> Decision:
    """Decide one job from what the store knows (`snapshot`) at time `now` (UTC)."""
    if now.tzinfo is None:
        raise InvalidInput("the decision needs a timezone-aware time (UTC)")
    pages = max(facts.pages, 0)
    user, printer = snapshot.user, snapshot.printer
    chain = snapshot.printers or ((printer,) if printer is not None else ())
    if printer is None:
        what = f"Printer {facts.printer} is unknown to PageTally"
        return _policy(settings, what, ZERO) or _policy_allowed(what, ZERO, pages)
    if printer.passthrough:
        return Decision(
            Action.ALLOW,
            f"Printer {printer.name} is pass-through: not checked, not charged",
            ZERO,
            0,
            code=DecisionCode.PASSTHROUGH,
        )
    if user is None:
        price = job_price(chain, facts, settings)
        what = f"User {facts.user} is unknown to PageTally"
        # allowed without an account: nobody pays, so the row must not say a price
        # was collected
        return _policy(settings, what, price) or _policy_allowed(what, ZERO, pages)

    out = _Outcome(job_price(chain, facts, settings, user), pages)
    try:
        for check in _size_checks(snapshot, chain, facts):
            out.take(check)
        if user.limit_by is LimitBy.NOPRINT:
            raise out.deny(_noprint(user))
        _check_billing_code(snapshot, facts, settings, out)
        if printer.name not in snapshot.user_quotas:
            what = f"User {user.name} has no quota entry on printer {printer.name}"
            final = _policy(settings, what, out.price)
            if final is not None:
                return final
            out.policy_reason = f"{what}; the policy allows the job"
        if user.limit_by is LimitBy.NOCHANGE:
            return out.finish(DecisionCode.NOCHANGE, f"User {user.name} prints free of charge")
        if user.limit_by is LimitBy.NOQUOTA:
            return out.finish(DecisionCode.NOQUOTA, f"User {user.name} has no limit")
        _check_groups(snapshot, chain, facts, settings, now, out)
        code = _check_user(snapshot, user, chain, facts, settings, now, out)
    except _Denied as denied:
        return denied.decision
    if code is DecisionCode.FREE:
        return out.finish(code, f"User {user.name} is not charged (overcharge 0)")
    return out.finish()


def _check_billing_code(
    snapshot: AccountSnapshot, facts: JobFacts, settings: RuleSettings, out: _Outcome
) -> None:
    """A job's billing code must exist, unless the config says to create it."""
    code = facts.billing_code
    if not code:
        return
    known = snapshot.billing_code is not None and snapshot.billing_code.code == code
    if known or settings.unknown_billing_code is UnknownBillingCode.CREATE:
        return
    raise out.deny(
        Check(Action.DENY, DecisionCode.UNKNOWN_BILLING_CODE, f"Billing code {code} is unknown")
    )


def rule_for(
    facts: JobFacts, settings: RuleSettings, now: datetime
) -> Callable[[AccountSnapshot], Decision]:
    """`decide` with everything but the snapshot fixed: the `rule` argument of
    Store.decide_and_charge, which snapshots inside its locked transaction."""

    def rule(snapshot: AccountSnapshot) -> Decision:
        return decide(snapshot, facts, settings, now)

    return rule
