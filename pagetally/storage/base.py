"""The store's contract. The CLI, backend and web talk only to this.

Implemented over SQL (`storage/sql.py`: SQLite, PostgreSQL, MariaDB) and later
LDAP. Every method is its own unit of work: it commits whole or not at all.
Names are exact or, where a method takes `patterns`, shell-style wildcards
(`fnmatch`: `*`, `?`, `[a-z]`), as PyKota's tools accepted.

Errors: `NotFound`, `AlreadyExists`, `ReadOnlyStore`, `StoreUnavailable`,
`InvalidInput`/`InvalidAmount`, `PrinterGroupCycle` (see `pagetally.errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pagetally.core.dialogs import Answer
from pagetally.core.invoices import RefundReceipt
from pagetally.core.models import (
    AccountSnapshot,
    Allowance,
    BillingCode,
    ChargeRequest,
    ChargeResult,
    Decision,
    Group,
    GroupQuota,
    JobFacts,
    JobRecord,
    LimitBy,
    Payment,
    PriceTable,
    Printer,
    User,
    UserQuota,
)
from pagetally.core.refundrequests import RefundRequest, RequestState, WebRefund
from pagetally.core.refunds import Refund, RefundResult
from pagetally.core.settings import StoreSettings as StoreSettings  # built by config
from pagetally.core.tokens import ApiToken, TokenRole

if TYPE_CHECKING:
    from pagetally.storage.reports import QuotaReport
    from pagetally.storage.webqueries import (
        BackendTimes,
        DayUsage,
        JobPage,
        JobQuery,
        JobTotal,
        PrintedSums,
        Refusals,
        UsageTotal,
        UserStatus,
    )


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Which jobs to read; every field narrows, None means any.

    `since` is inclusive, `until` exclusive. `newest_first` orders by date.
    """

    user: str | None = None
    printer: str | None = None
    host: str | None = None
    billing_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None
    newest_first: bool = False
    # (printer, CUPS job id, host, job UUID): the job's charge, if it was charged
    # (only a charge takes the job's own identity; attempts are keyed apart)
    charge_of: tuple[str, str, str, str] | None = None


class JobReads(Protocol):
    """The reads a print job makes, which reports make too."""

    def get_user(self, name: str) -> User: ...
    def get_user_pin_hash(self, name: str) -> str | None:
        """The user's print-time PIN as its salted hash (core/pins.py); None when
        none is set. NotFound for an unknown user. Only the backend's check and
        the CLI use it: the hash is never part of `User`."""

    def get_printer(self, name: str) -> Printer: ...
    def get_user_quota(self, user: str, printer: str) -> UserQuota: ...
    def groups_of(self, user: str) -> list[Group]: ...
    def printer_chain(self, printer: str) -> list[Printer]:
        """The printer, then every printer group above it (each once, nearest first)."""

    def get_billing_code(self, code: str) -> BillingCode: ...
    def snapshot(self, user: str, printer: str, billing_code: str | None = None) -> AccountSnapshot:
        """Read everything the decision needs; missing things come back as None."""

    def history(self, flt: HistoryFilter = HistoryFilter()) -> Iterator[JobRecord]: ...


class PrintJobStore(JobReads, Protocol):
    """What a print job needs: its reads, the charge, and what a job may create
    (a user, printer, quota entry or billing code a site's policy adds on the fly).
    The SQL store and the accounting service's RemoteStore implement it; the
    print path (cups/) is typed against it."""

    readonly: bool

    def close(self) -> None: ...
    def add_user(self, user: User, *, opening: str = "") -> User:
        """Create `user`. `opening`: the description of a credit payment recording
        the user's starting balance, written in the same unit of work (none when
        empty or the balance is zero), so that a user's payments add up to the
        balance they were given."""
        ...

    def add_printer(self, printer: Printer) -> Printer: ...
    def set_user_quota(
        self,
        user: str,
        printer: str,
        *,
        soft_limit: int | None = None,
        hard_limit: int | None = None,
        max_job_size: int | None = None,
    ) -> UserQuota:
        """Create or replace the limits of a user's entry on a printer (counters kept)."""

    def add_billing_code(self, code: BillingCode) -> BillingCode: ...
    def charge(self, request: ChargeRequest) -> ChargeResult:
        """One transaction: counters (printer and every group above it), balances,
        billing code, grace deadlines, warn count, history row. Idempotent on the
        job's identity (printer, job_id, host, job_uuid): see ChargeResult."""


class AnswerStore(Protocol):
    """Print-time answers (issue 15, pagetally-client): kept beside the job's
    history row. Not (yet) part of `Store`: a store without it keeps no answers,
    the backend goes on (cups/dialogs.record)."""

    def record_job_answers(self, facts: JobFacts, answers: Sequence[Answer], date: datetime) -> int:
        """Keep `answers` with the job `facts` names (a PIN never: "given" or "")."""

    def job_answers(self, printer: str, job_id: str) -> list[Answer]:
        """The answers kept for CUPS job `job_id` on `printer`, oldest first."""


class ReportStore(JobReads, Protocol):
    """What reports read (repykota, dumpykota, history, the web pages)."""

    def find_users(self, patterns: Sequence[str] = ("*",)) -> list[User]: ...
    def payments(self, user: str | None = None) -> list[Payment]: ...
    def get_group(self, name: str) -> Group: ...
    def find_groups(self, patterns: Sequence[str] = ("*",)) -> list[Group]: ...
    def members(self, group: str) -> list[User]: ...
    def group_balance(self, group: str) -> tuple[Decimal, Decimal]:
        """(balance, lifetime_paid) summed over the group's members."""

    def find_printers(self, patterns: Sequence[str] = ("*",)) -> list[Printer]: ...
    def printer_group_members(self, group: str) -> list[Printer]: ...
    def get_group_quota(self, group: str, printer: str) -> GroupQuota: ...
    def user_quotas(
        self, printers: Sequence[str] = ("*",), users: Sequence[str] = ("*",)
    ) -> list[UserQuota]: ...
    def group_quotas(
        self, printers: Sequence[str] = ("*",), groups: Sequence[str] = ("*",)
    ) -> list[GroupQuota]: ...
    def find_billing_codes(self, patterns: Sequence[str] = ("*",)) -> list[BillingCode]: ...
    def get_job(self, row_id: int) -> JobRecord:
        """One history row by its id (the `id` of `pagetally history`); NotFound."""

    def jobs_by_job_id(self, job_id: str, printer: str) -> list[JobRecord]:
        """The history rows of CUPS job `job_id` on `printer`, oldest first (CUPS
        reuses ids, and other hosts have their own: there may be several)."""

    def allowances(self) -> list[Allowance]: ...


class AdminStore(PrintJobStore, ReportStore, Protocol):
    """What admin tools change (the CLI, PyKota's aliases, the web's admin pages);
    they read and record jobs as well."""

    def upgrade(self) -> None:
        """Create or migrate the schema to this version (`pagetally db upgrade`)."""

    def edit_user(
        self,
        name: str,
        *,
        limit_by: LimitBy | None = None,
        overcharge: Decimal | None = None,
        email: str | None = None,
        description: str | None = None,
    ) -> User: ...
    def delete_user(self, name: str) -> None:
        """Delete a user and their quota entries; their history rows are kept."""

    def set_user_pin_hash(self, name: str, pin_hash: str | None) -> None:
        """Set (a hash from core/pins.hash_pin) or clear (None) the user's PIN."""

    def add_payment(self, payment: Payment) -> User:
        """Credit (or with a negative amount, debit) a user; returns the new user.

        CREDIT raises lifetime_paid too (PyKota); FREE only the balance; REFUND
        and DEBIT lower or raise the balance by the signed amount. Recorded in
        payments with its date and description.
        """

    def add_group(self, group: Group) -> Group: ...
    def edit_group(
        self, name: str, *, limit_by: LimitBy | None = None, description: str | None = None
    ) -> Group: ...
    def delete_group(self, name: str) -> None: ...
    def add_members(self, group: str, users: Sequence[str]) -> None: ...
    def remove_members(self, group: str, users: Sequence[str]) -> None: ...
    def edit_printer(
        self,
        name: str,
        *,
        prices: PriceTable | None = None,
        max_job_size: int | None = None,
        clear_max_job_size: bool = False,
        passthrough: bool | None = None,
        description: str | None = None,
    ) -> Printer: ...
    def delete_printer(self, name: str) -> None: ...
    def add_to_printer_group(self, group: str, printers: Sequence[str]) -> None:
        """Raises PrinterGroupCycle when a group would end up inside itself."""

    def remove_from_printer_group(self, group: str, printers: Sequence[str]) -> None: ...

    # --- bulk (one transaction each: the command line's many-name edits) ---
    def add_users(self, new: Sequence[User], *, opening: str = "") -> int:
        """Create many users at once (all or none); AlreadyExists if one exists.
        `opening`: as for add_user, a payment for each starting balance."""

    def set_quotas(
        self,
        entries: Sequence[tuple[str, str, int | None, int | None, int | None]],
        *,
        group: bool = False,
    ) -> int:
        """Create or replace the limits of many (name, printer, soft, hard, max job
        size) entries at once; counters kept."""

    def reset_quotas(self, entries: Sequence[tuple[str, str, int, int | None]]) -> int:
        """Set (user, printer, counter, lifetime counter or None) on existing entries."""

    def set_group_quota(
        self,
        group: str,
        printer: str,
        *,
        soft_limit: int | None = None,
        hard_limit: int | None = None,
        max_job_size: int | None = None,
    ) -> GroupQuota: ...
    def delete_user_quota(self, user: str, printer: str) -> None: ...
    def delete_group_quota(self, group: str, printer: str) -> None: ...
    def reset_user_quota(
        self,
        user: str,
        printer: str,
        *,
        page_counter: int = 0,
        lifetime: bool = False,
        life_page_counter: int | None = None,
    ) -> UserQuota:
        """Set the page counter (edpykota -r/-U) and clear the grace deadline;
        with `lifetime` also the life counter to the same (edpykota -R), or to
        `life_page_counter` when given (edpykota -U +N)."""

    def edit_billing_code(
        self, code: str, *, description: str | None = None, balance: Decimal | None = None
    ) -> BillingCode: ...
    def delete_billing_code(self, code: str) -> None: ...
    def decide_and_charge(
        self,
        facts: JobFacts,
        rule: Callable[[AccountSnapshot], Decision],
        date: datetime,
    ) -> ChargeResult:
        """Snapshot, decide with `rule` and charge inside one locked transaction,
        so that concurrent jobs cannot both pass a limit the store says is reached."""

    def last_invoice_number(self) -> int:
        """The highest invoice or receipt number issued so far (0: none)."""

    def issue_numbers(
        self,
        kind: str,
        bills: Sequence[tuple[str, Decimal]],
        issued: datetime,
        first: int | None = None,
    ) -> list[int]:
        """One never-repeated invoice/receipt number per (user, amount) (storage/invoices)."""

    def refund(self, row_id: int, refund: Refund, date: datetime) -> RefundResult:
        """Give `refund` back for the job in history row `row_id`, in one transaction:
        a REFUND payment of `refund.amount` (positive) with `refund.reason`, the
        user's balance raised by it (lifetime_paid kept), `refund.pages` taken off
        the user's page and life counters on the job's printer chain (never below
        0; group counters are the members' sums), the job's billing code credited
        and its page counter lowered, and the row's action set to REFUND (price
        and pages kept, the former action in its reason). A job refunded already
        or never charged is refused (RuleError), also when two refunds race: only
        one changes anything. InvalidAmount when `refund` exceeds the job."""

    def add_allowance(self, allowance: Allowance) -> Allowance: ...
    def delete_allowance(self, allowance_id: int) -> None: ...
    def apply_allowance(self, allowance: Allowance, period_key: str, date: datetime) -> bool:
        """Grant `allowance` for the period named `period_key` (e.g. "2026-11",
        "2026-W48"), in one transaction; False (and nothing changed) when that
        period was granted before. The grant is recorded as a FREE payment."""


@runtime_checkable
class TokenStore(Protocol):
    """API tokens (`pagetally tokens`, the REST API, the notifier's client): only
    a token's hash is kept; the secret is returned once, by `add_api_token`."""

    def add_api_token(
        self,
        user: str,
        role: TokenRole,
        created: datetime,
        *,
        label: str = "",
        expires: datetime | None = None,
    ) -> tuple[ApiToken, str]:
        """A new token of `user` (NotFound when unknown): (the stored token, its
        secret). The caller checks that `role` is no greater than the user's."""

    def api_tokens(self, users_: Sequence[str] | None = None) -> list[ApiToken]:
        """Tokens, revoked and expired ones too, of `users_` (None: everyone's)."""

    def revoke_api_token(self, token_id: int, date: datetime) -> ApiToken:
        """Revoke token `token_id` (NotFound); revoking twice keeps the first date."""

    def verify_api_token(self, secret: str, now: datetime) -> ApiToken | None:
        """The valid token `secret` is (known, not revoked, not expired), else None."""


class Store(AdminStore, Protocol):
    """What PageTally keeps: users, groups, printers, quotas, jobs, payments, codes.

    Every role at once: what a store implementation (SQL, later LDAP) provides.
    A caller takes the smallest role it needs, so that mypy checks that a
    smaller store (the accounting service's RemoteStore) is enough for it.
    """


class WebStore(Protocol):
    """What the web interface keeps besides the Store (storage/webdata.py): local
    web passwords (argon2 hashes, set from the CLI) and users' refund requests.
    A separate role so that stores without it (the service's RemoteStore) still
    satisfy Store; the SQL store has both."""

    def get_web_password_hash(self, name: str) -> str | None: ...
    def set_web_password_hash(self, name: str, pw_hash: str | None, date: datetime) -> None:
        """Set (an argon2 hash) or clear (None) the user's web password."""

    def invoice_number_of(self, kind: str, user: str) -> int | None:
        """The invoice number issued to `user` with `kind` before (None: none)."""

    def invoice_number_for(self, kind: str, user: str, amount: Decimal, issued: datetime) -> int:
        """The number issued to `user` with `kind` before, else a new one: atomic,
        two callers at once get the same one (a web monthly invoice)."""

    def refund_receipt(self, job_row: int) -> RefundReceipt | None:
        """The receipt of a job refunded from the web (None: none)."""

    def refund_receipts(self, user: str | None = None) -> list[RefundReceipt]:
        """Receipts of web refunds, newest first; `user`: theirs only."""

    def issue_refund_receipt(
        self,
        job_row: int,
        user: str,
        amount: Decimal,
        pages: int,
        balance_after: Decimal | None,
        issued: datetime,
    ) -> RefundReceipt:
        """Number and keep the receipt of a web refund; the kept one when there is one."""

    def revoke_web_session(self, nonce: str, expires: datetime, now: datetime) -> None:
        """Refuse the web session `nonce` until `expires`; forget those expired by `now`."""

    def web_session_revoked(self, nonce: str) -> bool: ...
    def add_refund_request(
        self, job_row: int, user: str, reason: str, date: datetime
    ) -> RefundRequest:
        """RuleError when a request for the job is pending already."""

    def refund_requests(
        self, *, user: str | None = None, state: RequestState | None = None
    ) -> list[RefundRequest]: ...
    def get_refund_request(self, request_id: int) -> RefundRequest: ...
    def decide_refund_request(
        self, request_id: int, state: RequestState, by: str, date: datetime, note: str = ""
    ) -> RefundRequest:
        """Refuse a pending request; RuleError when decided already. An approval
        refunds: `approve_refund_request`."""

    def refund_with_receipt(self, row_id: int, refund: Refund, date: datetime) -> WebRefund:
        """An admin's refund on the web: the refund and its receipt (numbered and
        kept), all or nothing."""

    def approve_refund_request(
        self, request_id: int, refund: Refund, by: str, date: datetime, note: str = ""
    ) -> WebRefund:
        """The request marked approved, its job refunded by `refund` and the
        receipt kept, all or nothing; RuleError (nothing changed) when the request
        was decided already (two admins at once: one refund) or the job cannot be
        refunded."""


class WebAdminStore(AdminStore, WebStore, Protocol):
    """The web interface's store: every admin change plus its own rows."""


@runtime_checkable
class ReportQueries(Protocol):
    """The aggregating reads of reports, web pages and the API (storage/reports.py,
    storage/webqueries.py): a few set queries each, fast at a million jobs. A role
    of its own, as TokenStore, so that a store without them still is a Store:
    `storage.reports.quota_report(store, ...)` falls back on ReportStore's reads."""

    def quota_report(
        self,
        printer_patterns: Sequence[str] = ("*",),
        name_patterns: Sequence[str] = ("*",),
        *,
        group: bool = False,
    ) -> QuotaReport:
        """Every quota entry of the matching printers and users (or groups), with
        their accounts: `pagetally report`."""

    def first_user_quotas(
        self, user_patterns: Sequence[str], limit: int
    ) -> tuple[list[UserQuota], int]:
        """The first `limit` user quota entries of the matching users (by printer,
        then user) and how many match in all: the admin's quota page."""

    def user_status(self, name: str) -> UserStatus:
        """A user, their quota entries and their groups' (NotFound when unknown)."""

    def job_page(self, query: JobQuery) -> JobPage:
        """One page of jobs, filtered and sorted, keyset-paginated."""

    def usage_by_day(
        self, since: datetime, until: datetime, user: str | None = None
    ) -> list[DayUsage]: ...
    def top_users(self, since: datetime, until: datetime, limit: int = 10) -> list[UsageTotal]: ...
    def printer_use(self, since: datetime, until: datetime) -> list[UsageTotal]: ...
    def printed_sums(self, user: str) -> list[PrintedSums]: ...
    def invoice_months(self, user: str, before: datetime) -> list[str]:
        """Months ("YYYY-MM", UTC, newest first) before `before` with an invoice."""

    def refusals(self, since: datetime | None, until: datetime | None) -> list[Refusals]: ...
    def job_totals(self) -> list[JobTotal]: ...
    def refusal_totals(self) -> list[Refusals]: ...
    def backend_times(self, bounds_ms: Sequence[int]) -> list[BackendTimes]: ...


class ApiStore(WebAdminStore, TokenStore, ReportQueries, Protocol):
    """What the web and its REST API read and change: the web's store, tokens and
    the fast reads (the SQL store is one)."""
