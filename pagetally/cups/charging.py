"""Step 6 of a job: what is finally charged, from the decision and what the
printer (or the real backend) did, and the one charge — or its journal entry
when the store went away meanwhile."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from pagetally.core.models import (
    AccountSnapshot,
    Action,
    ChargeRequest,
    ChargeResult,
    Decision,
    JobFacts,
)
from pagetally.core.settings import RuleSettings
from pagetally.cups.accounting import Counted
from pagetally.cups.deciding import journal_of
from pagetally.cups.realbackend_process import BackendRun
from pagetally.cups.status import Messages
from pagetally.errors import StorageError, StoreUnavailable

if TYPE_CHECKING:
    from pagetally.config import Config
    from pagetally.storage.base import PrintJobStore as Store  # the print job's role


def settle(
    snapshot: AccountSnapshot | None,
    facts: JobFacts,
    decision: Decision,
    run: BackendRun,
    counted: Counted,
    *,
    final: JobFacts,
    nocharge: bool,
    rules: RuleSettings,
) -> Decision:
    """The decision as charged: nothing for a failed job under
    `onbackenderror: nocharge` (software count only), else priced again (on the
    snapshot it was decided on) when what was counted differs from the pre-count:
    pages, colour pages or ink. A job cancelled while printing and still charged
    (the printer's count, or `onbackenderror: charge`) keeps its allowed action —
    only allowed jobs are charged — and says it was cancelled."""
    from pagetally.core.pricing import job_price

    failed = not run.printed
    if failed and nocharge and counted.pages is None:
        what = (
            "the job was cancelled while printing"
            if run.cancelled
            else f"the real backend failed (exit {run.exit_code})"
        )
        return dataclasses.replace(
            decision,
            action=Action.CANCEL if run.cancelled else Action.PROBLEM,
            reason=f"{what}; not charged (onbackenderror: nocharge)",
            price=decision.price * 0,
            pages=0,
        )
    charged = decision
    changed = (final.pages, final.color_pages, final.ink) != (
        facts.pages,
        facts.color_pages,
        facts.ink,
    )
    if decision.pages and changed and snapshot is not None:
        price = job_price(snapshot.printers, final, rules, snapshot.user)
        charged = dataclasses.replace(decision, price=price, pages=final.pages)
    elif decision.pages and changed:
        charged = dataclasses.replace(decision, pages=final.pages)
    if run.delivered:
        charged = dataclasses.replace(
            charged,
            reason=f"the real backend was killed (signal {-run.exit_code}) after "
            "it had sent the whole job; charged",
        )
    elif run.cancelled:
        printed = "what the printer counted" if counted.pages is not None else "the job"
        charged = dataclasses.replace(
            charged, reason=f"the job was cancelled while printing; charged {printed}"
        )
    elif failed:
        charged = dataclasses.replace(
            charged,
            reason=f"the real backend failed (exit {run.exit_code}); charged "
            "(onbackenderror: charge)"
            if counted.pages is None
            else charged.reason,
        )
    return charged


def elapsed_ms(started: float | None) -> int | None:
    """Milliseconds since `started` (`time.monotonic()` when the backend began
    the job; None: not measured), as kept in the job's history row."""
    return None if started is None else max(0, round((time.monotonic() - started) * 1000))


def charge(
    store: Store | None,
    config: Config,
    request: ChargeRequest,
    msgs: Messages,
    *,
    started: float | None = None,
) -> ChargeResult | None:
    """Charge, or journal the charge when the store went away meanwhile (None:
    journaled). `started`: `time.monotonic()` when the backend began the job; the
    time since is kept with the job (/metrics' backend time)."""
    if started is not None:
        request = dataclasses.replace(request, backend_ms=elapsed_ms(started))
    if store is not None:
        try:
            result = store.charge(request)
            if result.already_charged:
                msgs.info("PageTally: this job was charged before; not charged again")
            return result
        except StoreUnavailable as e:
            msgs.warning(f"PageTally: the store went away: {e}")
    journal = journal_of(config)
    if journal is None:
        raise StorageError("the store is unreachable and no journal directory is usable")
    journal.write(request)
    msgs.info("PageTally: store unreachable, charge kept in the local journal")
    return None
