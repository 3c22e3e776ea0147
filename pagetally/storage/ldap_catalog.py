"""The LDAP store's catalogue: printers and printer groups, quota entries, billing
codes, written as PyKota wrote them (storage/ldap.py's `LdapStore` mixes it in).

Printer groups are PyKota's: a pykotaPrinter entry whose uniqueMember values are
its printers' DNs. Quota entries PageTally makes are named by a digest of (user
or group, printer), so that two writers making the same entry make one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import ldap3

from pagetally.core.models import BillingCode, GroupQuota, PriceTable, Printer, UserQuota
from pagetally.core.printergroups import check_no_cycle
from pagetally.errors import AlreadyExists, NotFound
from pagetally.storage import rows
from pagetally.storage.ldap_charge import user_quota_dn
from pagetally.storage.ldap_io import (
    ALREADY_EXISTS,
    NO_SUCH_ATTRIBUTE,
    VALUE_EXISTS,
    digest,
    money_text,
    rdn,
)
from pagetally.storage.ldap_read import Entry, LdapReads

_SET = ldap3.MODIFY_REPLACE


class LdapCatalog(LdapReads):
    """Printers, quota entries and billing codes of the LDAP store."""

    def _group(self, name: str) -> Entry:
        entry = self.group_entry(name)
        if entry is None:
            raise NotFound("group", name)
        return entry

    # --- printers ---
    def _printer_attrs(self, printer: Printer) -> dict[str, Any]:
        return {
            "pykotaPrinterName": printer.name,
            "pykotaPassThrough": "t" if printer.passthrough else "f",
            "pykotaMaxJobSize": printer.max_job_size,
            "description": printer.description or None,
            "pykotaPricePerPage": money_text(printer.prices.per_page),
            "pykotaPricePerJob": money_text(printer.prices.per_job),
            "pagetallyData": json.dumps({"prices": printer.prices.to_dict()}, sort_keys=True),
        }

    @staticmethod
    def _check_prices(prices: PriceTable) -> None:
        for what, value in (
            ("price per page", prices.per_page),
            ("price per job", prices.per_job),
            ("price per sheet", prices.per_sheet),
        ):
            rows.check_money(what, value, negative_ok=False)
        if prices.per_color_page is not None:
            rows.check_money("price per colour page", prices.per_color_page, negative_ok=False)

    def add_printer(self, printer: Printer) -> Printer:
        rows.check_name("printer", printer.name)
        self._check_prices(printer.prices)
        rows.check_count("max job size", printer.max_job_size, rows.LIMIT_MAX)
        if self.printer_entry(printer.name) is not None:
            raise AlreadyExists("printer", printer.name)
        lay = self.layout
        dn = rdn(lay.printerrdn, printer.name, lay.printerbase)
        attrs = {lay.printerrdn: printer.name, "cn": printer.name, **self._printer_attrs(printer)}
        classes = ["pykotaObject", "pykotaPrinter", "pagetallyExtra"]
        if self.d.add(dn, classes, attrs):
            dn = rdn("pykotaPrinterName", printer.name, lay.printerbase)  # same name but for case
            if self.d.add(dn, classes, attrs):
                raise AlreadyExists("printer", printer.name)
        return self.get_printer(printer.name)

    def _printer(self, name: str) -> Entry:
        entry = self.printer_entry(name)
        if entry is None:
            raise NotFound("printer", name)
        return entry

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
        entry = self._printer(name)
        old = self.printer_of(entry)
        if prices is not None:
            self._check_prices(prices)
        rows.check_count("max job size", max_job_size, rows.LIMIT_MAX)
        new = Printer(
            name=old.name,
            description=old.description if description is None else description,
            prices=old.prices if prices is None else prices,
            max_job_size=None
            if clear_max_job_size
            else (old.max_job_size if max_job_size is None else max_job_size),
            passthrough=old.passthrough if passthrough is None else passthrough,
        )
        attrs = self._printer_attrs(new)
        changes: dict[str, Any] = {k: [(_SET, [] if v is None else [v])] for k, v in attrs.items()}
        if "pagetallyExtra" not in [str(c) for c in entry[1].get("objectClass") or []]:
            changes = {"objectClass": [(ldap3.MODIFY_ADD, ["pagetallyExtra"])], **changes}
        self.d.modify(entry[0], changes)
        return self.get_printer(name)

    def delete_printer(self, name: str) -> None:
        entry = self._printer(name)
        for q in self.user_quota_entries(None, [name]):
            self.d.delete(q[0])
        for q in self.group_quota_entries(None, [name]):
            self.d.delete(q[0])
        for e in self.printer_entries():
            if entry[0].lower() in [str(m).lower() for m in e[1].get("uniqueMember") or []]:
                self.d.modify(
                    e[0],
                    {"uniqueMember": [(ldap3.MODIFY_DELETE, [entry[0]])]},
                    expect=(NO_SUCH_ATTRIBUTE,),
                )
        self.d.delete(entry[0])

    def add_to_printer_group(self, group: str, printers: Sequence[str]) -> None:
        gentry = self._printer(group)
        parents = self.parents_map()
        dns = []
        for p in printers:
            check_no_cycle(parents, group, p)
            dns.append(self._printer(p)[0])
            parents.setdefault(p, set()).add(group)
        have = {str(m).lower() for m in gentry[1].get("uniqueMember") or []}
        new = [dn for dn in dict.fromkeys(dns) if dn.lower() not in have]
        if new:
            self.d.modify(
                gentry[0], {"uniqueMember": [(ldap3.MODIFY_ADD, new)]}, expect=(VALUE_EXISTS,)
            )

    def remove_from_printer_group(self, group: str, printers: Sequence[str]) -> None:
        gentry = self._printer(group)
        have = {str(m).lower(): str(m) for m in gentry[1].get("uniqueMember") or []}
        for p in printers:
            dn = self._printer(p)[0]
            if dn.lower() in have:
                self.d.modify(
                    gentry[0],
                    {"uniqueMember": [(ldap3.MODIFY_DELETE, [have[dn.lower()]])]},
                    expect=(NO_SUCH_ATTRIBUTE,),
                )

    # --- quotas ---
    @staticmethod
    def _limits(soft: int | None, hard: int | None, size: int | None) -> dict[str, Any]:
        for what, v in (("soft limit", soft), ("hard limit", hard), ("max job size", size)):
            rows.check_count(what, v, rows.LIMIT_MAX)
        return {
            "pykotaSoftLimit": "None" if soft is None else str(soft),
            "pykotaHardLimit": "None" if hard is None else str(hard),
            "pykotaMaxJobSize": size,
        }

    def set_user_quota(
        self,
        user: str,
        printer: str,
        *,
        soft_limit: int | None = None,
        hard_limit: int | None = None,
        max_job_size: int | None = None,
    ) -> UserQuota:
        limits = self._limits(soft_limit, hard_limit, max_job_size)
        if self.user_entry(user) is None:
            raise NotFound("user", user)
        self._printer(printer)
        found = self.user_quota_entries(user, [printer])
        if found:
            self.d.modify(
                found[0][0], {k: [(_SET, [] if v is None else [v])] for k, v in limits.items()}
            )
        else:
            dn = user_quota_dn(self, user, printer)
            attrs = {
                "cn": dn.split(",", 1)[0][3:],
                "pykotaUserName": user,
                "pykotaPrinterName": printer,
                "pykotaPageCounter": 0,
                "pykotaLifePageCounter": 0,
                "pykotaWarnCount": 0,
                "pykotaDateLimit": "None",
                **limits,
            }
            if (
                self.d.add(dn, ["pykotaObject", "pykotaUserPQuota", "pagetallyExtra"], attrs)
                == ALREADY_EXISTS
            ):
                self.d.modify(
                    dn, {k: [(_SET, [] if v is None else [v])] for k, v in limits.items()}
                )
        return self.get_user_quota(user, printer)

    def set_group_quota(
        self,
        group: str,
        printer: str,
        *,
        soft_limit: int | None = None,
        hard_limit: int | None = None,
        max_job_size: int | None = None,
    ) -> GroupQuota:
        limits = self._limits(soft_limit, hard_limit, max_job_size)
        self._group(group)
        self._printer(printer)
        found = self.group_quota_entries(group, [printer])
        changes = {k: [(_SET, [] if v is None else [v])] for k, v in limits.items()}
        if found:
            self.d.modify(found[0][0], changes)
        else:
            name = "gq-" + digest(group, printer)
            dn = rdn("cn", name, self.layout.groupquotabase)
            attrs = {
                "cn": name,
                "pykotaGroupName": group,
                "pykotaPrinterName": printer,
                "pykotaDateLimit": "None",
                **limits,
            }
            if self.d.add(dn, ["pykotaObject", "pykotaGroupPQuota"], attrs) == ALREADY_EXISTS:
                self.d.modify(dn, changes)
        return self.get_group_quota(group, printer)

    def set_quotas(
        self,
        entries: Sequence[tuple[str, str, int | None, int | None, int | None]],
        *,
        group: bool = False,
    ) -> int:
        for name, printer, soft, hard, size in entries:
            if group:
                self.set_group_quota(
                    name, printer, soft_limit=soft, hard_limit=hard, max_job_size=size
                )
            else:
                self.set_user_quota(
                    name, printer, soft_limit=soft, hard_limit=hard, max_job_size=size
                )
        return len(entries)

    def reset_quotas(self, entries: Sequence[tuple[str, str, int, int | None]]) -> int:
        for user, printer, counter, life in entries:
            self.reset_user_quota(
                user,
                printer,
                page_counter=counter,
                lifetime=life is not None,
                life_page_counter=life,
            )
        return len(entries)

    def delete_user_quota(self, user: str, printer: str) -> None:
        found = self.user_quota_entries(user, [printer])
        if not found:
            self._exist(user=user, printer=printer)
            raise NotFound("quota entry", f"{user} on {printer}")
        self.d.delete(found[0][0])

    def delete_group_quota(self, group: str, printer: str) -> None:
        found = self.group_quota_entries(group, [printer])
        if not found:
            self._exist(group=group, printer=printer)
            raise NotFound("group quota entry", f"{group} on {printer}")
        self.d.delete(found[0][0])

    def reset_user_quota(
        self,
        user: str,
        printer: str,
        *,
        page_counter: int = 0,
        lifetime: bool = False,
        life_page_counter: int | None = None,
    ) -> UserQuota:
        rows.check_count("page counter", page_counter)
        rows.check_count("life page counter", life_page_counter)
        found = self.user_quota_entries(user, [printer])
        if not found:
            self._exist(user=user, printer=printer)
            raise NotFound("quota entry", f"{user} on {printer}")
        changes: dict[str, Any] = {
            "pykotaPageCounter": [(_SET, [page_counter])],
            "pykotaDateLimit": [(_SET, ["None"])],
        }
        if lifetime:
            life = page_counter if life_page_counter is None else life_page_counter
            changes["pykotaLifePageCounter"] = [(_SET, [life])]
        self.d.modify(found[0][0], changes)
        return self.get_user_quota(user, printer)

    # --- billing codes ---
    def add_billing_code(self, code: BillingCode) -> BillingCode:
        rows.check_name("billing code", code.code)
        balance = rows.check_money("balance", code.balance)
        if self.code_entry(code.code) is not None:
            raise AlreadyExists("billing code", code.code)
        name = "bc-" + digest(code.code)
        dn = rdn("cn", name, self.layout.billingcodebase)
        attrs = {
            "cn": name,
            "pykotaBillingCode": code.code,
            "pykotaBalance": money_text(balance),
            "pykotaPageCounter": code.page_counter,
            "description": code.description or None,
        }
        if self.d.add(dn, ["pykotaObject", "pykotaBilling", "pagetallyExtra"], attrs):
            raise AlreadyExists("billing code", code.code)
        return self.get_billing_code(code.code)

    def _code(self, code: str) -> Entry:
        entry = self.code_entry(code)
        if entry is None:
            raise NotFound("billing code", code)
        return entry

    def edit_billing_code(
        self, code: str, *, description: str | None = None, balance: Decimal | None = None
    ) -> BillingCode:
        entry = self._code(code)
        changes: dict[str, Any] = {}
        if description is not None:
            changes["description"] = [(_SET, [description] if description else [])]
        if balance is not None:
            changes["pykotaBalance"] = [(_SET, [money_text(rows.check_money("balance", balance))])]
        if changes:
            self.d.modify(entry[0], changes)
        return self.get_billing_code(code)

    def delete_billing_code(self, code: str) -> None:
        self.d.delete(self._code(code)[0])
