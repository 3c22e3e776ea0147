"""The web interface's own rows: local web passwords and refund requests.

Kept apart from the tables the print path reads: a user row never carries a
password, and a refund request is only a request until an admin approves it.

A refund made on the web is one unit of work (`refund_with_receipt`,
`approve_refund_request`): the refund (storage/refunds.py, as `pagetally jobs
refund`), its receipt's number and record (storage/invoices.py) and, for an
approval, the request marked approved commit together or not at all. The
request is marked first, by a conditional UPDATE (`state = 'pending'`): of two
admins approving at once the second waits on the request's row and then finds
nothing to update (PostgreSQL re-checks the condition on the new row version,
MariaDB's UPDATE reads the latest committed row, SQLite writers take turns), so
it is refused and refunds nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, delete, insert, select, update

from pagetally.core.invoices import RefundReceipt
from pagetally.core.refundrequests import RefundRequest, RequestState, WebRefund
from pagetally.core.refunds import Refund, RefundResult
from pagetally.errors import InvalidInput, NotFound, RuleError
from pagetally.storage import rows
from pagetally.storage.invoices import keep_receipt
from pagetally.storage.refunds import apply_refund
from pagetally.storage.schema import (
    invoices,
    refundrequests,
    webpasswords,
    webrevoked,
)
from pagetally.storage.sql_base import SqlBase


def _request(row: object) -> RefundRequest:
    m = row._mapping  # type: ignore[attr-defined]
    return RefundRequest(
        id=int(m["id"]),
        job_row=int(m["jobrowid"]),
        user=str(m["username"]),
        reason=str(m["reason"]),
        created=m["created"],
        state=RequestState(m["state"]),
        decided_by=m["decidedby"],
        decided=m["decided"],
        note=str(m["note"] or ""),
    )


class WebMethods(SqlBase):
    """The store's part for the web interface (storage/base.py's WebStore)."""

    def get_web_password_hash(self, name: str) -> str | None:
        def work(conn: Connection) -> str | None:
            got = conn.execute(
                select(webpasswords.c.passwordhash).where(webpasswords.c.username == name)
            ).scalar()
            return None if got is None else str(got)

        return self._read(work)

    def set_web_password_hash(self, name: str, pw_hash: str | None, date: datetime) -> None:
        rows.check_name("user", name)

        def work(conn: Connection) -> None:
            conn.execute(delete(webpasswords).where(webpasswords.c.username == name))
            if pw_hash is not None:
                conn.execute(
                    insert(webpasswords).values(username=name, passwordhash=pw_hash, updated=date)
                )

        self._write(work)

    def revoke_web_session(self, nonce: str, expires: datetime, now: datetime) -> None:
        """Refuse the session `nonce` until `expires` (its cookie's end), and forget
        the revoked sessions whose cookies expired before `now`."""

        def work(conn: Connection) -> None:
            conn.execute(delete(webrevoked).where(webrevoked.c.expires < now))
            known = conn.execute(
                select(webrevoked.c.nonce).where(webrevoked.c.nonce == nonce)
            ).first()
            if known is None and expires >= now:
                conn.execute(insert(webrevoked).values(nonce=nonce, expires=expires))

        self._write(self._upsert(work))

    def web_session_revoked(self, nonce: str) -> bool:
        def work(conn: Connection) -> bool:
            return (
                conn.execute(select(webrevoked.c.nonce).where(webrevoked.c.nonce == nonce)).first()
                is not None
            )

        return self._read(work)

    def invoice_number_of(self, kind: str, user: str) -> int | None:
        """The number issued before to `user` for `kind` (a web monthly invoice)."""

        def work(conn: Connection) -> int | None:
            got = conn.execute(
                select(invoices.c.number).where(
                    invoices.c.kind == kind, invoices.c.username == user
                )
            ).scalar()
            return None if got is None else int(got)

        return self._read(work)

    def add_refund_request(
        self, job_row: int, user: str, reason: str, date: datetime
    ) -> RefundRequest:
        def work(conn: Connection) -> RefundRequest:
            pending = conn.execute(
                select(refundrequests.c.id).where(
                    refundrequests.c.jobrowid == job_row,
                    refundrequests.c.state == RequestState.PENDING.value,
                )
            ).first()
            if pending is not None:
                raise RuleError(f"a refund of job {job_row} was asked already")
            new_id = conn.execute(
                insert(refundrequests).values(
                    jobrowid=job_row,
                    username=user,
                    reason=reason,
                    created=date,
                    state=RequestState.PENDING.value,
                )
            ).inserted_primary_key
            assert new_id is not None
            return RefundRequest(int(new_id[0]), job_row, user, reason, date)

        return self._write(work)

    def refund_requests(
        self, *, user: str | None = None, state: RequestState | None = None
    ) -> list[RefundRequest]:
        """Requests, newest first; `user`/`state` narrow."""

        def work(conn: Connection) -> list[RefundRequest]:
            q = select(refundrequests).order_by(refundrequests.c.id.desc())
            if user is not None:
                q = q.where(refundrequests.c.username == user)
            if state is not None:
                q = q.where(refundrequests.c.state == state.value)
            return [_request(r) for r in conn.execute(q)]

        return self._read(work)

    def get_refund_request(self, request_id: int) -> RefundRequest:
        def work(conn: Connection) -> RefundRequest:
            row = conn.execute(
                select(refundrequests).where(refundrequests.c.id == request_id)
            ).first()
            if row is None:
                raise NotFound("refund request", str(request_id))
            return _request(row)

        return self._read(work)

    def decide_refund_request(
        self, request_id: int, state: RequestState, by: str, date: datetime, note: str = ""
    ) -> RefundRequest:
        """Refuse a pending request; RuleError when it was decided already (two
        admins at once: one wins). An approval refunds: `approve_refund_request`."""
        if state is not RequestState.REFUSED:
            raise InvalidInput("a request is approved by approve_refund_request (it refunds)")
        return self._write(lambda conn: _decide(conn, request_id, state, by, date, note))

    def refund_with_receipt(self, row_id: int, refund: Refund, date: datetime) -> WebRefund:
        """Refund history row `row_id` (as `refund`) and number and keep its
        receipt, in one transaction (an admin's refund on the web)."""

        def work(conn: Connection) -> WebRefund:
            done = apply_refund(conn, row_id, refund, date)
            return WebRefund(done, _receipt_of(conn, done, date))

        return self._write(self._upsert(work))

    def approve_refund_request(
        self, request_id: int, refund: Refund, by: str, date: datetime, note: str = ""
    ) -> WebRefund:
        """Approve pending request `request_id`: the request marked approved, its
        job refunded (`refund`, made by core.refunds.refund_for from the job),
        the receipt numbered and kept, in one transaction. RuleError (nothing
        changed) when the request was decided already or the job cannot be
        refunded (refunded meanwhile: the request stays pending)."""

        def work(conn: Connection) -> WebRefund:
            req = _decide(conn, request_id, RequestState.APPROVED, by, date, note)
            done = apply_refund(conn, req.job_row, refund, date)
            return WebRefund(done, _receipt_of(conn, done, date), req)

        return self._write(self._upsert(work))

    # --- the web's side store (storage/webside.py): numbers issued elsewhere ---
    def record_invoice_number(
        self, kind: str, user: str, amount: Decimal, issued: datetime, number: int
    ) -> int:
        """Keep `number` (issued by the accounting store) as `user`'s for `kind`;
        the one kept before when there is one (then `number` stays unused)."""

        def work(conn: Connection) -> int:
            got = conn.execute(
                select(invoices.c.number).where(
                    invoices.c.kind == kind, invoices.c.username == user
                )
            ).scalar()
            if got is not None:
                return int(got)
            conn.execute(
                insert(invoices).values(
                    number=number, kind=kind, username=user, amount=amount, issued=issued
                )
            )
            return number

        return self._write(self._upsert(work))

    def record_web_refund(
        self, receipt: RefundReceipt, request_id: int | None, by: str, note: str
    ) -> tuple[RefundReceipt, RefundRequest | None]:
        """After the accounting store refunded: keep `receipt` (numbered there)
        and mark request `request_id` approved, in one transaction. RuleError
        (nothing kept) when the request was decided already; the receipt kept
        before for the job when there is one."""

        def work(conn: Connection) -> tuple[RefundReceipt, RefundRequest | None]:
            req = None
            if request_id is not None:
                req = _decide(conn, request_id, RequestState.APPROVED, by, receipt.issued, note)
            return keep_receipt(conn, receipt), req

        return self._write(self._upsert(work))


def _receipt_of(conn: Connection, done: RefundResult, date: datetime) -> RefundReceipt:
    d, row = done, done.job.id
    assert row is not None
    draft = RefundReceipt(row, 0, d.job.user, d.amount, d.pages, d.balance_after, date)
    return keep_receipt(conn, draft)


def _decide(
    conn: Connection,
    request_id: int,
    state: RequestState,
    by: str,
    date: datetime,
    note: str,
) -> RefundRequest:
    """Mark pending request `request_id` `state`, in the caller's transaction;
    RuleError when it was decided already."""
    done = conn.execute(
        update(refundrequests)
        .where(
            refundrequests.c.id == request_id,
            refundrequests.c.state == RequestState.PENDING.value,
        )
        .values(state=state.value, decidedby=by, decided=date, note=note)
    ).rowcount
    row = conn.execute(select(refundrequests).where(refundrequests.c.id == request_id)).first()
    if row is None:
        raise NotFound("refund request", str(request_id))
    if not done:
        raise RuleError(f"refund request {request_id} was decided already")
    return _request(row)
