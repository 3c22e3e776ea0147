"""Printers, printer groups, billing codes and users' print-time PIN hashes:
the SQL store's catalogue part."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from pagetally.core.models import (
    BillingCode,
    PriceTable,
    Printer,
)
from pagetally.core.printergroups import check_no_cycle
from pagetally.errors import (
    AlreadyExists,
    NotFound,
)
from pagetally.storage import lookups, rows
from pagetally.storage import patterns as pat
from pagetally.storage.schema import (
    billingcodes,
    printergroupsmembers,
    printers,
    users,
)
from pagetally.storage.sql_base import SqlBase
from pagetally.storage.types import to_money


class CatalogMethods(SqlBase):
    """Printers (with nested printer groups), billing codes, PIN hashes."""

    # --- printers --------------------------------------------------------------
    def add_printer(self, printer: Printer) -> Printer:
        rows.check_name("printer", printer.name)
        self._check_prices(printer.prices)
        rows.check_count("max job size", printer.max_job_size)

        def work(conn: Connection) -> Printer:
            found = select(printers.c.id).where(printers.c.printername == printer.name)
            if conn.execute(found).first():
                raise AlreadyExists("printer", printer.name)
            stmt = insert(printers).values(
                printername=printer.name,
                description=printer.description,
                # PyKota's columns, to the store's 6 places; the exact table is `prices`
                priceperpage=to_money(printer.prices.per_page),
                priceperjob=to_money(printer.prices.per_job),
                prices=rows.prices_json(printer.prices),
                passthrough=printer.passthrough,
                maxjobsize=printer.max_job_size,
            )
            self._insert(conn, stmt, "printer", printer.name)
            return self._get_printer(conn, printer.name)

        return self._write(work)

    @staticmethod
    def _check_prices(prices: PriceTable) -> None:
        rows.check_price("price per page", prices.per_page)
        rows.check_price("price per job", prices.per_job)
        rows.check_price("price per sheet", prices.per_sheet)
        if prices.per_color_page is not None:
            rows.check_price("price per colour page", prices.per_color_page)
        for media, factor in prices.media.items():
            rows.check_price(f"media factor {media}", factor)

    @staticmethod
    def _get_printer(conn: Connection, name: str) -> Printer:
        row = conn.execute(select(printers).where(printers.c.printername == name)).first()
        if row is None:
            raise NotFound("printer", name)
        return rows.printer_of(row)

    def get_printer(self, name: str) -> Printer:
        return self._read(lambda c: self._get_printer(c, name))

    def find_printers(self, patterns: Sequence[str] = ("*",)) -> list[Printer]:
        if len(pat.in_chunks(patterns)) > 1:
            parts = [self.find_printers(chunk) for chunk in pat.in_chunks(patterns)]
            return pat.merged(parts, lambda p: p.name)
        stmt = select(printers).where(pat.where_names(printers.c.printername, patterns))
        return self._read(
            lambda c: [
                rows.printer_of(r)
                for r in c.execute(stmt.order_by(printers.c.printername))
                if pat.matches(r.printername, patterns)
            ]
        )

    def edit_printer(
        self,
        name: str,
        *,
        prices: PriceTable | None = None,
        max_job_size: int | None = None,
        clear_max_job_size: bool = False,
        passthrough: bool | None = None,
        description: str | None = None,
    ) -> Printer:
        values: dict[str, Any] = {}
        if prices is not None:
            self._check_prices(prices)
            values.update(
                priceperpage=to_money(prices.per_page),
                priceperjob=to_money(prices.per_job),
                prices=rows.prices_json(prices),
            )
        if clear_max_job_size:
            values["maxjobsize"] = None
        elif max_job_size is not None:
            values["maxjobsize"] = rows.check_count("max job size", max_job_size)
        if passthrough is not None:
            values["passthrough"] = passthrough
        if description is not None:
            values["description"] = description

        def work(conn: Connection) -> Printer:
            pid = lookups.printer_id(conn, name)
            if values:
                conn.execute(update(printers).where(printers.c.id == pid).values(**values))
            return self._get_printer(conn, name)

        return self._write(work)

    def delete_printer(self, name: str) -> None:
        def work(conn: Connection) -> None:
            pid = lookups.printer_id(conn, name)
            from pagetally.storage.schema import grouppquota, userpquota

            conn.execute(delete(userpquota).where(userpquota.c.printerid == pid))
            conn.execute(delete(grouppquota).where(grouppquota.c.printerid == pid))
            conn.execute(
                delete(printergroupsmembers).where(
                    (printergroupsmembers.c.printerid == pid)
                    | (printergroupsmembers.c.groupid == pid)
                )
            )
            conn.execute(delete(printers).where(printers.c.id == pid))

        self._write(work)

    def add_to_printer_group(self, group: str, printers: Sequence[str]) -> None:
        def work(conn: Connection) -> None:
            ids = lookups.printer_ids(conn, [group, *printers])
            parents = lookups.parents_map(conn)
            for member in dict.fromkeys(printers):
                if group in parents.get(member, set()):
                    continue
                check_no_cycle(parents, group, member)
                conn.execute(
                    insert(printergroupsmembers).values(groupid=ids[group], printerid=ids[member])
                )
                parents.setdefault(member, set()).add(group)

        self._write(work)

    def remove_from_printer_group(self, group: str, printers: Sequence[str]) -> None:
        def work(conn: Connection) -> None:
            ids = lookups.printer_ids(conn, [group, *printers])
            conn.execute(
                delete(printergroupsmembers).where(
                    printergroupsmembers.c.groupid == ids[group],
                    printergroupsmembers.c.printerid.in_([ids[p] for p in printers]),
                )
            )

        self._write(work)

    def printer_chain(self, printer: str) -> list[Printer]:
        def work(conn: Connection) -> list[Printer]:
            found = lookups.chain(conn, printer)
            if not found:
                raise NotFound("printer", printer)
            return found

        return self._read(work)

    def printer_group_members(self, group: str) -> list[Printer]:
        def work(conn: Connection) -> list[Printer]:
            gid = lookups.printer_id(conn, group)
            stmt = (
                select(printers)
                .join(printergroupsmembers, printergroupsmembers.c.printerid == printers.c.id)
                .where(printergroupsmembers.c.groupid == gid)
                .order_by(printers.c.printername)
            )
            return [rows.printer_of(r) for r in conn.execute(stmt)]

        return self._read(work)

    # --- billing codes ----------------------------------------------------------
    def add_billing_code(self, code: BillingCode) -> BillingCode:
        rows.check_name("billing code", code.code)
        balance = rows.check_money("balance", code.balance)
        rows.check_count("page counter", code.page_counter)

        def work(conn: Connection) -> BillingCode:
            found = select(billingcodes.c.id).where(billingcodes.c.billingcode == code.code)
            if conn.execute(found).first():
                raise AlreadyExists("billing code", code.code)
            stmt = insert(billingcodes).values(
                billingcode=code.code,
                description=code.description,
                balance=balance,
                pagecounter=code.page_counter,
            )
            self._insert(conn, stmt, "billing code", code.code)
            return self._get_code(conn, code.code)

        return self._write(work)

    @staticmethod
    def _get_code(conn: Connection, code: str) -> BillingCode:
        row = conn.execute(select(billingcodes).where(billingcodes.c.billingcode == code)).first()
        if row is None:
            raise NotFound("billing code", code)
        return rows.billing_code_of(row)

    def get_billing_code(self, code: str) -> BillingCode:
        return self._read(lambda c: self._get_code(c, code))

    def find_billing_codes(self, patterns: Sequence[str] = ("*",)) -> list[BillingCode]:
        if len(pat.in_chunks(patterns)) > 1:
            parts = [self.find_billing_codes(chunk) for chunk in pat.in_chunks(patterns)]
            return pat.merged(parts, lambda b: b.code)
        col = billingcodes.c.billingcode
        stmt = select(billingcodes).where(pat.where_names(col, patterns)).order_by(col)
        return self._read(
            lambda c: [
                rows.billing_code_of(r)
                for r in c.execute(stmt)
                if pat.matches(r.billingcode, patterns)
            ]
        )

    def edit_billing_code(
        self, code: str, *, description: str | None = None, balance: Decimal | None = None
    ) -> BillingCode:
        values: dict[str, Any] = {}
        if description is not None:
            values["description"] = description
        if balance is not None:
            values["balance"] = rows.check_money("balance", balance)

        def work(conn: Connection) -> BillingCode:
            self._get_code(conn, code)
            if values:
                conn.execute(
                    update(billingcodes).where(billingcodes.c.billingcode == code).values(**values)
                )
            return self._get_code(conn, code)

        return self._write(work)

    def delete_billing_code(self, code: str) -> None:
        def work(conn: Connection) -> None:
            self._get_code(conn, code)
            conn.execute(delete(billingcodes).where(billingcodes.c.billingcode == code))

        self._write(work)

    # --- print-time PINs (printauth: pin) ---------------------------------------
    def get_user_pin_hash(self, name: str) -> str | None:
        """The user's PIN hash (core/pins.py), None when none is set;
        NotFound for an unknown user."""

        def work(conn: Connection) -> str | None:
            row = conn.execute(select(users.c.pinhash).where(users.c.username == name)).first()
            if row is None:
                raise NotFound("user", name)
            return None if row.pinhash is None else str(row.pinhash)

        return self._read(work)

    def set_user_pin_hash(self, name: str, pin_hash: str | None) -> None:
        """Store a PIN hash (never a PIN: see core/pins.hash_pin); None clears it."""

        def work(conn: Connection) -> None:
            uid = lookups.user_id(conn, name)
            conn.execute(update(users).where(users.c.id == uid).values(pinhash=pin_hash))

        self._write(work)
