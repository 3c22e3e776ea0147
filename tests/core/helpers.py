"""Builders for the core tests: small, readable snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from pagetally.core.models import (
    AccountSnapshot,
    BillingCode,
    Group,
    GroupQuota,
    JobFacts,
    LimitBy,
    PriceTable,
    Printer,
    User,
    UserQuota,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def D(text: str) -> Decimal:
    return Decimal(text)


def printer(
    name: str = "lab",
    *,
    per_page: str = "0.10",
    per_job: str = "0",
    max_job_size: int | None = None,
    passthrough: bool = False,
    **prices: object,
) -> Printer:
    table = PriceTable(per_page=D(per_page), per_job=D(per_job), **prices)  # type: ignore[arg-type]
    return Printer(name=name, prices=table, max_job_size=max_job_size, passthrough=passthrough)


def user(
    name: str = "alice",
    *,
    limit_by: LimitBy = LimitBy.QUOTA,
    balance: str = "0",
    overcharge: str = "1",
) -> User:
    return User(name=name, limit_by=limit_by, balance=D(balance), overcharge=D(overcharge))


def uquota(
    printer_name: str = "lab",
    *,
    used: int = 0,
    soft: int | None = None,
    hard: int | None = None,
    date_limit: datetime | None = None,
    max_job_size: int | None = None,
    who: str = "alice",
) -> UserQuota:
    return UserQuota(
        user=who,
        printer=printer_name,
        page_counter=used,
        life_page_counter=used,
        soft_limit=soft,
        hard_limit=hard,
        date_limit=date_limit,
        max_job_size=max_job_size,
    )


def gquota(
    group: str,
    printer_name: str = "lab",
    *,
    used: int = 0,
    soft: int | None = None,
    hard: int | None = None,
    date_limit: datetime | None = None,
    max_job_size: int | None = None,
) -> GroupQuota:
    return GroupQuota(
        group=group,
        printer=printer_name,
        page_counter=used,
        life_page_counter=used,
        soft_limit=soft,
        hard_limit=hard,
        date_limit=date_limit,
        max_job_size=max_job_size,
    )


def snap(
    u: User | None,
    chain: list[Printer] | None = None,
    *,
    quotas: list[UserQuota] | None = None,
    groups: list[Group] | None = None,
    group_quotas: list[GroupQuota] | None = None,
    group_balances: dict[str, str] | None = None,
    billing_code: BillingCode | None = None,
) -> AccountSnapshot:
    """A snapshot; by default the user has an accounting-only entry on each printer."""
    chain = [printer()] if chain is None else chain
    if quotas is None:
        quotas = [uquota(p.name) for p in chain] if u is not None else []
    return AccountSnapshot(
        user=u,
        printer=chain[0] if chain else None,
        printers=tuple(chain),
        groups=tuple(groups or ()),
        user_quotas={q.printer: q for q in quotas},
        group_quotas={(q.group, q.printer): q for q in group_quotas or ()},
        group_balances={k: D(v) for k, v in (group_balances or {}).items()},
        billing_code=billing_code,
    )


def job(pages: int = 1, printer_name: str = "lab", who: str = "alice", **kw: object) -> JobFacts:
    return JobFacts(user=who, printer=printer_name, pages=pages, **kw)  # type: ignore[arg-type]
