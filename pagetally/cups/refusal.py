"""A refused job: its deny banner (bounded by `maxdenybanners`), its row in the
history, mail and prehook, and the reason told to cupsd — then it is cancelled,
and the queue goes on."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from pagetally.core.models import AccountSnapshot, Action, ChargeRequest, Decision, JobFacts
from pagetally.cups.banners import banner_rules, deny_banner, write_banner
from pagetally.cups.charging import elapsed_ms
from pagetally.cups.printing import send
from pagetally.cups.status import Messages, Outcome, exit_for
from pagetally.errors import PageTallyError, StoreUnavailable

if TYPE_CHECKING:
    from pagetally.cups.dialogs import Dialogs
    from pagetally.cups.sitecommands import Teller
    from pagetally.storage.base import PrintJobStore as Store  # the print job's role


@dataclasses.dataclass(frozen=True)
class Refusing:
    """What telling about a refused job needs beyond the job itself."""

    msgs: Messages
    teller: Teller | None  # None: refused before the job's facts were told to anyone
    snapshot: AccountSnapshot | None
    environ: Mapping[str, str]
    inherit_channels: bool
    dialogs: Dialogs | None = None  # the user's pagetally-client: told, answers kept
    # `time.monotonic()` when the backend began the job: the time until the
    # refusal is recorded is kept with the job (/metrics' backend time)
    started: float | None = None


def refuse(
    how: Refusing,
    store: Store | None,
    facts: JobFacts,
    decision: Decision,
    now: datetime,
    *,
    banner: bool = True,
) -> int:
    """Record the refused job, tell why, and cancel it (the queue goes on).
    `banner`: a deny banner may be printed (not for a failed authentication,
    nor for a job the user cancelled)."""
    refused = dataclasses.replace(
        decision,
        action=Action.DENY if decision.action is not Action.CANCEL else Action.CANCEL,
        pages=0,
        price=decision.price * 0,
    )
    printed = banner and print_deny_banner(how, store, facts, decision, now)
    if store is not None:
        with contextlib.suppress(StoreUnavailable):
            store.charge(
                ChargeRequest(
                    facts=facts,
                    decision=refused,
                    date=now,
                    precomputed_pages=facts.pages,
                    precomputed_price=decision.price,
                    deny_banner=printed,
                    backend_ms=elapsed_ms(how.started),
                )
            )
    if how.dialogs is not None:
        from pagetally.cups.dialogs import record

        record(store, facts, how.dialogs, now)
        how.dialogs.refused(facts, decision)
    if how.teller is not None:
        how.teller.mail(refused, facts, how.snapshot)
        how.teller.hook("prehook", facts, how.snapshot, refused)
    # the job's owner sees why (a reason may name a balance): on the job, never
    # on the printer's state; cupsd's error_log keeps it with the job's id
    how.msgs.job(f"PageTally refused the job: {decision.reason}")
    return exit_for(Outcome.REFUSED)


def print_deny_banner(
    how: Refusing, store: Store | None, facts: JobFacts, decision: Decision, now: datetime
) -> bool:
    """A refused job's deny banner, through the real backend alone; True when it
    was printed (the store then counts it against maxdenybanners)."""
    teller = how.teller
    if teller is None:
        return False
    config, ticket = teller.config, teller.ticket
    rules = banner_rules(lambda name: config.get(name, facts.printer))
    if rules.starting is None or rules.max_deny_banners <= 0:
        return False
    snapshot = how.snapshot
    if snapshot is None and store is not None:  # refused before the decision
        with contextlib.suppress(StoreUnavailable):
            snapshot = store.snapshot(facts.user, facts.printer, facts.billing_code)
    quota = snapshot.user_quotas.get(facts.printer) if snapshot else None
    data = deny_banner(
        rules,
        facts,
        decision,
        quota,
        now=now,
        job_env=teller.job_env(facts, snapshot, decision),
        base_env=how.environ,
        log=how.msgs.info,
    )
    if data is None:
        return False
    path = write_banner(data, ticket.tmpdir)
    try:
        run = send(ticket, path, how.msgs, inherit_channels=how.inherit_channels, on_stdin=True)
    except PageTallyError as e:
        how.msgs.error(f"PageTally: the deny banner could not be sent: {e}")
        return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    return run.exit_code == 0
