"""The CUPS backend wrapper: one job through the seven steps of DESIGN.md.

cupsd runs `pagetally` (installed as $CUPS_SERVERBIN/backend/pagetally) for a queue
whose device URI is `pagetally:<real URI>`. For each job: spool, identify, analyse,
decide, print through the real backend, charge, tell — and exit with CUPS' codes.
A refused job is cancelled (the queue goes on) with its reason as the job's state
message; the store being down follows `onstoreerror`; nothing here ever lets a
traceback reach cupsd's log: every failure is one line and a defined exit code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO, TextIO

from pagetally.core.models import (
    AccountSnapshot,
    Action,
    ChargeRequest,
    ChargeResult,
    Decision,
    JobFacts,
)
from pagetally.core.money import format_money
from pagetally.core.usernames import normalise_user
from pagetally.cups.accounting import Accounter, Counted, parse_accounter
from pagetally.cups.analysing import JobCount, count_job, parse_preaccounter, prices_colour
from pagetally.cups.attempt import PRINTED, Attempt
from pagetally.cups.auth import (
    Credential,
    PrintAuth,
    authenticate,
    printauth_for,
    take_credential,
)
from pagetally.cups.banners import JobBanners, banner_rules, compose, plan_banners
from pagetally.cups.cancel import CancelWatch
from pagetally.cups.charging import charge, settle
from pagetally.cups.counting import parse_backend_error, parse_trust
from pagetally.cups.deciding import charged_before, decide_job, duplicate_refusal, open_store
from pagetally.cups.dialogs import Dialogs, record
from pagetally.cups.joblog import log_crash, one_line_logging
from pagetally.cups.printing import print_job
from pagetally.cups.refusal import Refusing, refuse
from pagetally.cups.sitecommands import Teller
from pagetally.cups.spool import Spooled, spool_file, spool_stream
from pagetally.cups.status import BackendExit, Messages, Outcome, exit_for, real_backend_exit
from pagetally.cups.ticket import SCHEME, JobTicket, parse_ticket, strip_title
from pagetally.errors import (
    ConfigError,
    PageTallyError,
    StoreUnavailable,
)

if TYPE_CHECKING:
    from pagetally.config import Config
    from pagetally.cups.realbackend_process import BackendRun
    from pagetally.storage.base import PrintJobStore as Store  # the print job's role

log = logging.getLogger("pagetally.backend")

DISCOVERY_LINE = f'network {SCHEME} "Unknown" "PageTally accounting wrapper (pagetally:<URI>)"'


@dataclass
class BackendEnv:
    """Everything the backend touches outside itself, injected for tests."""

    argv: Sequence[str]
    environ: Mapping[str, str]
    stdin: BinaryIO
    stderr: TextIO
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    config_path: str | None = None  # else $PAGETALLY_CONFIG, else /etc/pagetally/...
    cups_channels: bool = False  # fds 3 and 4 come from cupsd (see realbackend_process)

    @classmethod
    def from_process(cls, config_path: str | None = None) -> BackendEnv:
        return cls(
            sys.argv,
            dict(os.environ),
            sys.stdin.buffer,
            sys.stderr,
            config_path=config_path,
            cups_channels=True,
        )


def main(config_path: str | None = None) -> None:
    """Entry point of the installed backend executable.

    cupsd gives backends a fixed environment, so `pagetally setup cups` writes the
    config's path into the installed backend script, which passes it here.
    """
    sys.exit(run(BackendEnv.from_process(config_path)))


def run(env: BackendEnv) -> int:
    msgs = Messages(env.stderr)
    if len(env.argv) == 1:
        env.stderr.flush()
        print(DISCOVERY_LINE)
        return exit_for(Outcome.DISCOVERY)
    job = Job(env, msgs)
    with one_line_logging(env.stderr):
        return _run_job(job, env, msgs)


def _run_job(job: Job, env: BackendEnv, msgs: Messages) -> int:
    try:
        return job.run()
    except ConfigError as e:
        # no accounting is possible: stop the queue, keep the job, tell the admin
        msgs.error(f"PageTally configuration error: {e}")
        return exit_for(Outcome.CONFIG_BROKEN)
    except PageTallyError as e:  # InvalidInput among them
        msgs.error(f"PageTally: {e}")
        return exit_for(Outcome.JOB_ERROR)
    except Exception as e:  # the last resort: one line to cupsd, the rest to syslog
        log_crash(env.argv)
        job.report_crash(e)
        msgs.error(f"PageTally internal error ({type(e).__name__}); details in the system log")
        return exit_for(Outcome.CRASHED)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A step refuses the job: `decision` says why; `banner`: a deny banner may
    be printed (not after a failed authentication, nor for the user's own no)."""

    decision: Decision
    banner: bool = True


#: What a step before printing says: None (go on), a Refusal, or an exit code
#: that ends the attempt (the job's record cannot be written).
Stop = Refusal | int | None


@dataclass
class Attempting:
    """What the steps of one attempt share; the steps fill in the rest."""

    ticket: JobTicket
    config: Config
    store: Store | None  # None once it proved unreachable
    spooled: Spooled
    auth: PrintAuth
    credential: Credential | None
    attempt: Attempt
    accounter: Accounter
    pre_form: Accounter
    pre: JobCount
    precounted: int  # the pre-accounter's pages as first counted (hooks, records)
    count_env: dict[str, str]
    facts: JobFacts
    now: datetime
    teller: Teller
    dialogs: Dialogs
    snapshot: AccountSnapshot | None = None
    decided: Decision | None = None
    banners: JobBanners = field(default_factory=JobBanners)

    @property
    def decision(self) -> Decision:
        """The decision (steps after `_decide` only)."""
        if self.decided is None:
            raise RuntimeError("no decision yet: a step runs before _decide")
        return self.decided

    @property
    def currency(self) -> str:
        return self.config.rule_settings(self.ticket.printer).currency


class Job:
    """One job's run. Attributes fill in as the steps go."""

    def __init__(self, env: BackendEnv, msgs: Messages) -> None:
        self.env = env
        self.msgs = msgs
        self.teller: Teller | None = None
        self.dialogs: Dialogs | None = None  # the user's pagetally-client (issue 15)
        self.snapshot: AccountSnapshot | None = None
        self.config: Config | None = None
        self.facts: JobFacts | None = None
        self.send_path: str | None = None  # job data with its banners, when it has some
        self.cancel = CancelWatch()  # installed as the SIGTERM handler by run()
        self.started = time.monotonic()  # the job's backend time is counted from here

    def report_crash(self, error: BaseException) -> None:
        """Mail the admin (crashrecipient, off by default) the job's facts and the
        traceback, never the job's content. Never raises."""
        import traceback

        if self.config is None:
            return
        try:
            from pagetally.notify.mail import MailSettings, send_crash_report

            send_crash_report(
                self.config.get_str_or_none("crashrecipient"),
                MailSettings.from_config(self.config),
                error,
                traceback.format_exc(),
                self.facts,
                privacy=self.config.get_bool("privacy"),
                where="CUPS backend",
            )
        except Exception:  # a crash report must not crash the crash handling
            log.exception("cannot send the crash report")

    def run(self) -> int:
        self.cancel.install()
        try:
            return self._run()
        finally:
            self.cancel.restore()

    def _run(self) -> int:
        from pagetally.config import load_config

        ticket = parse_ticket(self.env.argv, self.env.environ)
        config = self.config = load_config(self.env.config_path, self.env.environ)
        printer = ticket.printer
        here = config.for_printer(printer)
        user = normalise_user(
            ticket.user,
            case=here.get_str("usernamecase"),
            winbind_separator=here.get_str_or_none("winbind_separator"),
        )
        if here.get_bool("utolower"):
            user = user.lower()
        auth = printauth_for(config, printer)
        credential = None
        if auth.needs_credential:  # out of the ticket before anything else sees it
            ticket, credential = take_credential(ticket)
        try:
            spooled = self._spool(ticket)
        except OSError as e:  # a full TMPDIR: nothing was sent, nothing may be lost
            return self._unrecordable(
                config, printer, e, what="spool the job", where=ticket.tmpdir or "TMPDIR"
            )
        try:
            return self._account(ticket, config, user, spooled, auth, credential)
        finally:
            if self.send_path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self.send_path)
            if not here.get_bool("keepfiles"):
                spooled.remove()

    # --- step 1 ------------------------------------------------------------
    def _spool(self, ticket: JobTicket) -> Spooled:
        if ticket.file:
            return spool_file(ticket.file)
        return spool_stream(self.env.stdin, ticket.tmpdir)

    # --- steps 2-7 -----------------------------------------------------------
    def _refusing(self) -> Refusing:
        return Refusing(
            self.msgs,
            self.teller,
            self.snapshot,
            self.env.environ,
            self.env.cups_channels,
            self.dialogs,
            self.started,
        )

    def _account(
        self,
        ticket: JobTicket,
        config: Config,
        user: str,
        spooled: Spooled,
        auth: PrintAuth,
        credential: Credential | None,
    ) -> int:
        msgs = self.msgs
        store = open_store(config, msgs)
        # what a crash report would say, until the full facts are known
        self.facts = JobFacts(
            user=user,
            printer=ticket.printer,
            pages=0,
            job_id=ticket.job_id,
            title=ticket.title,
            host=ticket.host or None,
            size_bytes=spooled.size,
        )
        accounter = parse_accounter(config.get_str("accounter", ticket.printer))
        pre_form = parse_preaccounter(
            parse_accounter(config.get_str("preaccounter", ticket.printer))
        )
        factor, count_env = ticket.copies_downstream, _count_env(ticket, user)
        pre = count_job(spooled.path, spooled.size, factor, pre_form, env=count_env)
        facts = self.facts = pre.onto(_job_facts(ticket, config, user, spooled, pre.pages, 0))
        attempt = Attempt.under(config.get_str("directory"), facts)
        try:
            attempt.acquire(msgs.info)
        except OSError as e:  # no lock, no record: nothing may print
            return self._unrecordable(config, ticket.printer, e)
        try:
            settled = self._settled_before(store, config, facts, attempt)
            if settled is not None:
                return settled
            return self._account_attempt(
                ticket,
                config,
                store,
                user,
                spooled,
                auth,
                credential,
                attempt,
                (accounter, pre_form),
                pre,
            )
        finally:
            attempt.release()

    def _settled_before(
        self, store: Store | None, config: Config, facts: JobFacts, attempt: Attempt
    ) -> int | None:
        """Printed means charged: a job charged by an earlier attempt printed then,
        and is not printed again; one whose earlier attempt printed and was killed
        before its charge is charged now, not printed again. None: print it."""
        msgs = self.msgs
        when = charged_before(store, config, facts)
        if when is not None:
            attempt.forget()
            msgs.info(
                f"PageTally: job {facts.job_id} was printed and charged {when}; not printed again"
            )
            return exit_for(Outcome.SETTLED)
        left = attempt.left()
        if left is not None and left.state == PRINTED:
            charge(store, config, left.request, msgs)
            attempt.forget()
            msgs.info(
                f"PageTally: job {facts.job_id} was printed by an attempt that was "
                "interrupted before its charge: charged now, not printed again"
            )
            return exit_for(Outcome.SETTLED)
        return None

    def _unrecordable(
        self,
        config: Config,
        printer: str,
        error: OSError,
        *,
        what: str = "write the job's record",
        where: str = "",
    ) -> int:
        """The job's record (or its spool copy) cannot be written (a full disk...):
        it must not print uncharged, so it is held or the queue stopped
        (`onjournalerror`)."""
        why = error.strerror or type(error).__name__
        where = where or config.get_str("directory")
        if config.get_str("onjournalerror", printer) == "stop":
            self.msgs.error(
                f"PageTally: cannot {what} under {where} ({why}); queue stopped, job kept"
            )
            return exit_for(Outcome.UNRECORDABLE_STOP)
        self.msgs.error(
            f"PageTally: cannot {what} under {where} ({why}); "
            "job held: release it once there is room (lp -i ID -H resume)"
        )
        return exit_for(Outcome.UNRECORDABLE_HOLD)

    def _account_attempt(
        self,
        ticket: JobTicket,
        config: Config,
        store: Store | None,
        user: str,
        spooled: Spooled,
        auth: PrintAuth,
        credential: Credential | None,
        attempt: Attempt,
        forms: tuple[Accounter, Accounter],
        pre: JobCount,
    ) -> int:
        """Steps 2-7 of an attempt that holds the job's lock: the steps before
        printing in order (`BEFORE_PRINTING`), each going on, refusing the job
        or ending the attempt; a refusal takes the one refusal path (`refuse`);
        then the job is printed and charged."""
        assert self.facts is not None
        teller = self.teller = Teller(config, ticket, spooled.path, self.msgs, self.env.environ)
        dialogs = self.dialogs = Dialogs.from_config(
            config, ticket.printer, self.facts.user, ticket.host
        )
        at = Attempting(
            ticket=ticket,
            config=config,
            store=store,
            spooled=spooled,
            auth=auth,
            credential=credential,
            attempt=attempt,
            accounter=forms[0],
            pre_form=forms[1],
            pre=pre,
            precounted=pre.pages,
            count_env=_count_env(ticket, user),
            facts=self.facts,
            now=self.env.now(),
            teller=teller,
            dialogs=dialogs,
        )
        for step in self.BEFORE_PRINTING:
            stop = step(self, at)
            if isinstance(stop, Refusal):
                return refuse(
                    self._refusing(), at.store, at.facts, stop.decision, at.now, banner=stop.banner
                )
            if stop is not None:
                return stop
        return self._print_and_charge(at)

    # --- the steps before printing: None (go on), a Refusal, or an exit code ---
    def _rewrite_ticket(self, at: Attempting) -> Stop:
        """overwrite_jobticket: the site's command may rename the user, or refuse."""
        at.facts, refusal = at.teller.rewrite_ticket(at.facts)
        at.dialogs.user = at.facts.user  # overwrite_jobticket may have named another
        return None if refusal is None else Refusal(refusal)

    def _authenticate(self, at: Attempting) -> Stop:
        """printauth; no deny banner: it would tell about the claimed user."""
        credential = at.credential
        if credential is None and at.auth.needs_credential:  # "your PIN" in the client
            secret = at.dialogs.pin_secret(at.ticket.printer)
            credential = Credential(secret) if secret else None
        refusal = authenticate(
            at.auth, at.store, at.facts.user, credential, self.msgs, self.env.environ, at.now
        )
        return None if refusal is None else Refusal(refusal, banner=False)

    def _billing_code(self, at: Attempting) -> Stop:
        """ "which billing code?" in the client (clientbillingcode)."""
        code = at.dialogs.billing(at.facts)
        if code is not None:
            at.facts = self.facts = dataclasses.replace(at.facts, billing_code=code)
        return None

    def _readable(self, at: Attempting) -> Stop:
        """A job the pre-accounter could not count: `onaccountererror: stop`
        refuses it when the accounter counts the job itself."""
        on_error = at.config.get_str("onaccountererror", at.ticket.printer)
        if at.pre.problem and at.accounter.kind in ("software", "ink") and on_error == "stop":
            return Refusal(Decision(Action.DENY, at.pre.problem, pages=0, code="unreadable_job"))
        return None

    def _not_duplicate(self, at: Attempting) -> Stop:
        """denyduplicates."""
        duplicate = duplicate_refusal(
            at.store, at.config, at.facts, at.now, at.teller.command_env(at.facts)
        )
        return None if duplicate is None else Refusal(duplicate)

    def _decide(self, at: Attempting) -> Stop:
        """Step 4: core's rules against the store's snapshot; a printer of the
        chain that prices colour pages has the job counted again for colour."""
        at.store, decision, snapshot = decide_job(
            at.store, at.config, at.facts, at.now, self.msgs, at.teller.external_policy
        )
        self.snapshot = at.snapshot = snapshot
        pre = at.pre
        if pre.color_pages is None and not pre.problem and prices_colour(snapshot):
            assert snapshot is not None
            at.pre = pre = count_job(
                at.spooled.path,
                at.spooled.size,
                at.ticket.copies_downstream,
                at.pre_form,
                color=True,
                env=at.count_env,
            )
            at.facts = self.facts = pre.onto(at.facts)
            from pagetally.core.rules import decide

            decision = decide(
                snapshot, at.facts, at.config.rule_settings(at.ticket.printer), at.now
            )
        if pre.note:
            self.msgs.info(f"PageTally: {pre.note}")
        at.decided = decision
        return None if decision.allowed else Refusal(decision)

    def _confirm(self, at: Attempting) -> Stop:
        """ "print it?" in the client (clientconfirm), then askconfirmation; no
        deny banner for the user's own no."""
        decision = at.decision
        price = format_money(decision.price, at.currency)
        declined = at.dialogs.confirm(at.facts, decision, price)
        if declined is not None:  # answered no (or its default is no)
            return Refusal(declined, banner=False)
        at.dialogs.running_low(at.facts, decision)
        if not at.teller.confirm(at.facts, at.snapshot, decision):
            return Refusal(
                Decision(
                    Action.CANCEL,
                    "cancelled by the user (askconfirmation)",
                    price=decision.price,
                    code="user_cancelled",
                ),
                banner=False,
            )
        return None

    def _announce(self, at: Attempting) -> Stop:
        """Mail, prehook, the job's state line and its banners."""
        decision, facts = at.decision, at.facts
        at.teller.mail(decision, facts, at.snapshot)
        at.teller.hook(
            "prehook",
            facts,
            at.snapshot,
            decision,
            precomputed_pages=at.precounted,
            precomputed_price=decision.price,
        )
        # the reason may name a balance or a quota: the job's, not the printer's
        self.msgs.job(
            f"PageTally: {decision.reason or 'allowed'}; printing {at.precounted} page(s)"
        )
        at.banners = self._banners(at.store, at.config, facts, decision, at.now)
        if at.banners.any:
            self.send_path = compose(at.spooled.path, at.banners, at.ticket.tmpdir)
        return None

    def _not_cancelled(self, at: Attempting) -> Stop:
        """Cancelled in CUPS before anything was sent."""
        if not self.cancel.cancelled:
            return None
        return Refusal(
            Decision(
                Action.CANCEL,
                "the job was cancelled before printing",
                price=at.decision.price,
                code="cancelled",
            ),
            banner=False,
        )

    def _begin(self, at: Attempting) -> Stop:
        """The job's record (`printing`): without it nothing may print."""
        try:
            at.attempt.begin(
                ChargeRequest(
                    facts=at.facts,
                    decision=at.decision,
                    date=at.now,
                    precomputed_pages=at.precounted,
                    precomputed_price=at.decision.price,
                )
            )
        except OSError as e:
            return self._unrecordable(at.config, at.ticket.printer, e)
        return None

    BEFORE_PRINTING: tuple[Callable[[Job, Attempting], Stop], ...] = (
        _rewrite_ticket,
        _authenticate,
        _billing_code,
        _readable,
        _not_duplicate,
        _decide,
        _confirm,
        _announce,
        _not_cancelled,
        _begin,
    )

    # --- steps 5-7 ---------------------------------------------------------------
    def _print_and_charge(self, at: Attempting) -> int:
        """Print through the real backend (counters around it), charge what
        printed, tell; the exit code is the real backend's own verdict."""
        outcome = print_job(
            at.ticket,
            self.send_path or at.spooled.path,
            at.accounter,
            at.config,
            self.msgs,
            inherit_channels=self.env.cups_channels,
            composed=self.send_path is not None,
            owner=at.attempt.owner(self.env.config_path),
        )
        if isinstance(outcome, BackendExit):
            at.attempt.forget()
            return outcome  # the counter could not be read: queue stopped, job kept
        run, counted = outcome
        if run.printed:
            at.attempt.printed()
        if self.cancel.cancelled and not run.cancelled:  # while the counter was read
            run = dataclasses.replace(run, cancelled=True)
        final = self._final_count(
            at.spooled,
            at.pre,
            at.pre_form,
            at.accounter,
            counted,
            at.ticket.copies_downstream,
            at.count_env,
            at.banners.charged,
            at.config,
        ).onto(at.facts)
        if counted.note:
            self.msgs.info(f"PageTally: {counted.note}")
        printer = at.ticket.printer
        nocharge = not parse_backend_error(at.config.get_str("onbackenderror", printer)).charge
        charged = settle(
            at.snapshot,
            at.facts,
            at.decision,
            run,
            counted,
            final=final,
            nocharge=nocharge,
            rules=at.config.rule_settings(printer),
        )
        request = ChargeRequest(
            facts=final,
            decision=charged,
            date=at.now,
            printer_counter=counted.before,
            precomputed_pages=at.precounted,
            precomputed_price=at.decision.price,
        )
        result = charge(at.store, at.config, request, self.msgs, started=self.started)
        at.attempt.forget()  # settled: in the store, or in the journal
        record(at.store, final, at.dialogs, at.now)
        self._tell_charged(at, run, request, result)
        # cancelled or not, the real backend's own verdict (killed after it had
        # sent the whole job: printed)
        return real_backend_exit(run.exit_code, delivered=run.delivered)

    def _tell_charged(
        self, at: Attempting, run: BackendRun, request: ChargeRequest, result: ChargeResult | None
    ) -> None:
        """The pages to cupsd, the job's state line and the client's notice, the
        posthook."""
        charged = request.decision
        if charged.pages:
            self.msgs.page(charged.pages)
        if run.exit_code == 0 and not run.cancelled:  # what `lpstat -l` keeps of the job
            price = format_money(charged.price, at.currency)
            self.msgs.job(f"PageTally: printed {charged.pages} page(s), {price}")
            after = result.balance_after if result is not None else None
            at.dialogs.printed(
                request.facts,
                charged.pages,
                price,
                None if after is None else format_money(after, at.currency),
            )
        at.teller.hook(
            "posthook",
            request.facts,
            at.snapshot,
            charged,
            precomputed_pages=at.precounted,
            precomputed_price=at.decision.price,
            job_pages=charged.pages,
            job_price=charged.price,
            status=str(run.exit_code),
        )

    def _final_count(
        self,
        spooled: Spooled,
        pre: JobCount,
        pre_form: Accounter,
        accounter: Accounter,
        counted: Counted,
        factor: int,
        env: Mapping[str, str],
        banners: int,
        config: Config,
    ) -> JobCount:
        """What the `accounter` counted: the printer's count (hardware, ipp: banners
        included), else the job counted again when the accounter differs from the
        pre-accounter, else the pre-count — plus the charged banners (accountbanner,
        one page each) — then `trustjobsize`."""
        if counted.pages is not None:
            final = dataclasses.replace(pre, pages=counted.pages)
        else:
            final = pre
            if accounter.kind in ("software", "ink") and accounter != pre_form:
                again = count_job(
                    spooled.path,
                    spooled.size,
                    factor,
                    accounter,
                    color=pre.color_pages is not None,
                    env=env,
                )
                if again.problem:
                    self.msgs.warning(f"PageTally: {again.problem}; charging the pre-count")
                else:
                    final = again
            final = dataclasses.replace(final, pages=final.pages + banners)
        printer = self.facts.printer if self.facts is not None else None
        trust = parse_trust(config.get_str("trustjobsize", printer))
        pages, note = trust.apply(final.pages, pre.pages)
        if note:
            self.msgs.info(f"PageTally: {note}")
        return dataclasses.replace(final, pages=pages)

    def _banners(
        self,
        store: Store | None,
        config: Config,
        facts: JobFacts,
        decision: Decision,
        now: datetime,
    ) -> JobBanners:
        """startingbanner / endingbanner for an allowed job (see cups/banners.py)."""
        from pagetally.storage.base import HistoryFilter

        rules = banner_rules(lambda name: config.get(name, facts.printer))
        if (rules.starting is None and rules.ending is None) or self.teller is None:
            return JobBanners()
        last_job = None
        if rules.avoid_duplicates is not None and store is not None:
            with contextlib.suppress(StoreUnavailable):
                last_job = next(
                    iter(
                        store.history(
                            HistoryFilter(printer=facts.printer, newest_first=True, limit=1)
                        )
                    ),
                    None,
                )
        return plan_banners(
            rules,
            facts,
            decision.action,
            last_job=last_job,
            now=now,
            job_env=self.teller.job_env(facts, self.snapshot, decision),
            base_env=self.env.environ,
            log=self.msgs.error,
        )


def _count_env(ticket: JobTicket, user: str) -> dict[str, str]:
    """What a `software(command)` page counter learns of the job (PyKota's names)."""
    return {
        "PYKOTAUSERNAME": user,
        "PYKOTAPRINTERNAME": ticket.printer,
        "PYKOTAJOBID": ticket.job_id,
        "PYKOTACOPIES": str(ticket.copies),
    }


def _job_facts(
    ticket: JobTicket, config: Config, user: str, spooled: Spooled, pages: int, color_pages: int
) -> JobFacts:
    """Step 2's result: who, where, what — without what `privacy` keeps out, and
    under `disablehistory` without the origin host and checksum either (one short
    row per job stays: it is what charges a job retried by CUPS only once)."""
    bare = config.get_bool("disablehistory")
    private = bare or config.get_bool("privacy")
    title = strip_title(ticket.title, config.get_str_or_none("striptitle", ticket.printer))
    return JobFacts(
        user=user,
        printer=ticket.printer,
        pages=pages,
        color_pages=color_pages,
        copies=ticket.copies,
        billing_code=ticket.billing_code,
        host=None if bare else ticket.host or None,
        title="" if private else title,
        filename="" if private else ticket.options.get("document-name-supplied", ""),
        size_bytes=spooled.size,
        sha256="" if bare else spooled.sha256,
        options="" if private else _options_text(ticket),
        job_id=ticket.job_id,
        job_uuid=ticket.uuid,
    )


def _options_text(ticket: JobTicket) -> str:
    keep = ("number-up", "sides", "media", "page-ranges", "print-color-mode", "copies")
    return " ".join(f"{k}={v}" for k, v in ticket.options.items() if k in keep)
