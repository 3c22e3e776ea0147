"""Invoice and receipt numbers (pkinvoice, refund receipts): issued once, never again.

Numbers are reserved in one transaction for a whole run: the next number is one
more than the highest ever issued (or the admin's `--number`, when higher), and
each is inserted as the primary key of `invoices`. Two admins issuing at once
cannot both get a number: the loser's insert violates the key and its unit of
work runs again, above the winner's numbers. A `--number` at or below one
already issued is refused: numbering never repeats, and never goes back.

A web monthly invoice keeps the number it was first given (`invoice_number_for`:
the user's row locked, then looked up or issued, in one transaction), and a
refund made on the web keeps its receipt (`refundreceipts`, one per job row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, func, insert, select

from pagetally.core.invoices import RefundReceipt
from pagetally.errors import InvalidInput
from pagetally.storage.schema import invoices, refundreceipts, users
from pagetally.storage.sql_base import SqlBase


class InvoiceMethods(SqlBase):
    """The store's part that numbers invoices and receipts."""

    def last_invoice_number(self) -> int:
        """The highest number issued so far (0 when none)."""

        def work(conn: Connection) -> int:
            return int(conn.execute(select(func.max(invoices.c.number))).scalar() or 0)

        return self._read(work)

    def issue_numbers(
        self,
        kind: str,
        bills: Sequence[tuple[str, Decimal]],
        issued: datetime,
        first: int | None = None,
    ) -> list[int]:
        """Reserve one number per (user, amount), in order; `first`: the first one."""
        return self._write(self._upsert(lambda conn: _issue(conn, kind, bills, issued, first)))

    def invoice_number_for(self, kind: str, user: str, amount: Decimal, issued: datetime) -> int:
        """The number issued to `user` for `kind` before, else a new one, in one
        transaction: two first downloads of the same invoice at once get one
        number (the user's row is locked first on a server database; SQLite's
        writers take turns), and a number lost to a concurrent issuer is retried."""

        def work(conn: Connection) -> int:
            conn.execute(select(users.c.id).where(users.c.username == user).with_for_update())
            got = conn.execute(
                select(invoices.c.number)
                .where(invoices.c.kind == kind, invoices.c.username == user)
                .order_by(invoices.c.number)
                .limit(1)
            ).scalar()
            if got is not None:
                return int(got)
            return _issue(conn, kind, [(user, amount)], issued)[0]

        return self._write(self._upsert(work))

    def refund_receipt(self, job_row: int) -> RefundReceipt | None:
        """The receipt of the job in history row `job_row` refunded from the web."""

        def work(conn: Connection) -> RefundReceipt | None:
            row = conn.execute(
                select(refundreceipts).where(refundreceipts.c.jobrowid == job_row)
            ).first()
            return None if row is None else receipt_of_row(row)

        return self._read(work)

    def refund_receipts(self, user: str | None = None) -> list[RefundReceipt]:
        """Receipts of web refunds, newest first; `user`: theirs only."""

        def work(conn: Connection) -> list[RefundReceipt]:
            q = select(refundreceipts).order_by(refundreceipts.c.number.desc())
            if user is not None:
                q = q.where(refundreceipts.c.username == user)
            return [receipt_of_row(r) for r in conn.execute(q)]

        return self._read(work)

    def issue_refund_receipt(
        self,
        job_row: int,
        user: str,
        amount: Decimal,
        pages: int,
        balance_after: Decimal | None,
        issued: datetime,
    ) -> RefundReceipt:
        """Number the receipt of a web refund (kind "receipt", the sequence of
        invoices and of `jobs refund --receipt`) and keep what it says; the one
        issued before when there is one (a job has one receipt)."""

        draft = RefundReceipt(job_row, 0, user, amount, pages, balance_after, issued)
        return self._write(self._upsert(lambda conn: keep_receipt(conn, draft)))


def keep_receipt(conn: Connection, draft: RefundReceipt) -> RefundReceipt:
    """The receipt `draft`, numbered (number 0: from this store's sequence; else
    the number the accounting store issued, storage/webside.py) and kept in the
    caller's write transaction; the one kept before for its job when there is one."""
    row = conn.execute(
        select(refundreceipts).where(refundreceipts.c.jobrowid == draft.job_row)
    ).first()
    if row is not None:
        return receipt_of_row(row)
    number = draft.number
    if number:  # in whatever order concurrent approvals got theirs
        conn.execute(insert(invoices).values(_invoice_row(number, "receipt", draft)))
    else:
        number = _issue(conn, "receipt", [(draft.user, draft.amount)], draft.issued)[0]
    conn.execute(
        insert(refundreceipts).values(
            jobrowid=draft.job_row,
            number=number,
            username=draft.user,
            amount=draft.amount,
            pages=draft.pages,
            balanceafter=draft.balance_after,
            issued=draft.issued,
        )
    )
    return replace(draft, number=number)


def _invoice_row(number: int, kind: str, draft: RefundReceipt) -> dict[str, object]:
    return {
        "number": number,
        "kind": kind,
        "username": draft.user,
        "amount": draft.amount,
        "issued": draft.issued,
    }


def receipt_of_row(row: object) -> RefundReceipt:
    m = row._mapping  # type: ignore[attr-defined]
    return RefundReceipt(
        int(m["jobrowid"]),
        int(m["number"]),
        str(m["username"]),
        m["amount"],
        int(m["pages"]),
        m["balanceafter"],
        m["issued"],
    )


def _issue(
    conn: Connection,
    kind: str,
    bills: Sequence[tuple[str, Decimal]],
    issued: datetime,
    first: int | None = None,
) -> list[int]:
    """Insert the next numbers (from `first`, when given) for `bills`."""
    last = int(conn.execute(select(func.max(invoices.c.number))).scalar() or 0)
    if first is not None and first <= last:
        raise InvalidInput(
            f"invoice number {first} is not free: numbers up to {last} were issued "
            f"already (numbers never repeat; the next is {last + 1})"
        )
    start = last + 1 if first is None else first
    numbers = list(range(start, start + len(bills)))
    if numbers:
        conn.execute(
            insert(invoices),
            [
                {"number": n, "kind": kind, "username": user, "amount": amount, "issued": issued}
                for n, (user, amount) in zip(numbers, bills, strict=True)
            ],
        )
    return numbers
