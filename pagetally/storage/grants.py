"""Scheduled allowances: add, list, delete, and apply once per period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from pagetally.core.allowances import applies_to_printer, credit_to_grant, pages_after_grant
from pagetally.core.models import Allowance, PaymentKind
from pagetally.errors import InvalidInput, NotFound
from pagetally.storage import lookups, patterns, rows
from pagetally.storage.engine import is_unique_violation
from pagetally.storage.schema import (
    allowancegrants,
    allowances,
    groups,
    groupsmembers,
    payments,
    printers,
    userpquota,
    users,
)
from pagetally.storage.types import to_money


class AlreadyGranted(Exception):
    """Raised inside the transaction to roll it back: this period was granted."""


def add(conn: Connection, allowance: Allowance) -> Allowance:
    """Store an allowance. Its target may be a wildcard pattern (users, or groups):
    it is resolved each time the allowance is applied, so it reaches whoever
    matches then, not only who matched when it was added. An exact name must
    exist now (a typo is refused)."""
    rows.check_name("allowance target", allowance.target)
    if not patterns.has_wildcards(allowance.target):
        if allowance.is_group:
            lookups.group_id(conn, allowance.target)
        else:
            lookups.user_id(conn, allowance.target)
    credit = rows.check_money("allowance credit", allowance.credit, negative_ok=False)
    cap = (
        None
        if allowance.cap is None
        else rows.check_money("allowance cap", allowance.cap, negative_ok=False)
    )
    rows.check_count("allowance pages", allowance.pages)
    if allowance.printer != "*":
        lookups.printer_id(conn, allowance.printer)
    new = conn.execute(
        insert(allowances).values(
            target=allowance.target,
            isgroup=allowance.is_group,
            period=allowance.period.value,
            credit=credit,
            cap=cap,
            pages=allowance.pages,
            resetcounters=allowance.reset_counters,
            printer=allowance.printer or "*",
            description=allowance.description,
        )
    ).inserted_primary_key
    assert new is not None
    return get(conn, int(new[0]))


def get(conn: Connection, allowance_id: int) -> Allowance:
    row = conn.execute(select(allowances).where(allowances.c.id == allowance_id)).first()
    if row is None:
        raise NotFound("allowance", str(allowance_id))
    return rows.allowance_of(row)


def listing(conn: Connection) -> list[Allowance]:
    return [
        rows.allowance_of(r) for r in conn.execute(select(allowances).order_by(allowances.c.id))
    ]


def delete(conn: Connection, allowance_id: int) -> None:
    get(conn, allowance_id)
    conn.execute(allowances.delete().where(allowances.c.id == allowance_id))


def apply(conn: Connection, allowance: Allowance, period_key: str, date: datetime) -> None:
    """Grant once for `period_key`; AlreadyGranted (roll back) when granted before."""
    if allowance.id is None:
        raise InvalidInput("apply_allowance needs a stored allowance (with an id)")
    if not period_key or len(period_key) > 32:
        raise InvalidInput(f"bad allowance period key {period_key!r}")
    current = get(conn, allowance.id)  # the stored terms win over the caller's copy
    seen = conn.execute(
        select(allowancegrants.c.id).where(
            allowancegrants.c.allowanceid == current.id,
            allowancegrants.c.periodkey == period_key,
        )
    ).first()
    if seen is not None:
        raise AlreadyGranted
    try:
        conn.execute(
            insert(allowancegrants).values(
                allowanceid=current.id, periodkey=period_key, granted=date
            )
        )
    except IntegrityError as err:
        if is_unique_violation(err):
            raise AlreadyGranted from None
        raise
    for uid in _targets(conn, current):
        _grant_user(conn, uid, current, date, period_key)


def _targets(conn: Connection, allowance: Allowance) -> list[int]:
    """The users the allowance reaches now: its user, every user matching its
    pattern, or every member of its group(s); each once."""
    target = allowance.target
    if allowance.is_group:
        if patterns.has_wildcards(target):
            found = conn.execute(
                select(groups.c.id, groups.c.groupname).where(
                    patterns.where_names(groups.c.groupname, [target])
                )
            ).all()
            gids = [int(g.id) for g in found if patterns.matches(g.groupname, [target])]
        else:
            gids = [lookups.group_id(conn, target)]
        stmt = (
            select(groupsmembers.c.userid)
            .where(groupsmembers.c.groupid.in_(gids))
            .distinct()
            .order_by(groupsmembers.c.userid)
        )
        return [int(u) for u in conn.execute(stmt).scalars()] if gids else []
    if patterns.has_wildcards(target):
        found = conn.execute(
            select(users.c.id, users.c.username)
            .where(patterns.where_names(users.c.username, [target]))
            .order_by(users.c.id)
        ).all()
        return [int(u.id) for u in found if patterns.matches(u.username, [target])]
    return [lookups.user_id(conn, target)]


def _grant_user(
    conn: Connection, uid: int, allowance: Allowance, date: datetime, period_key: str
) -> None:
    if allowance.credit > 0:
        balance = conn.execute(
            select(users.c.balance).where(users.c.id == uid).with_for_update()
        ).scalar_one()
        amount = to_money(credit_to_grant(balance, allowance))
        if amount > 0:
            conn.execute(
                update(users).where(users.c.id == uid).values(balance=users.c.balance + amount)
            )
            note = allowance.description or f"allowance {allowance.id}"
            conn.execute(
                insert(payments).values(
                    userid=uid,
                    amount=amount,
                    kind=PaymentKind.FREE.value,
                    description=f"{note} ({period_key})"[:255],
                    date=date,
                )
            )
    if allowance.reset_counters or allowance.pages > 0:
        entries = conn.execute(
            select(userpquota.c.id, userpquota.c.pagecounter, printers.c.printername)
            .join(printers, printers.c.id == userpquota.c.printerid)
            .where(userpquota.c.userid == uid)
            .order_by(userpquota.c.id)
            .with_for_update()
        ).all()
        for entry in entries:
            if not applies_to_printer(allowance, entry.printername):
                continue
            values: dict[str, object] = {
                "pagecounter": pages_after_grant(int(entry.pagecounter), allowance)
            }
            if allowance.reset_counters:
                values.update(datelimit=None, warncount=0)
            conn.execute(update(userpquota).where(userpquota.c.id == entry.id).values(**values))
