"""Refunds in the SQL store (PyKota's pkrefund): one transaction per job.

How a refund is kept (PyKota's way, and honest about the original charge): the
job's history row stays, with the price and pages it was charged; its action
becomes REFUND and its reason starts with what went back, followed by the former
action and reason ("... (was allow: ok)"). The money is a REFUND payment (a
positive amount, like every payment here, its kind saying which way) whose
description names the job. The exact amount of a partial refund is in that
payment, not in the history row.

Once only: the row's action changes by a conditional UPDATE (`action IN
('allow', 'warn')`) after the user's row is locked, the same lock order as a
charge. Of two refunds of one job racing, the second waits for the first's locks
and then finds nothing to update (PostgreSQL re-checks the condition on the new
row version, MariaDB's UPDATE reads the latest committed row, SQLite writers
take turns): it is refused and its transaction rolled back, nothing changed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, case, insert, select, update

from pagetally.core.models import Action, JobRecord, PaymentKind
from pagetally.core.refunds import Refund, RefundResult, check_refund
from pagetally.errors import InvalidInput, NotFound, RuleError
from pagetally.storage import accounting, rows
from pagetally.storage.schema import (
    REASON_MAX,
    TEXT_MAX,
    billingcodes,
    jobhistory,
    payments,
    userpquota,
    users,
)
from pagetally.storage.sql_base import SqlBase
from pagetally.storage.types import to_money

_CHARGED = (Action.ALLOW.value, Action.WARN.value)


def _less(column: Any, amount: int) -> Any:
    """`column - amount`, never below 0 (a counter reset since the job was charged)."""
    return case((column >= amount, column - amount), else_=0)


def refunded_reason(job: JobRecord, refund: Refund) -> str:
    """The history row's new reason: the refund first (so that clipping keeps it),
    then what the row said before."""
    before = job.action.value + (f": {job.reason}" if job.reason else "")
    return f"{refund.reason} (was {before})"[:REASON_MAX]


def _job_row(conn: Connection, row_id: int, *, lock: bool = False) -> JobRecord:
    """History row `row_id`; `lock`: a locking read, which sees the latest committed
    row even inside MariaDB's REPEATABLE READ snapshot."""
    stmt = select(jobhistory).where(jobhistory.c.id == row_id)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise NotFound("job", str(row_id))
    return rows.job_of(row)


def apply_refund(conn: Connection, row_id: int, refund: Refund, date: datetime) -> RefundResult:
    """The refund of history row `row_id`, in the caller's write transaction."""
    job = _job_row(conn, row_id)
    check_refund(job, refund)
    amount = to_money(refund.amount)
    urow = conn.execute(
        select(users.c.id).where(users.c.username == job.user).with_for_update()
    ).first()
    if urow is None and (amount or refund.pages):
        raise NotFound("user", job.user)
    marked = conn.execute(
        update(jobhistory)
        .where(jobhistory.c.id == row_id, jobhistory.c.action.in_(_CHARGED))
        .values(action=Action.REFUND.value, reason=refunded_reason(job, refund))
    ).rowcount
    if marked != 1:  # a concurrent refund (or an edit) got there first
        check_refund(_job_row(conn, row_id, lock=True), refund)
        raise RuleError(f"job {job.job_id or job.id} changed while refunding it: try again")
    balance: Decimal | None = None
    if urow is not None:
        uid = int(urow.id)
        if amount:
            conn.execute(
                update(users).where(users.c.id == uid).values(balance=users.c.balance + amount)
            )
        conn.execute(
            insert(payments).values(
                userid=uid,
                amount=amount,
                kind=PaymentKind.REFUND.value,
                description=refund.reason[:TEXT_MAX],
                date=date,
            )
        )
        if refund.pages:
            chain = [int(p.id) for p in accounting.printer_chain(conn, job.printer) if p.id]
            if chain:
                conn.execute(
                    update(userpquota)
                    .where(userpquota.c.userid == uid, userpquota.c.printerid.in_(chain))
                    .values(
                        pagecounter=_less(userpquota.c.pagecounter, refund.pages),
                        lifepagecounter=_less(userpquota.c.lifepagecounter, refund.pages),
                    )
                )
        balance = accounting.balance_of(conn, job.user)
    if job.billing_code and (amount or refund.pages):
        conn.execute(
            update(billingcodes)
            .where(billingcodes.c.billingcode == job.billing_code)
            .values(
                balance=billingcodes.c.balance + amount,
                pagecounter=_less(billingcodes.c.pagecounter, refund.pages),
            )
        )
    return RefundResult(_job_row(conn, row_id), amount, refund.pages, balance)


class RefundMethods(SqlBase):
    """The Store's refund methods over SQL (mixed into SqlStore)."""

    def get_job(self, row_id: int) -> JobRecord:
        return self._read(lambda c: _job_row(c, row_id))

    def jobs_by_job_id(self, job_id: str, printer: str) -> list[JobRecord]:
        if not job_id:
            raise InvalidInput("a CUPS job id is needed")
        stmt = (
            select(jobhistory)
            .where(jobhistory.c.printername == printer, jobhistory.c.jobid == job_id)
            .order_by(jobhistory.c.jobdate, jobhistory.c.id)
        )
        return self._read(lambda c: [rows.job_of(r) for r in c.execute(stmt)])

    def refund(self, row_id: int, refund: Refund, date: datetime) -> RefundResult:
        return self._write(lambda c: apply_refund(c, row_id, refund, date))
