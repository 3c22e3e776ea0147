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

from sqlalchemy import (
    BindParameter,
    Connection,
    Row,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)

from pagetally.core.models import (
    AccountSnapshot,
    ChargeRequest,
    ChargeResult,
    Decision,
    GroupQuota,
    JobFacts,
    JobRecord,
    Printer,
    UserQuota,
)
from pagetally.core.printergroups import ancestors
from pagetally.storage import lookups, quotas, rows
from pagetally.storage.schema import (
    DECISION_CODE_MAX,
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
    printergroupsmembers,
    printers,
    userpquota,
    users,
)
from pagetally.storage.types import to_money

ZERO = Decimal(0)


class AlreadyCharged(Exception):
    """Raised inside the transaction to roll it back: the identity exists."""


def identity(facts: JobFacts, attempt: datetime | None = None) -> dict[str, Any]:
    """The job's identity columns and their digest; a job with neither id nor UUID
    (one recorded by hand) gets a fresh UUID, so that it never collides with another.

    Printed means charged: only the charge of a job that printed takes the job's
    own key. A row that charges nothing (refused, cancelled, failed: `attempt`,
    the row's date) is keyed by the job and that date, so that it records the
    attempt without consuming the job's identity: CUPS' retry that prints is
    still charged, and a journaled attempt replayed twice is still one row."""
    job_uuid = facts.job_uuid
    if not facts.job_id and not job_uuid:
        job_uuid = "pt-" + uuid.uuid4().hex
    host = facts.host or ""
    key_uuid = job_uuid if attempt is None else f"{job_uuid}\x1fattempt {attempt.isoformat()}"
    return {
        "printername": facts.printer,
        "jobid": facts.job_id,
        "hostname": host,
        "jobuuid": job_uuid,
        "jobkey": identity_key(facts.printer, facts.job_id, host, key_uuid),
    }


def request_identity(request: ChargeRequest) -> dict[str, Any]:
    """The identity a charge request's row takes (see `identity`)."""
    allowed = request.decision.allowed
    return identity(request.facts, None if allowed else request.date)


# Statements of the hot path, built once (SQLAlchemy then only looks up its cache).
_JOB = select(jobhistory).where(jobhistory.c.jobkey == bindparam("key"))
_USER = select(users).where(users.c.username == bindparam("name"))
_USER_LOCKED = _USER.with_for_update()
_BALANCE = select(users.c.balance).where(users.c.username == bindparam("name"))
_CODE = select(billingcodes).where(billingcodes.c.billingcode == bindparam("code"))
_IN_CHAIN: BindParameter[int] = bindparam("chain", expanding=True)
# the printer, and whether it belongs to a printer group (most do not: then the
# chain is the printer alone, and the group edges need not be read)
_PRINTER_GROUPED = select(
    printers,
    exists().where(printergroupsmembers.c.printerid == printers.c.id).label("pt_grouped"),
).where(printers.c.printername == bindparam("name"))
_PRINTERS = select(printers).where(printers.c.printername.in_(bindparam("names", expanding=True)))
_USER_GROUPS = (
    select(groups)
    .join(groupsmembers, groupsmembers.c.groupid == groups.c.id)
    .where(groupsmembers.c.userid == bindparam("uid"))
    .order_by(groups.c.groupname)
)
_USER_QUOTAS = quotas.USER_SELECT.where(
    userpquota.c.userid == bindparam("uid"), userpquota.c.printerid.in_(_IN_CHAIN)
)
_GROUP_QUOTAS = quotas.GROUP_SELECT.where(
    grouppquota.c.groupid.in_(bindparam("gids", expanding=True)),
    grouppquota.c.printerid.in_(_IN_CHAIN),
)
_GROUP_BALANCES = (
    select(groupsmembers.c.groupid, func.sum(users.c.balance))
    .join(users, users.c.id == groupsmembers.c.userid)
    .where(groupsmembers.c.groupid.in_(bindparam("gids", expanding=True)))
    .group_by(groupsmembers.c.groupid)
)
_LOCK_GROUP_ENTRIES = (
    select(grouppquota.c.id, grouppquota.c.printerid)
    .join(groupsmembers, groupsmembers.c.groupid == grouppquota.c.groupid)
    .where(groupsmembers.c.userid == bindparam("uid"), grouppquota.c.printerid.in_(_IN_CHAIN))
    .order_by(grouppquota.c.id)
    .with_for_update()
)
_GROUP_ENTRIES = (
    select(grouppquota.c.printerid)
    .join(groupsmembers, groupsmembers.c.groupid == grouppquota.c.groupid)
    .where(groupsmembers.c.userid == bindparam("uid"), grouppquota.c.printerid.in_(_IN_CHAIN))
)
_USER_ENTRIES = select(userpquota.c.printerid).where(
    userpquota.c.userid == bindparam("uid"), userpquota.c.printerid.in_(_IN_CHAIN)
)
_PAY = (
    update(users)
    .where(users.c.id == bindparam("uid"))
    .values(balance=users.c.balance - bindparam("price", type_=users.c.balance.type))
)
_PAY_RETURNING = _PAY.returning(users.c.balance)  # where the database can: one trip less
# lock the user's row by paying: the lock still comes first, and the new balance
# comes back (PostgreSQL, SQLite >= 3.35)
_PAY_USER = (
    update(users)
    .where(users.c.username == bindparam("name"))
    .values(balance=users.c.balance - bindparam("price", type_=users.c.balance.type))
    .returning(users.c.id, users.c.balance)
)
_COUNT = (
    update(userpquota)
    .where(userpquota.c.userid == bindparam("uid"), userpquota.c.printerid.in_(_IN_CHAIN))
    .values(
        pagecounter=userpquota.c.pagecounter + bindparam("pages"),
        lifepagecounter=userpquota.c.lifepagecounter + bindparam("pages"),
    )
)
_CODE_USE = (
    update(billingcodes)
    .where(billingcodes.c.billingcode == bindparam("code"))
    .values(
        pagecounter=billingcodes.c.pagecounter + bindparam("pages"),
        balance=billingcodes.c.balance - bindparam("price", type_=billingcodes.c.balance.type),
    )
)


def printer_chain(conn: Connection, printer: str) -> list[Printer]:
    """`lookups.chain` (the printer, then its printer groups, nearest first; [] if
    unknown) in one query for a printer in no group, the usual case."""
    row = conn.execute(_PRINTER_GROUPED, {"name": printer}).first()
    if row is None:
        return []
    first = rows.printer_of(row)
    if not row.pt_grouped:
        return [first]
    above = ancestors(lookups.parents_map(conn), printer)
    by_name = {r.printername: rows.printer_of(r) for r in conn.execute(_PRINTERS, {"names": above})}
    return [first] + [by_name[n] for n in above if n in by_name]


def find_job(conn: Connection, ident: dict[str, Any]) -> JobRecord | None:
    row = conn.execute(_JOB, {"key": ident["jobkey"]}).first()
    return None if row is None else rows.job_of(row)


def balance_of(conn: Connection, user: str) -> Decimal | None:
    found: Decimal | None = conn.execute(_BALANCE, {"name": user}).scalar()
    return found


def snapshot(
    conn: Connection,
    user: str,
    printer: str,
    billing_code: str | None,
    *,
    user_row: Row[Any] | None = None,
    chain: list[Printer] | None = None,
) -> AccountSnapshot:
    """Everything the decision needs, read in the caller's transaction (the user's
    row and the printer chain may be handed in when the caller read them already)."""
    urow = user_row if user_row is not None else conn.execute(_USER, {"name": user}).first()
    if chain is None:
        chain = printer_chain(conn, printer)
    code = None
    if billing_code:
        crow = conn.execute(_CODE, {"code": billing_code}).first()
        code = None if crow is None else rows.billing_code_of(crow)
    first = chain[0] if chain else None
    if urow is None:
        return AccountSnapshot(user=None, printer=first, printers=tuple(chain), billing_code=code)
    uid = int(urow.id)
    chain_ids = [p.id for p in chain]
    user_groups = tuple(rows.group_of(r) for r in conn.execute(_USER_GROUPS, {"uid": uid}))
    gids = [g.id for g in user_groups]
    uq: dict[str, UserQuota] = {}
    gq: dict[tuple[str, str], GroupQuota] = {}
    if chain_ids:
        for r in conn.execute(_USER_QUOTAS, {"uid": uid, "chain": chain_ids}):
            uq[r.printername] = quotas.user_quota_of(r._mapping)
        if gids:
            for r in conn.execute(_GROUP_QUOTAS, {"gids": gids, "chain": chain_ids}):
                gq[(r.groupname, r.printername)] = quotas.group_quota_of(r._mapping)
    balances: dict[int, Decimal] = {}
    if gids:
        balances = {
            int(gid): (total if total is not None else ZERO)
            for gid, total in conn.execute(_GROUP_BALANCES, {"gids": gids})
        }
    return AccountSnapshot(
        user=rows.user_of(urow),
        printer=first,
        printers=tuple(chain),
        groups=user_groups,
        user_quotas=uq,
        group_quotas=gq,
        group_balances={g.name: balances.get(int(g.id or 0), ZERO) for g in user_groups},
        billing_code=code,
    )


def _clip(text: str | None, size: int) -> str:
    return (text or "")[:size]


def history_values(request: ChargeRequest, ident: dict[str, Any]) -> dict[str, Any]:
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
        "decisioncode": decision.code[:DECISION_CODE_MAX] or None,
        "backendms": request.backend_ms,
    }


def charge(
    conn: Connection,
    request: ChargeRequest,
    *,
    checked: dict[str, Any] | None = None,
    user_row: Row[Any] | None = None,
    chain: list[Printer] | None = None,
) -> ChargeResult:
    """Apply `request` in the caller's transaction. `checked`: the identity, already
    looked up by the caller; `user_row`: the user's row, already locked by the
    caller; `chain`: the printer chain.

    A job whose identity exists is not looked up first: the history row's unique
    `jobkey` refuses it (IntegrityError, a unique violation) and the caller rolls
    the whole transaction back (see `SqlStore.charge`) — one query less for every
    job, the same outcome for a job charged twice."""
    ident = checked if checked is not None else request_identity(request)
    facts, decision = request.facts, request.decision
    price = to_money(decision.price)
    paid = False
    if user_row is None:
        if decision.allowed and price and conn.dialect.update_returning:
            user_row = conn.execute(_PAY_USER, {"name": facts.user, "price": price}).first()
            paid = True
        else:
            user_row = conn.execute(_USER_LOCKED, {"name": facts.user}).first()
    balance: Decimal | None = None if user_row is None else user_row.balance
    if decision.allowed:
        if chain is None:
            chain = printer_chain(conn, facts.printer)
        balance = _apply(conn, facts, decision, user_row, chain, paid=paid)
    if request.deny_banner and user_row is not None:
        _count_deny_banner(conn, int(user_row.id), facts.printer)
    values = history_values(request, ident)
    key = conn.execute(insert(jobhistory), values).inserted_primary_key
    assert key is not None
    job = rows.job_of_values(int(key[0]), values)
    return ChargeResult(job=job, balance_after=balance)


def _count_deny_banner(conn: Connection, uid: int, printer: str) -> None:
    """One more deny banner printed for this person on `printer` (warncount)."""
    pid = select(printers.c.id).where(printers.c.printername == printer).scalar_subquery()
    conn.execute(
        update(userpquota)
        .where(userpquota.c.userid == uid, userpquota.c.printerid == pid)
        .values(warncount=userpquota.c.warncount + 1)
    )


def _apply(
    conn: Connection,
    facts: JobFacts,
    decision: Decision,
    user_row: Row[Any] | None,
    chain: list[Printer],
    *,
    paid: bool = False,
) -> Decimal | None:
    """Counters, balances, deadlines and warn count of an allowed job; returns the
    user's new balance (None for an unknown user). `paid`: the price was taken
    already, and `user_row` holds the balance after it."""
    ids = {p.name: int(p.id) for p in chain if p.id is not None}
    price = to_money(decision.price)
    balance: Decimal | None = None
    if user_row is not None:
        uid = int(user_row.id)
        balance = user_row.balance
        if price and not paid:
            if conn.dialect.update_returning:  # PostgreSQL, SQLite >= 3.35
                balance = conn.execute(_PAY_RETURNING, {"uid": uid, "price": price}).scalar()
            else:  # MariaDB/MySQL
                conn.execute(_PAY, {"uid": uid, "price": price})
                balance = balance_of(conn, facts.user)
        if ids and decision.pages:
            _count_pages(conn, uid, list(ids.values()), decision.pages)
        # warncount counts deny banners only (PyKota's meaning, bounded by
        # maxdenybanners): a WARN job does not use one up.
    apply_date_limits(conn, decision, None if user_row is None else int(user_row.id), ids)
    if facts.billing_code:
        conn.execute(
            _CODE_USE, {"code": facts.billing_code, "pages": decision.pages, "price": price}
        )
    return balance


def apply_date_limits(
    conn: Connection, decision: Decision, uid: int | None, ids: dict[str, int]
) -> None:
    """The grace deadlines a decision set (soft limit passed) on the user's and
    groups' entries of the chain's printers (`ids`: printer name to id)."""
    if uid is not None:
        for printer, deadline in decision.user_date_limits.items():
            if printer in ids:
                conn.execute(
                    update(userpquota)
                    .where(userpquota.c.userid == uid, userpquota.c.printerid == ids[printer])
                    .values(datelimit=deadline)
                )
    for (group, printer), deadline in decision.group_date_limits.items():
        if printer in ids:
            gid = select(groups.c.id).where(groups.c.groupname == group).scalar_subquery()
            conn.execute(
                update(grouppquota)
                .where(grouppquota.c.groupid == gid, grouppquota.c.printerid == ids[printer])
                .values(datelimit=deadline)
            )


def _count_pages(conn: Connection, uid: int, chain_ids: list[int], pages: int) -> None:
    """Add `pages` to the user's entries on every printer of the chain; where only
    one of the user's groups has an entry, create the user's (limitless) entry so
    that the group's sum counts this job."""
    counted = conn.execute(_COUNT, {"uid": uid, "chain": chain_ids, "pages": pages}).rowcount
    if counted == len(chain_ids):
        return  # the user has an entry on every printer of the chain already
    params = {"uid": uid, "chain": chain_ids}
    via_group = set(conn.execute(_GROUP_ENTRIES, params).scalars())
    if not via_group:
        return
    have = set(conn.execute(_USER_ENTRIES, params).scalars())
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
    """Lock, snapshot, decide, charge: in the caller's write transaction.

    Locks (PostgreSQL/MariaDB) the user's row, then their groups' quota entries on
    the printer's chain, in that order on every path; on SQLite the write
    transaction (BEGIN IMMEDIATE) already holds the database."""
    ident = identity(facts)
    if find_job(conn, ident) is not None:
        raise AlreadyCharged
    user_row = conn.execute(_USER_LOCKED, {"name": facts.user}).first()
    chain = printer_chain(conn, facts.printer)
    if user_row is not None and chain:
        conn.execute(_LOCK_GROUP_ENTRIES, {"uid": user_row.id, "chain": [p.id for p in chain]})
    snap = snapshot(
        conn, facts.user, facts.printer, facts.billing_code, user_row=user_row, chain=chain
    )
    decision = rule(snap)
    request = ChargeRequest(facts=facts, decision=decision, date=date)
    return charge(conn, request, checked=ident, user_row=user_row, chain=chain)
