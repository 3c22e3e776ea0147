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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from pagetally.core.models import (
    AccountSnapshot,
    Action,
    ChargeRequest,
    Decision,
    DecisionCode,
    JobFacts,
)
from pagetally.core.usernames import normalise_user
from pagetally.cups.accounting import Accounter, Counted, HardwareCounting, parse_accounter
from pagetally.cups.banners import (
    JobBanners,
    banner_rules,
    compose,
    deny_banner,
    plan_banners,
    write_banner,
)
from pagetally.cups.realbackend import BackendRun, run_real_backend
from pagetally.cups.spool import Spooled, spool_file, spool_stream
from pagetally.cups.status import BackendExit, Messages
from pagetally.cups.tell import Teller
from pagetally.cups.ticket import SCHEME, JobTicket, parse_ticket
from pagetally.errors import (
    ConfigError,
    DeviceError,
    InvalidInput,
    PageTallyError,
    PdlError,
    StorageError,
    StoreUnavailable,
)

if TYPE_CHECKING:
    from pagetally.config import Config
    from pagetally.storage.base import Store
    from pagetally.storage.journal import Journal

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
    cups_channels: bool = False  # fds 3 and 4 come from cupsd (see realbackend)

    @classmethod
    def from_process(cls, config_path: str | None = None) -> BackendEnv:
        return cls(sys.argv, dict(os.environ), sys.stdin.buffer, sys.stderr,
                   config_path=config_path, cups_channels=True)


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
        return BackendExit.OK
    job = Job(env, msgs)
    try:
        return job.run()
    except ConfigError as e:
        # no accounting is possible: stop the queue, keep the job, tell the admin
        msgs.error(f"PageTally configuration error: {e}")
        return BackendExit.STOP
    except InvalidInput as e:
        msgs.error(f"PageTally: {e}")
        return BackendExit.FAILED
    except PageTallyError as e:
        msgs.error(f"PageTally: {e}")
        return BackendExit.FAILED
    except Exception as e:  # the last resort: one line to cupsd, the rest to syslog
        _log_crash(env)
        job.report_crash(e)
        msgs.error(f"PageTally internal error ({type(e).__name__}); details in the system log")
        return BackendExit.FAILED


def _log_crash(env: BackendEnv) -> None:
    import logging.handlers

    try:
        handler = logging.handlers.SysLogHandler(address="/dev/log")
        log.addHandler(handler)
    except OSError:
        pass
    log.exception("pagetally backend crashed; argv=%r", list(env.argv[:5]))


class Job:
    """One job's run. Attributes fill in as the steps go."""

    def __init__(self, env: BackendEnv, msgs: Messages) -> None:
        self.env = env
        self.msgs = msgs
        self.teller: Teller | None = None
        self.snapshot: AccountSnapshot | None = None
        self.config: Config | None = None
        self.facts: JobFacts | None = None
        self.send_path: str | None = None  # job data with its banners, when it has some

    def report_crash(self, error: BaseException) -> None:
        """Mail the admin (crashrecipient, off by default) the job's facts and the
        traceback, never the job's content. Never raises."""
        import traceback

        if self.config is None:
            return
        try:
            from pagetally.notify.mail import MailSettings, send_crash_report

            send_crash_report(
                self.config.get("crashrecipient"), MailSettings.from_config(self.config),
                error, traceback.format_exc(), self.facts,
                privacy=bool(self.config.get("privacy")), where="CUPS backend",
            )
        except Exception:  # a crash report must not crash the crash handling
            log.exception("cannot send the crash report")

    def run(self) -> int:
        from pagetally.config import load_config

        ticket = parse_ticket(self.env.argv, self.env.environ)
        config = self.config = load_config(self.env.config_path, self.env.environ)
        printer = ticket.printer
        user = normalise_user(
            ticket.user,
            case=str(config.get("usernamecase", printer)),
            winbind_separator=config.get("winbind_separator", printer),
        )
        if config.get("utolower", printer):
            user = user.lower()
        spooled = self._spool(ticket)
        try:
            return self._account(ticket, config, user, spooled)
        finally:
            if self.send_path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self.send_path)
            if not config.get("keepfiles", printer):
                spooled.remove()

    # --- step 1 ------------------------------------------------------------
    def _spool(self, ticket: JobTicket) -> Spooled:
        if ticket.file:
            return spool_file(ticket.file)
        return spool_stream(self.env.stdin, ticket.tmpdir)

    # --- steps 2-7 -----------------------------------------------------------
    def _account(self, ticket: JobTicket, config: Config, user: str, spooled: Spooled) -> int:
        from pagetally.core.pricing import job_price

        msgs, now = self.msgs, self.env.now()
        rules = config.rule_settings(ticket.printer)
        store = self._open_store(config)
        # what a crash report would say, until the full facts are known
        self.facts = JobFacts(user=user, printer=ticket.printer, pages=0,
                              job_id=ticket.job_id, title=ticket.title,
                              host=ticket.host or None, size_bytes=spooled.size)
        pages, color_pages, problem = self._analyse(spooled, ticket)
        facts = JobFacts(
            user=user,
            printer=ticket.printer,
            pages=pages,
            color_pages=color_pages,
            copies=ticket.copies,
            billing_code=ticket.billing_code,
            host=ticket.host or None,
            title="" if config.get("privacy") else ticket.title,
            filename="" if config.get("privacy") else ticket.options.get(
                "document-name-supplied", ""),
            size_bytes=spooled.size,
            sha256=spooled.sha256,
            options="" if config.get("privacy") else _options_text(ticket),
            job_id=ticket.job_id,
            job_uuid=ticket.uuid,
        )
        self.facts = facts
        teller = self.teller = Teller(config, ticket, spooled.path, msgs, self.env.environ)
        facts, refusal = teller.rewrite_ticket(facts)
        if refusal is not None:
            return self._refuse(store, facts, refusal, now)
        user = facts.user
        accounter = parse_accounter(str(config.get("accounter", ticket.printer)))
        on_error = str(config.get("onaccountererror", ticket.printer))
        if problem and accounter.kind in ("software", "ink") and on_error == "stop":
            unreadable = Decision(Action.DENY, problem, pages=0, code="unreadable_job")
            return self._refuse(store, facts, unreadable, now)

        duplicate = self._duplicate(store, config, facts, now)
        if duplicate is not None:
            return self._refuse(store, facts, duplicate, now)
        store, decision, snapshot = self._decide(store, config, ticket, facts, now)
        self.snapshot = snapshot
        if not decision.allowed:
            return self._refuse(store, facts, decision, now)

        teller.mail(decision, facts, snapshot)
        teller.hook("prehook", facts, snapshot, decision, precomputed_pages=pages,
                    precomputed_price=decision.price)
        msgs.info(f"PageTally: {decision.reason or 'allowed'}; printing {pages} page(s)")
        banners = self._banners(store, config, facts, decision, now)
        if banners.any:
            self.send_path = compose(spooled.path, banners, ticket.tmpdir)
        outcome = self._print(ticket, spooled, accounter, config)
        if isinstance(outcome, BackendExit):
            return outcome  # the counter could not be read: queue stopped, job kept
        run, counted = outcome
        # the printer's own count includes the banners; the software count adds
        # the charged ones (accountbanner), one page each
        final_pages = pages + banners.charged if counted.pages is None else counted.pages
        if counted.note:
            msgs.info(f"PageTally: {counted.note}")
        failed = run.cancelled or run.exit_code != 0
        nocharge = str(config.get("onbackenderror", ticket.printer)).startswith("nocharge")
        if failed and nocharge and counted.pages is None:
            what = ("the job was cancelled while printing" if run.cancelled
                    else f"the real backend failed (exit {run.exit_code})")
            final = dataclasses.replace(
                decision,
                action=Action.CANCEL if run.cancelled else Action.PROBLEM,
                reason=f"{what}; not charged (onbackenderror: nocharge)",
                price=decision.price * 0,
                pages=0,
            )
        else:
            final = decision
            if decision.pages and final_pages != pages and store is not None:
                counted_facts = dataclasses.replace(facts, pages=final_pages)
                snap = store.snapshot(user, ticket.printer, ticket.billing_code)
                price = job_price(snap.printers, counted_facts, rules, snap.user)
                final = dataclasses.replace(decision, price=price, pages=final_pages)
            if run.cancelled:
                final = dataclasses.replace(
                    final, action=Action.CANCEL,
                    reason="the job was cancelled while printing; charged what printed")
        request = ChargeRequest(
            facts=dataclasses.replace(facts, pages=final_pages),
            decision=final,
            date=now,
            printer_counter=counted.before,
            precomputed_pages=pages,
            precomputed_price=decision.price,
        )
        self._charge(store, config, request)
        if final.pages:
            msgs.page(final.pages)
        teller.hook("posthook", request.facts, snapshot, final, precomputed_pages=pages,
                    precomputed_price=decision.price, job_pages=final.pages,
                    job_price=final.price, status=str(run.exit_code))
        if run.exit_code < 0:  # the real backend died of a signal (e.g. a cancel)
            return BackendExit.FAILED
        return run.exit_code  # cancelled or not, the real backend's own verdict

    def _banners(self, store: Store | None, config: Config, facts: JobFacts,
                 decision: Decision, now: datetime) -> JobBanners:
        """startingbanner / endingbanner for an allowed job (see cups/banners.py)."""
        from pagetally.storage.base import HistoryFilter

        rules = banner_rules(lambda name: config.get(name, facts.printer))
        if (rules.starting is None and rules.ending is None) or self.teller is None:
            return JobBanners()
        last_job = None
        if rules.avoid_duplicates is not None and store is not None:
            with contextlib.suppress(StoreUnavailable):
                last_job = next(iter(store.history(HistoryFilter(
                    printer=facts.printer, newest_first=True, limit=1))), None)
        return plan_banners(rules, facts, decision.action, last_job=last_job, now=now,
                            job_env=self.teller.job_env(facts, self.snapshot, decision),
                            base_env=self.env.environ, log=self.msgs.error)

    def _print_deny_banner(self, store: Store | None, facts: JobFacts, decision: Decision,
                           now: datetime) -> bool:
        """A refused job's deny banner, through the real backend alone; True when
        it was printed (the store then counts it against maxdenybanners)."""
        if self.teller is None or self.config is None:
            return False
        config, ticket = self.config, self.teller.ticket
        rules = banner_rules(lambda name: config.get(name, facts.printer))
        if rules.starting is None or rules.max_deny_banners <= 0:
            return False
        snapshot = self.snapshot
        if snapshot is None and store is not None:  # refused before the decision
            with contextlib.suppress(StoreUnavailable):
                snapshot = store.snapshot(facts.user, facts.printer, facts.billing_code)
        quota = snapshot.user_quotas.get(facts.printer) if snapshot else None
        data = deny_banner(rules, facts, decision, quota, now=now,
                           job_env=self.teller.job_env(facts, snapshot, decision),
                           base_env=self.env.environ, log=self.msgs.info)
        if data is None:
            return False
        self.send_path = write_banner(data, ticket.tmpdir)
        try:
            run = run_real_backend(dataclasses.replace(ticket, file=None), self.send_path,
                                   self.msgs.relay, inherit_channels=self.env.cups_channels)
        except PageTallyError as e:
            self.msgs.error(f"PageTally: the deny banner could not be sent: {e}")
            return False
        return run.exit_code == 0

    def _run_device(self, ticket: JobTicket, spooled: Spooled) -> BackendRun:
        if self.send_path is not None:  # banners and job, on the real backend's stdin
            ticket = dataclasses.replace(ticket, file=None)
            return run_real_backend(ticket, self.send_path, self.msgs.relay,
                                    inherit_channels=self.env.cups_channels)
        return run_real_backend(ticket, spooled.path, self.msgs.relay,
                                inherit_channels=self.env.cups_channels)

    def _print(
        self, ticket: JobTicket, spooled: Spooled, accounter: Accounter, config: Config
    ) -> tuple[BackendRun, Counted] | BackendExit:
        """Step 5: the real backend, with the printer's counters read around it
        (hardware) or its own report taken (ipp). A counter that cannot be read
        before the job stops the queue (onaccountererror: stop) or falls back to
        the software count (continue); after the job, the software count is used."""
        msgs, printer = self.msgs, ticket.printer
        if accounter.kind == "ipp":
            run = self._run_device(ticket, spooled)
            if run.page_total:
                return run, Counted(run.page_total, note="pages as counted by the printer")
            return run, Counted(None, note="the printer reported no page count: "
                                "charged the software count")
        if accounter.kind != "hardware":
            return self._run_device(ticket, spooled), Counted(None)
        hw = HardwareCounting(
            accounter.arg, ticket.device_uri,
            Path(str(config.get("directory"))) / "locks",
            lambda name: config.get(name, printer), msgs.info,
        )
        with hw.lock():
            try:
                hw.read_before()
            except DeviceError as e:
                if str(config.get("onaccountererror", printer)) == "stop":
                    msgs.error(f"PageTally: cannot read the printer's counter: {e}; "
                               "queue stopped, job kept")
                    return BackendExit.STOP
                msgs.error(f"PageTally: cannot read the printer's counter: {e}; "
                           "charging the software count")
                return self._run_device(ticket, spooled), Counted(None)
            run = self._run_device(ticket, spooled)
            try:
                return run, hw.read_after(job_sent=run.exit_code == 0)
            except DeviceError as e:
                return run, Counted(None, hw.before, f"cannot read the printer's counter "
                                    f"after the job ({e}): charged the software count")

    def _decide(
        self, store: Store | None, config: Config, ticket: JobTicket, facts: JobFacts,
        now: datetime,
    ) -> tuple[Store | None, Decision, AccountSnapshot | None]:
        """Step 4: the store (None once it proved unreachable), the decision, and
        what it was decided on (None when the store could not be read)."""
        from pagetally.core.decision import decide

        if store is not None:
            try:
                self._replay_journal(store, config)
                snapshot = store.snapshot(facts.user, facts.printer, facts.billing_code)
                rules = config.rule_settings(facts.printer)
                decision = decide(snapshot, facts, rules, now)
                if decision.code == DecisionCode.POLICY_EXTERNAL and self.teller is not None:
                    # the site's command may create what is missing; then decide again
                    why = self.teller.external_policy(facts)
                    snapshot = store.snapshot(facts.user, facts.printer, facts.billing_code)
                    again = decide(snapshot, facts, rules, now)
                    decision = again if again.code != DecisionCode.POLICY_EXTERNAL else (
                        dataclasses.replace(again, reason=f"{again.reason} ({why})")
                        if why else again)
                if decision.allowed and facts.billing_code and snapshot.billing_code is None:
                    self._create_billing_code(store, facts.billing_code)
                return store, decision, snapshot
            except StoreUnavailable as e:
                self.msgs.error(f"PageTally: the store is unreachable: {e}")
        return None, self._store_down_decision(config, ticket, facts), None

    def _duplicate(self, store: Store | None, config: Config, facts: JobFacts,
                   now: datetime) -> Decision | None:
        """`denyduplicates`: a refusal when this job's content equals the same user's
        previous job on this printer, within `duplicatesdelay` seconds (0: any time).
        The store being down is left to the decision step."""
        from pagetally.storage.base import HistoryFilter

        if store is None or not facts.sha256 or not config.get("denyduplicates", facts.printer):
            return None
        try:
            last = next(iter(store.history(HistoryFilter(
                user=facts.user, printer=facts.printer, newest_first=True, limit=1))), None)
        except StoreUnavailable:
            return None
        if last is None or last.sha256 != facts.sha256:
            return None
        delay = int(str(config.get("duplicatesdelay", facts.printer)))
        age = (now - last.date).total_seconds()
        if delay > 0 and age >= delay:
            return None
        when = last.date.strftime("%Y-%m-%d %H:%M:%S UTC")
        window = f" within {delay} s" if delay > 0 else ""
        return Decision(Action.DENY, f"duplicate job: the same document as your previous job "
                        f"on {facts.printer} ({when}){window}", pages=0, code="duplicate")

    def _analyse(self, spooled: Spooled, ticket: JobTicket) -> tuple[int, int, str]:
        """(pages, colour pages, problem) — copies still to be made downstream counted."""
        from pagetally import pdl

        if spooled.size == 0:
            return 0, 0, "the job is empty"
        try:
            analysis = pdl.analyse(spooled.path)
        except PdlError as e:
            return 0, 0, f"PageTally cannot count this job's pages: {e}"
        factor = ticket.copies_downstream
        return analysis.pages * factor, (analysis.color_pages or 0) * factor, ""

    def _create_billing_code(self, store: Store, code: str) -> None:
        """unknown_billingcode: create (the rules allowed it): the code appears now."""
        from pagetally.core.models import BillingCode
        from pagetally.errors import AlreadyExists

        try:
            store.add_billing_code(BillingCode(code, description="created by a job"))
            self.msgs.info(f"PageTally: billing code {code} created")
        except AlreadyExists:
            pass  # another job created it meanwhile

    def _open_store(self, config: Config) -> Store | None:
        """The accounting service when one listens (no database layer loaded for
        this job), else the store itself; None when that cannot be reached."""
        from typing import cast

        from pagetally.service.client import connect

        remote = connect(str(config.get("accountingservice")))
        if remote is not None:
            return cast("Store", remote)  # RemoteStore has the methods a job uses
        from pagetally.storage import open_store

        try:
            return open_store(config.store_settings())
        except StoreUnavailable as e:
            self.msgs.error(f"PageTally: the store is unreachable: {e}")
            return None

    def _store_down_decision(self, config: Config, ticket: JobTicket,
                             facts: JobFacts) -> Decision:
        """Fail closed unless `onstoreerror: allow`: then the job prints and its
        charge is journaled, priced when the journal is replayed."""
        from pagetally.storage.journal import STORE_DOWN

        policy = str(config.get("onstoreerror", ticket.printer))
        if policy == "allow":
            return Decision(Action.ALLOW, "the accounting store is unreachable: "
                            "allowed by policy, charged later", pages=facts.pages,
                            code=STORE_DOWN)
        return Decision(Action.DENY, "the accounting store is unreachable: printing is "
                        "refused until it is back", code=STORE_DOWN)

    def _replay_journal(self, store: Store, config: Config) -> None:
        journal = _journal(config)
        if journal is not None and journal.pending():
            result = journal.replay(store, config.rule_settings)
            if result.charged or result.already_charged:
                self.msgs.debug(f"PageTally: replayed {result.charged} journaled charge(s)")

    def _charge(self, store: Store | None, config: Config, request: ChargeRequest) -> None:
        """Charge, or journal the charge when the store went away meanwhile."""
        if store is not None:
            try:
                result = store.charge(request)
                if result.already_charged:
                    self.msgs.info("PageTally: this job was charged before; not charged again")
                return
            except StoreUnavailable as e:
                self.msgs.error(f"PageTally: the store went away: {e}")
        journal = _journal(config)
        if journal is None:
            raise StorageError("the store is unreachable and no journal directory is usable")
        journal.write(request)
        self.msgs.info("PageTally: store unreachable, charge kept in the local journal")

    def _refuse(
        self, store: Store | None, facts: JobFacts, decision: Decision, now: datetime
    ) -> int:
        """Record the refused job, tell why, and cancel it (the queue goes on)."""
        refused = dataclasses.replace(
            decision, action=Action.DENY if decision.action is not Action.CANCEL
            else Action.CANCEL, pages=0, price=decision.price * 0,
        )
        printed = self._print_deny_banner(store, facts, decision, now)
        if store is not None:
            with contextlib.suppress(StoreUnavailable):
                store.charge(ChargeRequest(facts=facts, decision=refused, date=now,
                                           precomputed_pages=facts.pages,
                                           precomputed_price=decision.price,
                                           deny_banner=printed))
        if self.teller is not None:
            self.teller.mail(refused, facts, self.snapshot)
            self.teller.hook("prehook", facts, self.snapshot, refused)
        self.msgs.info(f"PageTally refused the job: {decision.reason}")
        self.msgs.error(f"PageTally refused job {facts.job_id} of {facts.user}: "
                        f"{decision.reason}")
        return BackendExit.CANCEL


def _journal(config: Config) -> Journal | None:
    from pagetally.storage.journal import Journal

    return Journal.under(str(config.get("directory")))


def _options_text(ticket: JobTicket) -> str:
    keep = ("number-up", "sides", "media", "page-ranges", "print-color-mode", "copies")
    return " ".join(f"{k}={v}" for k, v in ticket.options.items() if k in keep)
