"""The domain's plain values: what the store keeps and the rules read.

These are the contract between `core/` (rules), `storage/` (which loads and saves
them) and the edges (CLI, backend, web). Frozen dataclasses: a rule gets a snapshot
and returns a decision; it never mutates what it was given. Money is Decimal; times
are timezone-aware UTC datetimes. No `slots=True`: slotted dataclasses are built
twice, which doubled this module's import time, paid by every backend process.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

ZERO = Decimal("0")
ONE = Decimal("1")


class LimitBy(enum.StrEnum):
    """How a user or group is limited (PyKota's `limitby`)."""

    QUOTA = "quota"  # page quotas per printer
    BALANCE = "balance"  # prepaid credit
    NOQUOTA = "noquota"  # accounted and charged, never refused for quota
    NOCHANGE = "nochange"  # accounted, never charged nor refused
    NOPRINT = "noprint"  # always refused


class Action(enum.StrEnum):
    """What happened to a job (jobhistory.action)."""

    ALLOW = "allow"
    WARN = "warn"
    DENY = "deny"
    CANCEL = "cancel"
    PROBLEM = "problem"
    REFUND = "refund"


class Enforcement(enum.StrEnum):
    """`laxist`: check usage before the job; `strict`: usage including this job."""

    LAXIST = "laxist"
    STRICT = "strict"


class Policy(enum.StrEnum):
    """What to do when a user, printer or quota entry is missing."""

    DENY = "deny"
    ALLOW = "allow"
    EXTERNAL = "external"


class Period(enum.StrEnum):
    """How often a scheduled allowance is granted."""

    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday first
    MONTH = "month"
    TERM = "term"  # terms start on dates listed in the config


class PaymentKind(enum.StrEnum):
    CREDIT = "credit"  # money paid in
    REFUND = "refund"  # money given back for a job (negative charge)
    FREE = "free"  # credit granted, not paid (allowances, gifts)
    DEBIT = "debit"  # an explicit correction downwards


@dataclass(frozen=True)
class PriceTable:
    """A printer's prices. The default case is PyKota's: per page and per job.

    `per_color_page` (None: same as `per_page`) prices colour pages; `per_sheet`
    is added per physical sheet (duplex prints two pages on one sheet);
    `media` multiplies page prices by media size name (e.g. {"a3": 2}).
    Serialised by `to_dict`/`from_dict` (JSON-compatible) for the store.
    """

    per_page: Decimal = ZERO
    per_job: Decimal = ZERO
    per_color_page: Decimal | None = None
    per_sheet: Decimal = ZERO
    media: dict[str, Decimal] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "per_page": str(self.per_page),
            "per_job": str(self.per_job),
            "per_color_page": None if self.per_color_page is None else str(self.per_color_page),
            "per_sheet": str(self.per_sheet),
            "media": {k: str(v) for k, v in self.media.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> PriceTable:
        def dec(key: str) -> Decimal:
            return Decimal(str(data.get(key, "0") or "0"))

        color = data.get("per_color_page")
        media = data.get("media") or {}
        assert isinstance(media, dict)
        return cls(
            per_page=dec("per_page"),
            per_job=dec("per_job"),
            per_color_page=None if color is None else Decimal(str(color)),
            per_sheet=dec("per_sheet"),
            media={str(k): Decimal(str(v)) for k, v in media.items()},
        )


@dataclass(frozen=True)
class User:
    name: str
    id: int | None = None
    limit_by: LimitBy = LimitBy.QUOTA
    balance: Decimal = ZERO
    lifetime_paid: Decimal = ZERO
    overcharge: Decimal = ONE
    email: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Group:
    """A group of users. Its balance is the sum of its members' (PyKota's rule)."""

    name: str
    id: int | None = None
    limit_by: LimitBy = LimitBy.QUOTA
    description: str = ""


@dataclass(frozen=True)
class Printer:
    """A printer or a printer group (a printer used as a parent of others)."""

    name: str
    id: int | None = None
    description: str = ""
    prices: PriceTable = field(default_factory=PriceTable)
    max_job_size: int | None = None  # pages; None = unlimited
    passthrough: bool = False


@dataclass(frozen=True)
class UserQuota:
    """A user's quota entry on one printer (PyKota's userpquota)."""

    user: str
    printer: str
    page_counter: int = 0
    life_page_counter: int = 0
    soft_limit: int | None = None
    hard_limit: int | None = None
    date_limit: datetime | None = None  # grace deadline once the soft limit is passed
    max_job_size: int | None = None
    warn_count: int = 0  # deny banners printed (PyKota), bounded by maxdenybanners


@dataclass(frozen=True)
class GroupQuota:
    """A group's quota entry on one printer; `page_counter` is the members' sum."""

    group: str
    printer: str
    page_counter: int = 0
    life_page_counter: int = 0
    soft_limit: int | None = None
    hard_limit: int | None = None
    date_limit: datetime | None = None
    max_job_size: int | None = None


@dataclass(frozen=True)
class BillingCode:
    code: str
    id: int | None = None
    description: str = ""
    balance: Decimal = ZERO
    page_counter: int = 0


@dataclass(frozen=True)
class Payment:
    user: str
    amount: Decimal  # negative for refunds and debits
    kind: PaymentKind = PaymentKind.CREDIT
    description: str = ""
    date: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class JobFacts:
    """What is known of a job before the decision: who, where, how big.

    `pages` counts pages to print including copies; `sheets` physical sheets
    (duplex, n-up); `color_pages` the colour pages among `pages`.
    `ink` maps a colour channel to the job's coverage in percent of a page,
    summed over pages (PyKota's ink accounting).
    """

    user: str
    printer: str
    pages: int
    color_pages: int = 0
    sheets: int | None = None
    copies: int = 1
    media: str | None = None
    ink: dict[str, float] = field(default_factory=dict)
    billing_code: str | None = None
    host: str | None = None
    title: str = ""
    filename: str = ""
    size_bytes: int = 0
    sha256: str | None = None
    options: str = ""
    job_id: str = ""  # CUPS job id (reused after the spool is cleared)
    job_uuid: str = ""  # CUPS job-uuid: part of the job's identity


@dataclass(frozen=True)
class JobRecord:
    """One row of job history: every job, allowed or denied."""

    id: int | None
    date: datetime
    user: str
    printer: str
    action: Action
    pages: int
    color_pages: int = 0
    sheets: int | None = None
    copies: int = 1
    price: Decimal = ZERO
    reason: str = ""
    billing_code: str | None = None
    host: str | None = None
    title: str = ""
    filename: str = ""
    size_bytes: int = 0
    sha256: str | None = None
    options: str = ""
    job_id: str = ""
    job_uuid: str = ""
    printer_counter: int | None = None  # hardware counter before the job
    precomputed_pages: int | None = None
    precomputed_price: Decimal | None = None
    code: str = ""  # the decision's code (DecisionCode or a step's own); "" before 0009


@dataclass(frozen=True)
class AccountSnapshot:
    """Everything the decision needs, read from the store in one go.

    `printers` is the job's printer first, then every printer group above it
    (each once, nearest first). `user_quotas` and `group_quotas` hold the entries
    that exist on those printers: `user_quotas` keyed by printer name,
    `group_quotas` keyed by (group name, printer name).
    `group_balances` is each group's sum of member balances. Missing things are
    None / absent; the rules apply the `policy` to them.
    """

    user: User | None
    printer: Printer | None
    printers: tuple[Printer, ...] = ()
    groups: tuple[Group, ...] = ()
    user_quotas: dict[str, UserQuota] = field(default_factory=dict)
    group_quotas: dict[tuple[str, str], GroupQuota] = field(default_factory=dict)
    group_balances: dict[str, Decimal] = field(default_factory=dict)
    billing_code: BillingCode | None = None


class DecisionCode(enum.StrEnum):
    """Why a decision was taken, for programs (Decision.code); `reason` is for people."""

    OK = "ok"  # within every limit
    NOQUOTA = "noquota"  # the user is limited by noquota: charged, never refused
    NOCHANGE = "nochange"  # the user is limited by nochange: free, never refused
    PASSTHROUGH = "passthrough"  # the printer is pass-through: no check, no charge
    FREE = "free"  # the user's overcharge is 0: never refused for balance
    SOFT_LIMIT = "soft_limit"  # WARN: soft limit passed, within the grace delay
    BALANCE_LOW = "balance_low"  # WARN: balance at or below poorman
    HARD_LIMIT = "hard_limit"  # DENY: hard limit (or a soft limit alone) reached
    GRACE_EXPIRED = "grace_expired"  # DENY: soft limit passed and grace delay over
    BALANCE_TOO_LOW = "balance_too_low"  # DENY: balance at or below balancezero
    NOPRINT = "noprint"  # DENY: the user or a group is limited by noprint
    JOB_TOO_LARGE = "job_too_large"  # DENY: max job size of printer, user or group
    UNKNOWN_BILLING_CODE = "unknown_billing_code"  # DENY (or ALLOW with create)
    POLICY_ALLOW = "policy_allow"  # ALLOW: user, printer or quota entry missing
    POLICY_DENY = "policy_deny"  # DENY: user, printer or quota entry missing
    POLICY_EXTERNAL = "policy_external"  # DENY until the caller's external command says
    DUPLICATE = "duplicate"  # DENY: denyduplicates, the same document again
    # printauth (cups/auth.py); only AUTH_FAILED counts towards the PIN lockout
    AUTH_FAILED = "auth_failed"  # DENY: wrong PIN, or the site's check said no
    AUTH_MISSING = "auth_missing"  # DENY: no credential, or one sent hashed
    AUTH_UNKNOWN = "auth_unknown"  # DENY: printauth known, the user is not in the store
    AUTH_UNAVAILABLE = "auth_unavailable"  # DENY: the check could not run / store down
    AUTH_LOCKED = "auth_locked"  # DENY: too many failed checks within the window


@dataclass(frozen=True)
class Decision:
    """The rules' answer for one job. `reason` is for the person who printed."""

    action: Action
    reason: str = ""
    price: Decimal = ZERO
    pages: int = 0  # what the job adds to page counters (0 on deny, nochange counts)
    # grace deadlines to record, kept as explicit maps so the store writes exactly
    # these and nothing else: the job's user's entries by printer name, and group
    # entries by (group name, printer name), as in AccountSnapshot.group_quotas.
    user_date_limits: dict[str, datetime] = field(default_factory=dict)  # printer -> deadline
    group_date_limits: dict[tuple[str, str], datetime] = field(default_factory=dict)
    # a short, stable machine code for `reason` (see DecisionCode), for the backend,
    # hooks and scripts; and the configured text to send the person (poorwarn,
    # softwarn or hardwarn), empty when there is nothing to tell.
    code: str = ""
    message: str = ""

    @property
    def allowed(self) -> bool:
        return self.action in (Action.ALLOW, Action.WARN)


@dataclass(frozen=True)
class ChargeRequest:
    """One unit of work for `Store.charge`: the job, and what the rules decided.

    The store commits it whole or not at all: quota counters on the printer and
    every group above it, the user's balance, the billing code, grace deadlines,
    warn count, and the job history row. The identity (printer, job_id, host,
    job_uuid) makes a second charge of the same job a no-op.
    """

    facts: JobFacts
    decision: Decision
    date: datetime
    printer_counter: int | None = None
    precomputed_pages: int | None = None
    precomputed_price: Decimal | None = None
    # a deny banner was printed for this refused job: one more on the person's
    # warn count for the printer (PyKota's deny banner counter, maxdenybanners)
    deny_banner: bool = False
    # milliseconds from the backend's start on the job to this charge (None: not
    # measured); kept in the history row for /metrics' backend time
    backend_ms: int | None = None


@dataclass(frozen=True)
class ChargeResult:
    job: JobRecord
    already_charged: bool = False  # the identity was charged before; nothing changed
    balance_after: Decimal | None = None


@dataclass(frozen=True)
class Allowance:
    """A scheduled grant, which PyKota left to cron: every period, `credit` is
    added to the balance (never raising it above `cap`) and/or the page counter
    on `printer` ("*": every entry) is lowered by `pages` (never below 0), or
    reset to 0 when `reset_counters`. Applied at most once per period."""

    target: str  # user or group name (a group's allowance goes to each member)
    is_group: bool = False
    period: Period = Period.MONTH
    credit: Decimal = ZERO
    cap: Decimal | None = None
    pages: int = 0
    reset_counters: bool = False
    printer: str = "*"
    description: str = ""
    id: int | None = None
