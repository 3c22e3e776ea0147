"""Invoice and receipt numbers (pkinvoice, refund receipts): issued once, never again.

Numbers are reserved in one transaction for a whole run: the next number is one
more than the highest ever issued (or the admin's `--number`, when higher), and
each is inserted as the primary key of `invoices`. Two admins issuing at once
cannot both get a number: the loser's insert violates the key and its unit of
work runs again, above the winner's numbers. A `--number` at or below one
already issued is refused: numbering never repeats, and never goes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, func, insert, select

from pagetally.errors import InvalidInput
from pagetally.storage.schema import invoices
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

        def work(conn: Connection) -> list[int]:
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
                        {
                            "number": n,
                            "kind": kind,
                            "username": user,
                            "amount": amount,
                            "issued": issued,
                        }
                        for n, (user, amount) in zip(numbers, bills, strict=True)
                    ],
                )
            return numbers

        return self._write(self._upsert(work))
