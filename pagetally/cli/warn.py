"""`pagetally warn`: the periodic warnings (PyKota's warnpykota), for cron.

Every user (with `--groups`: every group) whose quota entry on a printer is
past the soft limit, at the hard limit, or whose balance is at or below
`poorman` / `balancezero`, is sent the configured text (`softwarn`,
`hardwarn`, `poorwarn`) and the administrator a one-line note, as `mailto`
says for that printer. Limits are read as before a job (laxist), whatever
`enforcement` says: the warning is about the state now.

Unlike warnpykota, a balance (which is per person, not per printer) is warned
about once, not once per printer with a quota entry. `--dry-run` prints who
would be told and sends nothing. Exit status 1 when a mail could not be sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import typer

from pagetally.cli.env import Env, get_env
from pagetally.cli.exitcodes import ExitCode
from pagetally.config import Config
from pagetally.core.limits import Check, PageAccount, check_balance, check_group, check_pages
from pagetally.core.models import (
    ZERO,
    Action,
    DecisionCode,
    Enforcement,
    LimitBy,
    User,
    UserQuota,
)
from pagetally.core.money import format_money
from pagetally.core.settings import RuleSettings
from pagetally.notify.mail import Delivery, MailSettings, deliver, recipient
from pagetally.notify.messages import Notice, warning_notices
from pagetally.storage.base import Store

_SKIPPED = (LimitBy.NOQUOTA, LimitBy.NOCHANGE)


@dataclass(frozen=True)
class Alert:
    """One warning to send: about a user's or a group's entry on a printer."""

    printer: str
    who: str  # the user, or the group
    is_group: bool
    check: Check
    reason: str
    people: tuple[tuple[str, User | None, UserQuota | None], ...]


def register(app: typer.Typer) -> None:
    app.command("warn")(warn)


def warn(
    names: Annotated[
        list[str] | None, typer.Argument(help="Users (or groups) or wildcards; default all.")
    ] = None,
    printer: Annotated[
        list[str] | None, typer.Option("--printer", "-P", help="Printer(s) or wildcard.")
    ] = None,
    groups: Annotated[
        bool, typer.Option("--groups", "-g", help="Warn groups' members instead of users.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Print who would be warned; send nothing.")
    ] = False,
) -> None:
    """Mail every user (or group) over a soft limit or low on balance (warnpykota)."""
    env = get_env()
    cfg = env.config()
    patterns = names or ["*"]
    printers = printer or ["*"]
    with env.store() as store:
        found = list(
            _group_warnings(store, cfg, printers, patterns, env.now())
            if groups
            else _user_warnings(store, cfg, printers, patterns, env.now())
        )
    total = Delivery()
    for w in found:
        settings = MailSettings.from_config(cfg, w.printer)
        notices = warning_notices(
            w.check.action,
            w.check.code,
            w.check.message,
            w.reason,
            w.printer,
            w.people,
            group=w.who if w.is_group else None,
            admin=settings.admin,
            adminmail=settings.adminmail,
            currency=settings.currency,
        )
        users = {name: user for name, user, _ in w.people}
        if dry_run:
            _print_plan(env, w, notices, settings, users)
            continue
        delivery = deliver(notices, settings, users=users, base_env=env.environ)
        total.merge(delivery)
        _print_done(env, w, delivery)
    kind = "group" if groups else "user"
    if dry_run:
        env.note(f"{len(found)} {kind} warning(s) would be sent (dry run: nothing sent)")
        return
    failed = len(total.failed) + sum(1 for r in total.external if not r.ok)
    env.note(
        f"{len(found)} {kind} warning(s): {len(total.sent)} mail(s) sent, "
        f"{len(total.external)} external, {failed} failed"
    )
    if failed:
        raise typer.Exit(ExitCode.ERROR)


def _line(w: Alert) -> str:
    kind = "group" if w.is_group else "user"
    return (
        f"{w.check.action.value.upper()} {kind} {w.who} on {w.printer} ({w.check.code}): {w.reason}"
    )


def _print_plan(
    env: Env,
    w: Alert,
    notices: Sequence[Notice],
    settings: MailSettings,
    users: dict[str, User | None],
) -> None:
    targets = [recipient(n, settings, users.get(n.user)) for n in notices]
    shown = ", ".join(t for t in targets if t) or "nobody (mailto: devnull)"
    print(f"{_line(w)} -> {shown}", file=env.out)


def _print_done(env: Env, w: Alert, delivery: Delivery) -> None:
    sent = ", ".join(to for to, _ in delivery.sent)
    extra = f"; failed: {', '.join(to for to, _ in delivery.failed)}" if delivery.failed else ""
    ext = f"; external: {len(delivery.external)}" if delivery.external else ""
    print(f"{_line(w)} -> {sent or 'nobody'}{ext}{extra}", file=env.out)


def _laxist(cfg: Config, printer: str) -> RuleSettings:
    return dataclasses.replace(cfg.rule_settings(printer), enforcement=Enforcement.LAXIST)


def _balance_reason(check: Check, balance: Decimal, settings: RuleSettings, who: str) -> str:
    state = "too low" if check.action is Action.DENY else "low"
    subject = f"Balance of {who}" if who else "Balance"
    return f"{subject} {state}: {format_money(balance, settings.currency)}"


def _noprint(kind: str, name: str) -> tuple[Check, str]:
    reason = f"{kind} {name} is not allowed to print at this time."
    return Check(Action.DENY, DecisionCode.NOPRINT, reason), reason


def _user_warnings(
    store: Store, cfg: Config, printers: Sequence[str], users: Sequence[str], now: datetime
) -> Iterator[Alert]:
    passthrough = {p.name for p in store.find_printers(list(printers)) if p.passthrough}
    known = {u.name: u for u in store.find_users(list(users))}
    once: set[str] = set()  # balance and noprint: per person, not per printer
    for uq in store.user_quotas(list(printers), list(users)):
        user = known.get(uq.user)
        if user is None or user.limit_by in _SKIPPED or uq.printer in passthrough:
            continue
        settings = _laxist(cfg, uq.printer)
        if user.limit_by in (LimitBy.BALANCE, LimitBy.NOPRINT):
            if user.name in once or (user.limit_by is LimitBy.BALANCE and user.overcharge == 0):
                continue
            once.add(user.name)
            if user.limit_by is LimitBy.NOPRINT:
                check, reason = _noprint("User", user.name)
            else:
                check = check_balance(user.balance, ZERO, settings)
                reason = _balance_reason(check, user.balance, settings, "")
        else:
            acct = PageAccount(
                uq.printer, uq.page_counter, uq.soft_limit, uq.hard_limit, uq.date_limit
            )
            check = check_pages(acct, 0, settings, now)
            reason = check.reason
        if check.action in (Action.WARN, Action.DENY):
            yield Alert(uq.printer, user.name, False, check, reason, ((user.name, user, uq),))


def _group_warnings(
    store: Store, cfg: Config, printers: Sequence[str], groups: Sequence[str], now: datetime
) -> Iterator[Alert]:
    passthrough = {p.name for p in store.find_printers(list(printers)) if p.passthrough}
    known = {g.name: g for g in store.find_groups(list(groups))}
    once: set[str] = set()
    for gq in store.group_quotas(list(printers), list(groups)):
        group = known.get(gq.group)
        if group is None or group.limit_by in _SKIPPED or gq.printer in passthrough:
            continue
        settings = _laxist(cfg, gq.printer)
        if group.limit_by in (LimitBy.BALANCE, LimitBy.NOPRINT):
            if group.name in once:
                continue
            once.add(group.name)
        if group.limit_by is LimitBy.NOPRINT:
            check, reason = _noprint("Group", group.name)
        elif group.limit_by is LimitBy.BALANCE:
            balance, _ = store.group_balance(group.name)
            [(check, _)] = check_group(group, (gq,), balance, ZERO, 0, settings, now)
            reason = _balance_reason(check, balance, settings, f"group {group.name}")
        else:
            [(check, _)] = check_group(group, (gq,), ZERO, ZERO, 0, settings, now)
            reason = check.reason
        if check.action not in (Action.WARN, Action.DENY):
            continue
        members = store.members(group.name)
        names = {m.name for m in members}
        entries = {q.user: q for q in store.user_quotas([gq.printer]) if q.user in names}
        people = tuple((m.name, m, entries.get(m.name)) for m in members)
        yield Alert(gq.printer, group.name, True, check, reason, people)
