"""Step 6 of a job: what is finally charged, from the decision and what the
printer (or the real backend) did, and the one charge — or its journal entry
when the store went away meanwhile."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from pagetally.core.models import Action, ChargeRequest, Decision, JobFacts
from pagetally.core.settings import RuleSettings
from pagetally.cups.accounting import Counted
from pagetally.cups.deciding import journal_of
from pagetally.cups.realbackend import BackendRun
from pagetally.cups.status import Messages
from pagetally.errors import StorageError, StoreUnavailable

if TYPE_CHECKING:
    from pagetally.config import Config
    from pagetally.storage.base import Store


def settle(
    store: Store | None, facts: JobFacts, decision: Decision, run: BackendRun,
    counted: Counted, *, final_pages: int, nocharge: bool, rules: RuleSettings,
) -> Decision:
    """The decision as charged: nothing for a failed job under
    `onbackenderror: nocharge` (software count only), else priced again when the
    pages counted differ from the pre-count; a job cancelled while printing is
    recorded CANCEL."""
    from pagetally.core.pricing import job_price

    failed = run.cancelled or run.exit_code != 0
    if failed and nocharge and counted.pages is None:
        what = ("the job was cancelled while printing" if run.cancelled
                else f"the real backend failed (exit {run.exit_code})")
        return dataclasses.replace(
            decision,
            action=Action.CANCEL if run.cancelled else Action.PROBLEM,
            reason=f"{what}; not charged (onbackenderror: nocharge)",
            price=decision.price * 0,
            pages=0,
        )
    final = decision
    if decision.pages and final_pages != facts.pages and store is not None:
        counted_facts = dataclasses.replace(facts, pages=final_pages)
        snap = store.snapshot(facts.user, facts.printer, facts.billing_code)
        price = job_price(snap.printers, counted_facts, rules, snap.user)
        final = dataclasses.replace(decision, price=price, pages=final_pages)
    if run.cancelled:
        final = dataclasses.replace(
            final, action=Action.CANCEL,
            reason="the job was cancelled while printing; charged what printed")
    return final


def charge(store: Store | None, config: Config, request: ChargeRequest,
           msgs: Messages) -> None:
    """Charge, or journal the charge when the store went away meanwhile."""
    if store is not None:
        try:
            result = store.charge(request)
            if result.already_charged:
                msgs.info("PageTally: this job was charged before; not charged again")
            return
        except StoreUnavailable as e:
            msgs.error(f"PageTally: the store went away: {e}")
    journal = journal_of(config)
    if journal is None:
        raise StorageError("the store is unreachable and no journal directory is usable")
    journal.write(request)
    msgs.info("PageTally: store unreachable, charge kept in the local journal")
