"""Step 4 of a job, the side that talks to the store (the rules themselves are
pure, in core/rules.py): the store (or the accounting service), the journal replayed,
and the decision — core's rules, the site's external policy for what is unknown,
duplicates, billing codes created on the fly, and what is decided when the store
cannot be reached (`onstoreerror`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pagetally.core.models import AccountSnapshot, Action, Decision, DecisionCode, JobFacts
from pagetally.cups.status import Messages
from pagetally.errors import StoreUnavailable

if TYPE_CHECKING:
    from pagetally.config import Config
    from pagetally.storage.base import PrintJobStore as Store  # the print job's role
    from pagetally.storage.journal import Journal


def open_store(config: Config, msgs: Messages) -> Store | None:
    """The accounting service when one listens (no database layer loaded for
    this job), else the store itself; None when that cannot be reached."""
    from pagetally.service.client import connect

    remote = connect(config.get_str("accountingservice"))
    if remote is not None:
        return remote  # mypy holds RemoteStore to the print job's role (PrintJobStore)
    from pagetally.storage import open_store as open_configured

    try:
        return open_configured(config.store_settings())
    except StoreUnavailable as e:
        msgs.warning(f"PageTally: the store is unreachable: {e}")
        return None


def journal_of(config: Config) -> Journal | None:
    """The local journal of charges kept while the store was down."""
    from pagetally.storage.journal import Journal

    return Journal.under(config.get_str("directory"))


def charged_before(store: Store | None, config: Config, facts: JobFacts) -> str | None:
    """When the job was charged by an earlier attempt ("on DATE", or "in the local
    journal"), else None. Only a charge takes the job's identity in the store."""
    from pagetally.storage.base import HistoryFilter

    ident = (facts.printer, facts.job_id, facts.host or "", facts.job_uuid)
    if store is not None:
        try:
            for job in store.history(HistoryFilter(charge_of=ident, limit=1)):
                return f"on {job.date.strftime('%Y-%m-%d %H:%M:%S UTC')}"
        except StoreUnavailable:
            pass
    journal = journal_of(config)
    if journal is not None and journal.has(ident):
        return "in the local journal"
    return None


def replay_journal(store: Store, config: Config, msgs: Messages) -> None:
    """Charge what was journaled while the store was down (never twice), and
    what attempts killed after printing left (see cups/attempt.py)."""
    journal = journal_of(config)
    if journal is not None and (journal.pending() or journal.printed_attempts()):
        result = journal.replay(store, config.rule_settings)
        if result.charged or result.already_charged:
            msgs.debug(f"PageTally: replayed {result.charged} journaled charge(s)")


def decide_job(
    store: Store | None,
    config: Config,
    facts: JobFacts,
    now: datetime,
    msgs: Messages,
    external_policy: Callable[[JobFacts], str] | None,
) -> tuple[Store | None, Decision, AccountSnapshot | None]:
    """The store (None once it proved unreachable), the decision, and what it was
    decided on (None when the store could not be read). `external_policy` runs
    the site's command for `policy: external(...)`; it may create what is missing,
    then the decision is taken again."""
    from pagetally.core.rules import decide

    if store is not None:
        try:
            replay_journal(store, config, msgs)
            snapshot = store.snapshot(facts.user, facts.printer, facts.billing_code)
            rules = config.rule_settings(facts.printer)
            decision = decide(snapshot, facts, rules, now)
            if decision.code == DecisionCode.POLICY_EXTERNAL and (
                external_policy is not None or _autopykota(config, facts) is not None
            ):
                auto = _autopykota(config, facts)
                why = (
                    _run_autopykota(store, facts, auto, msgs)
                    if auto is not None
                    else external_policy(facts)
                    if external_policy is not None
                    else ""
                )
                snapshot = store.snapshot(facts.user, facts.printer, facts.billing_code)
                again = decide(snapshot, facts, rules, now)
                decision = (
                    again
                    if again.code != DecisionCode.POLICY_EXTERNAL
                    else (
                        dataclasses.replace(again, reason=f"{again.reason} ({why})")
                        if why
                        else again
                    )
                )
            if decision.allowed and facts.billing_code and snapshot.billing_code is None:
                create_billing_code(store, facts.billing_code, msgs)
            return store, decision, snapshot
        except StoreUnavailable as e:
            msgs.warning(f"PageTally: the store is unreachable: {e}")
    return None, store_down_decision(config, facts), None


def _autopykota(config: Config, facts: JobFacts) -> Decimal | None:
    """The initial balance when the policy is `external(autopykota ...)`: PyKota's
    tool, done here in-process (core/autoaccount.py); None for any other policy
    or a command line autopykota would refuse (then run as the site wrote it)."""
    from pagetally.core.autoaccount import autopykota_balance
    from pagetally.errors import InvalidInput
    from pagetally.notify.process import split_command

    text = config.get("policy", facts.printer)
    if not text.startswith("external(") or "autopykota" not in text:
        return None
    try:
        return autopykota_balance(split_command(text[len("external(") : -1]))
    except (ValueError, InvalidInput):
        return None


def _run_autopykota(store: Store, facts: JobFacts, balance: Decimal, msgs: Messages) -> str:
    """Create the account; "" when done, else why not (the job is then refused
    by the policy, as when autopykota failed)."""
    from pagetally.errors import PageTallyError
    from pagetally.storage.autoaccount import ensure_account

    try:
        done = ensure_account(store, facts.user, facts.printer, balance)
    except StoreUnavailable:
        raise
    except PageTallyError as e:
        return f"autopykota: {e}"
    if done.create_user:
        msgs.debug(f"PageTally: autopykota created {facts.user} with balance {balance}")
    return ""


def duplicate_refusal(
    store: Store | None,
    config: Config,
    facts: JobFacts,
    now: datetime,
    env: Mapping[str, str] | None = None,
) -> Decision | None:
    """`denyduplicates`: a refusal when this job's content equals the same user's
    previous job on this printer, within `duplicatesdelay` seconds (0: any time).
    The store being down is left to the decision step."""
    from pagetally.storage.base import HistoryFilter

    if store is None or not facts.sha256 or not config.get("denyduplicates", facts.printer):
        return None
    try:
        last = next(
            iter(
                store.history(
                    HistoryFilter(
                        user=facts.user, printer=facts.printer, newest_first=True, limit=1
                    )
                )
            ),
            None,
        )
    except StoreUnavailable:
        return None
    if last is None or last.sha256 != facts.sha256:
        return None
    if (last.job_id, last.job_uuid) == (facts.job_id, facts.job_uuid):
        return None  # an earlier attempt at this very job (CUPS' retry), not a duplicate
    delay = config.get("duplicatesdelay", facts.printer)
    age = (now - last.date).total_seconds()
    if delay > 0 and age >= delay:
        return None
    when = last.date.strftime("%Y-%m-%d %H:%M:%S UTC")
    window = f" within {delay} s" if delay > 0 else ""
    setting = config.get("denyduplicates", facts.printer)
    if isinstance(setting, str):  # PyKota's command form: its answer decides
        answer = duplicates_command(setting, env or {})
        if answer is None:
            return None
        return Decision(
            Action.DENY,
            f"duplicate job: {answer} (the same document as your "
            f"previous job on {facts.printer}, {when})",
            pages=0,
            code="duplicate",
        )
    return Decision(
        Action.DENY,
        f"duplicate job: the same document as your previous job "
        f"on {facts.printer} ({when}){window}",
        pages=0,
        code="duplicate",
    )


def duplicates_command(command: str, env: Mapping[str, str]) -> str | None:
    """Run `denyduplicates: COMMAND` for a job that is a duplicate, with the
    job's PYKOTA* variables, as PyKota did: standard output `DENY` refuses, any
    other answer lets the duplicate print. None: allowed; else why refused. A
    command that cannot run, fails or times out refuses (as `yes` would)."""
    from pagetally.notify.process import run_command

    result = run_command(command, env)
    if result.error or result.returncode != 0:
        return (
            f"the denyduplicates command failed "
            f"({result.error or f'exit {result.returncode}'}), so it is refused as with "
            "'yes'"
        )
    answer = result.stdout.decode("utf-8", "replace").strip().upper()
    return "refused by the site's denyduplicates command" if answer == "DENY" else None


def create_billing_code(store: Store, code: str, msgs: Messages) -> None:
    """unknown_billingcode: create (the rules allowed it): the code appears now."""
    from pagetally.core.models import BillingCode
    from pagetally.errors import AlreadyExists

    try:
        store.add_billing_code(BillingCode(code, description="created by a job"))
        msgs.info(f"PageTally: billing code {code} created")
    except AlreadyExists:
        pass  # another job created it meanwhile


def store_down_decision(config: Config, facts: JobFacts) -> Decision:
    """Fail closed unless `onstoreerror: allow`: then the job prints and its
    charge is journaled, priced when the journal is replayed."""
    from pagetally.storage.journal import STORE_DOWN

    policy = config.get_str("onstoreerror", facts.printer)
    if policy == "allow":
        return Decision(
            Action.ALLOW,
            "the accounting store is unreachable: allowed by policy, charged later",
            pages=facts.pages,
            code=STORE_DOWN,
        )
    return Decision(
        Action.DENY,
        "the accounting store is unreachable: printing is refused until it is back",
        code=STORE_DOWN,
    )
