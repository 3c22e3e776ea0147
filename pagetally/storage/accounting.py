"""The accounting unit of work: snapshot, charge, decide-and-charge, over one connection.

Every function here runs inside the caller's write transaction; nothing commits.
Counters and balances are changed by atomic `x = x + :n` updates, never by
read-modify-write, and the user's row is locked first (the same order on every
path), so concurrent charges neither lose updates nor deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from pagetally.core.models import (
    AccountSnapshot,
    Action,
    ChargeRequest,
    ChargeResult,
    Decision,
    GroupQuota,
    JobFacts,
    JobRecord,
    UserQuota,
)
from pagetally.storage import lookups, quotas, rows
from pagetally.storage.schema import (
    FILENAME_MAX,
    OPTIONS_MAX,
    REASON_MAX,
    TITLE_MAX,
    billingcodes,
    grouppquota,
    groups,
    groupsmembers,
    identity_key,
    jobhistory,
    userpquota,
    users,
)
from pagetally.storage.types import to_money

ZERO = Decimal(0)


class AlreadyCharged(Exception):
    """Raised inside the transaction to roll it back: the identity exists."""


def identity(facts: JobFacts) -> dict[str, Any]:
    """The job's identity columns and their digest; a job with neither id nor UUID
    (one recorded by hand) gets a fresh UUID, so that it never collides with another."""
    job_uuid = facts.job_uuid
    if not facts.job_id and not job_uuid:
        job_uuid = "pt-" + uuid.uuid4().hex
    host = facts.host or ""
    return {
        "printername": facts.printer,
        "jobid": facts.job_id,
        "hostname": host,
        "jobuuid": job_uuid,
        "jobkey": identity_key(facts.printer, facts.job_id, host, job_uuid),
    }


def find_job(conn: Connection, ident: dict[str, Any]) -> JobRecord | None:
    row = conn.execute(select(jobhistory).where(jobhistory.c.jobkey == ident["jobkey"])).first()
    return None if row is None else rows.job_of(row)


def balance_of(conn: Connection, user: str) -> Decimal | None:
    found: Decimal | None = conn.execute(
        select(users.c.balance).where(users.c.username == user)
    ).scalar()
    return found


def snapshot(
    conn: Connection, user: str, printer: str, billing_code: str | None
) -> AccountSnapshot:
    """Everything the decision needs, read in the caller's transaction."""
    urow = conn.execute(select(users).where(users.c.username == user)).first()
    chain = lookups.chain(conn, printer)
    code = None
    if billing_code:
        crow = conn.execute(
            select(billingcodes).where(billingcodes.c.billingcode == billing_code)
        ).first()
        code = None if crow is None else rows.billing_code_of(crow)
    if urow is None:
        return AccountSnapshot(
            user=None,
            printer=chain[0] if chain else None,
            printers=tuple(chain),
            billing_code=code,
        )
    uid = int(urow.id)
    chain_ids = [p.id for p in chain if p.id is not None]
    user_group_rows = conn.execute(
        select(groups)
        .join(groupsmembers, groupsmembers.c.groupid == groups.c.id)
        .where(groupsmembers.c.userid == uid)
        .order_by(groups.c.groupname)
    ).all()
    user_groups = tuple(rows.group_of(r) for r in user_group_rows)
    uq: dict[str, UserQuota] = {}
    gq: dict[tuple[str, str], GroupQuota] = {}
    if chain_ids:
        for r in conn.execute(
            quotas._user_select().where(
                userpquota.c.userid == uid, userpquota.c.printerid.in_(chain_ids)
            )
        ):
            uq[r.printername] = quotas.user_quota_of(r._mapping)
        if user_groups:
            for r in conn.execute(
                quotas._group_select().where(
                    grouppquota.c.groupid.in_([g.id for g in user_groups]),
                    grouppquota.c.printerid.in_(chain_ids),
                )
            ):
                gq[(r.groupname, r.printername)] = quotas.group_quota_of(r._mapping)
    balances = group_balances(conn, [g.id for g in user_groups if g.id is not None])
    return AccountSnapshot(
        user=rows.user_of(urow),
        printer=chain[0] if chain else None,
        printers=tuple(chain),
        groups=user_groups,
        user_quotas=uq,
        group_quotas=gq,
        group_balances={g.name: balances.get(int(g.id or 0), ZERO) for g in user_groups},
        billing_code=code,
    )


def group_balances(conn: Connection, group_ids: list[int]) -> dict[int, Decimal]:
    """Each group's sum of member balances (PyKota's group balance)."""
    if not group_ids:
        return {}
    stmt = (
        select(groupsmembers.c.groupid, func.sum(users.c.balance))
        .join(users, users.c.id == groupsmembers.c.userid)
        .where(groupsmembers.c.groupid.in_(group_ids))
        .group_by(groupsmembers.c.groupid)
    )
    return {int(gid): (total if total is not None else ZERO) for gid, total in conn.execute(stmt)}


def lock_account(conn: Connection, user: str, printer: str) -> None:
    """Row locks (PostgreSQL/MariaDB) on the user and their groups' quota entries
    on the printer's chain; on SQLite the write transaction already holds the file."""
    uid = conn.execute(
        select(users.c.id).where(users.c.username == user).with_for_update()
    ).scalar()
    if uid is None:
        return
    chain_ids = [p.id for p in lookups.chain(conn, printer) if p.id is not None]
    if chain_ids:
        conn.execute(
            select(grouppquota.c.id)
            .join(groupsmembers, groupsmembers.c.groupid == grouppquota.c.groupid)
            .where(groupsmembers.c.userid == uid, grouppquota.c.printerid.in_(chain_ids))
            .order_by(grouppquota.c.id)
            .with_for_update()
        ).all()


def _clip(text: str | None, size: int) -> str:
    return (text or "")[:size]


def _history_values(request: ChargeRequest, ident: dict[str, Any]) -> dict[str, Any]:
    facts, decision = request.facts, request.decision
    return {
        **ident,
        "jobdate": request.date,
        "username": facts.user,
        "action": decision.action.value,
        "jobsize": facts.pages,
        "colorpages": facts.color_pages,
        "sheets": facts.sheets,
        "copies": facts.copies,
        "jobprice": to_money(decision.price) if decision.allowed else ZERO,
        "reason": _clip(decision.reason, REASON_MAX),
        "billingcode": facts.billing_code or None,
        "title": _clip(facts.title, TITLE_MAX),
        "filename": _clip(facts.filename, FILENAME_MAX),
        "jobsizebytes": facts.size_bytes,
        "sha256": facts.sha256,
        "options": _clip(facts.options, OPTIONS_MAX),
        "pagecounter": request.printer_counter,
        "precomputedjobsize": request.precomputed_pages,
        "precomputedjobprice": request.precomputed_price,
    }


def charge(conn: Connection, request: ChargeRequest) -> ChargeResult:
    """Apply `request` in the caller's transaction; AlreadyCharged if the identity exists."""
    ident = identity(request.facts)
    if find_job(conn, ident) is not None:
        raise AlreadyCharged
    facts, decision = request.facts, request.decision
    if decision.allowed:
        _apply(conn, facts, decision)
    values = _history_values(request, ident)
    new_id = conn.execute(insert(jobhistory).values(**values)).inserted_primary_key
    assert new_id is not None
    job = find_job(conn, ident)
    assert job is not None
    return ChargeResult(job=job, balance_after=balance_of(conn, facts.user))


def _apply(conn: Connection, facts: JobFacts, decision: Decision) -> None:
    """Counters, balances, deadlines and warn count of an allowed job."""
    uid = conn.execute(
        select(users.c.id).where(users.c.username == facts.user).with_for_update()
    ).scalar()
    chain = lookups.chain(conn, facts.printer)
    ids = {p.name: int(p.id) for p in chain if p.id is not None}
    price = to_money(decision.price)
    if uid is not None:
        if price:
            conn.execute(
                update(users).where(users.c.id == uid).values(balance=users.c.balance - price)
            )
        if ids and decision.pages:
            _count_pages(conn, int(uid), list(ids.values()), decision.pages)
        for printer, deadline in decision.user_date_limits.items():
            if printer in ids:
                conn.execute(
                    update(userpquota)
                    .where(userpquota.c.userid == uid, userpquota.c.printerid == ids[printer])
                    .values(datelimit=deadline)
                )
        if decision.action is Action.WARN and facts.printer in ids:
            conn.execute(
                update(userpquota)
                .where(userpquota.c.userid == uid, userpquota.c.printerid == ids[facts.printer])
                .values(warncount=userpquota.c.warncount + 1)
            )
    for (group, printer), deadline in decision.group_date_limits.items():
        if printer in ids:
            gid = select(groups.c.id).where(groups.c.groupname == group).scalar_subquery()
            conn.execute(
                update(grouppquota)
                .where(grouppquota.c.groupid == gid, grouppquota.c.printerid == ids[printer])
                .values(datelimit=deadline)
            )
    if facts.billing_code:
        conn.execute(
            update(billingcodes)
            .where(billingcodes.c.billingcode == facts.billing_code)
            .values(
                pagecounter=billingcodes.c.pagecounter + decision.pages,
                balance=billingcodes.c.balance - price,
            )
        )


def _count_pages(conn: Connection, uid: int, chain_ids: list[int], pages: int) -> None:
    """Add `pages` to the user's entries on every printer of the chain; where only
    one of the user's groups has an entry, create the user's (limitless) entry so
    that the group's sum counts this job."""
    conn.execute(
        update(userpquota)
        .where(userpquota.c.userid == uid, userpquota.c.printerid.in_(chain_ids))
        .values(
            pagecounter=userpquota.c.pagecounter + pages,
            lifepagecounter=userpquota.c.lifepagecounter + pages,
        )
    )
    have = set(
        conn.execute(
            select(userpquota.c.printerid).where(
                userpquota.c.userid == uid, userpquota.c.printerid.in_(chain_ids)
            )
        ).scalars()
    )
    via_group = set(
        conn.execute(
            select(grouppquota.c.printerid)
            .join(groupsmembers, groupsmembers.c.groupid == grouppquota.c.groupid)
            .where(and_(groupsmembers.c.userid == uid, grouppquota.c.printerid.in_(chain_ids)))
        ).scalars()
    )
    for pid in sorted(via_group - have):
        conn.execute(
            insert(userpquota).values(
                userid=uid, printerid=pid, pagecounter=pages, lifepagecounter=pages, warncount=0
            )
        )


def decide_and_charge(
    conn: Connection,
    facts: JobFacts,
    rule: Callable[[AccountSnapshot], Decision],
    date: datetime,
) -> ChargeResult:
    """Lock, snapshot, decide, charge: in the caller's write transaction."""
    if (facts.job_id or facts.job_uuid) and find_job(conn, identity(facts)) is not None:
        raise AlreadyCharged
    lock_account(conn, facts.user, facts.printer)
    snap = snapshot(conn, facts.user, facts.printer, facts.billing_code)
    decision = rule(snap)
    return charge(conn, ChargeRequest(facts=facts, decision=decision, date=date))
