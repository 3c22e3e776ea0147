"""Allowances over LDAP: stored, listed, granted once per period.

An allowance is a pagetallyAllowance entry (its terms as JSON) in the payments
branch; a grant is a pagetallyGrant entry named by (allowance, period), so the
directory itself refuses a second grant of one period (entryAlreadyExists) —
the once-only rule needs no transaction. The credit and the page counters of
each user reached are then changed by compare-and-swap, one entry at a time.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

import ldap3

from pagetally.core.allowances import applies_to_printer, credit_to_grant, pages_after_grant
from pagetally.core.models import Allowance, Payment, PaymentKind, Period
from pagetally.errors import InvalidInput, NotFound, StorageError
from pagetally.storage import rows
from pagetally.storage.ldap_io import (
    ALREADY_EXISTS,
    CONSTRAINT,
    NO_SUCH_ATTRIBUTE,
    VALUE_EXISTS,
    Directory,
    digest,
    first,
    gtime,
    int_of,
    money_text,
    rdn,
    text_of,
)
from pagetally.storage.ldap_read import LdapReads


def _wild(pattern: str) -> bool:
    return any(ch in "*?[" for ch in pattern)


class LdapGrants:
    """Mixed into the LDAP store: its reads (`LdapReads`) and directory are used."""

    d: Directory

    def _reads(self) -> LdapReads:
        assert isinstance(self, LdapReads)
        return self

    def add_allowance(self, allowance: Allowance) -> Allowance:
        reads = self._reads()
        rows.check_name("allowance target", allowance.target)
        if not _wild(allowance.target):
            if allowance.is_group and reads.group_entry(allowance.target) is None:
                raise NotFound("group", allowance.target)
            if not allowance.is_group and reads.user_entry(allowance.target) is None:
                raise NotFound("user", allowance.target)
        credit = rows.check_money("allowance credit", allowance.credit, negative_ok=False)
        cap = None
        if allowance.cap is not None:
            cap = rows.check_money("allowance cap", allowance.cap, negative_ok=False)
        rows.check_count("allowance pages", allowance.pages)
        if allowance.printer != "*" and reads.printer_entry(allowance.printer) is None:
            raise NotFound("printer", allowance.printer)
        number = time.time_ns() // 1000  # increasing: allowances list in the order added
        terms = {
            "target": allowance.target,
            "is_group": allowance.is_group,
            "period": Period(allowance.period).value,
            "credit": str(credit),
            "cap": None if cap is None else str(cap),
            "pages": allowance.pages,
            "reset_counters": allowance.reset_counters,
            "printer": allowance.printer or "*",
            "description": allowance.description,
        }
        name = f"allowance-{number}"
        self.d.add(
            rdn("cn", name, reads.layout.paymentbase),
            ["pykotaObject", "pagetallyAllowance"],
            {"cn": name, "pagetallyNumber": number, "pagetallyData": json.dumps(terms)},
        )
        return self._allowance(number)

    def _allowance_entries(self, number: int | None = None) -> list[tuple[str, dict[str, Any]]]:
        flt = "(objectClass=pagetallyAllowance)"
        if number is not None:
            flt = f"(&{flt}(pagetallyNumber={int(number)}))"
        return self.d.search(self._reads().layout.paymentbase, flt)

    @staticmethod
    def _allowance_of(attrs: dict[str, Any]) -> Allowance:
        t = json.loads(text_of(attrs.get("pagetallyData")) or "{}")
        return Allowance(
            target=str(t["target"]),
            is_group=bool(t["is_group"]),
            period=Period(t["period"]),
            credit=Decimal(t["credit"]),
            cap=None if t.get("cap") is None else Decimal(t["cap"]),
            pages=int(t["pages"]),
            reset_counters=bool(t["reset_counters"]),
            printer=str(t["printer"]),
            description=str(t.get("description") or ""),
            id=int_of(attrs.get("pagetallyNumber")),
        )

    def _allowance(self, number: int) -> Allowance:
        found = self._allowance_entries(number)
        if not found:
            raise NotFound("allowance", str(number))
        return self._allowance_of(found[0][1])

    def allowances(self) -> list[Allowance]:
        out = [self._allowance_of(a) for _dn, a in self._allowance_entries()]
        return sorted(out, key=lambda a: a.id or 0)

    def delete_allowance(self, allowance_id: int) -> None:
        found = self._allowance_entries(allowance_id)
        if not found:
            raise NotFound("allowance", str(allowance_id))
        self.d.delete(found[0][0])

    def apply_allowance(self, allowance: Allowance, period_key: str, date: datetime) -> bool:
        if allowance.id is None:
            raise InvalidInput("apply_allowance needs a stored allowance (with an id)")
        if not period_key or len(period_key) > 32:
            raise InvalidInput(f"bad allowance period key {period_key!r}")
        current = self._allowance(allowance.id)  # the stored terms win over the caller's copy
        reads = self._reads()
        name = "grant-" + digest(str(current.id), period_key)
        code = self.d.add(
            rdn("cn", name, reads.layout.paymentbase),
            ["pykotaObject", "pagetallyGrant"],
            {"cn": name, "pagetallyNumber": current.id, "pagetallyPeriod": period_key,
             "pagetallyDate": gtime(date)},
        )  # fmt: skip
        if code == ALREADY_EXISTS:
            return False
        for user in self._targets(current):
            self._grant_user(user, current, date, period_key)
        return True

    def _targets(self, allowance: Allowance) -> list[str]:
        reads = self._reads()
        target = allowance.target
        if allowance.is_group:
            groups = [g.name for g in reads.find_groups([target])]
            if not _wild(target) and not groups:
                raise NotFound("group", target)
            names: set[str] = set()
            for g in groups:
                entry = reads.group_entry(g)
                if entry is not None:
                    names.update(reads.member_names(entry))
            return sorted(names)
        if _wild(target):
            return [u.name for u in reads.find_users() if fnmatchcase(u.name, target)]
        return [reads.get_user(target).name]

    def _grant_user(self, user: str, allowance: Allowance, date: datetime, period: str) -> None:
        reads = self._reads()
        if allowance.credit > 0:
            bentry = reads.balance_entry(user, reads.user_entry(user))
            if bentry is not None:
                amount = self._credit(bentry[0], allowance)
                if amount > 0:
                    note = allowance.description or f"allowance {allowance.id}"
                    record = getattr(self, "_record_payment")  # noqa: B009 (the store's)
                    record(Payment(user, amount, PaymentKind.FREE, f"{note} ({period})"[:255],
                                   date))  # fmt: skip
        if allowance.reset_counters or allowance.pages > 0:
            for dn, attrs in reads.user_quota_entries(user, None):
                if applies_to_printer(allowance, text_of(attrs.get("pykotaPrinterName"))):
                    self._lower_counter(dn, allowance)

    def _credit(self, dn: str, allowance: Allowance) -> Decimal:
        """Credit the balance (up to the cap) by compare-and-swap; what was given."""
        for _attempt in range(1000):
            current = self.d.read(dn, ["pykotaBalance"]) or {}
            old_text = first(current.get("pykotaBalance"))
            old = Decimal(str(old_text)) if old_text not in (None, "None") else Decimal(0)
            amount = Decimal(credit_to_grant(old, allowance))
            if amount <= 0:
                return Decimal(0)
            swap: list[tuple[str, list[Any]]] = [(ldap3.MODIFY_ADD, [money_text(old + amount)])]
            if old_text is not None:
                swap.insert(0, (ldap3.MODIFY_DELETE, [str(old_text)]))
            lost = (NO_SUCH_ATTRIBUTE, VALUE_EXISTS, CONSTRAINT)
            if self.d.modify(dn, {"pykotaBalance": swap}, expect=lost) == 0:
                return amount
        raise StorageError("a balance kept changing under concurrent writers, gave up")

    def _lower_counter(self, dn: str, allowance: Allowance) -> None:
        for _attempt in range(1000):
            current = self.d.read(dn, ["pykotaPageCounter"]) or {}
            old = int_of(current.get("pykotaPageCounter")) or 0
            changes: dict[str, Any] = {
                "pykotaPageCounter": [
                    (ldap3.MODIFY_DELETE, [old]),
                    (ldap3.MODIFY_ADD, [pages_after_grant(old, allowance)]),
                ]
            }
            if allowance.reset_counters:
                changes["pykotaDateLimit"] = [(ldap3.MODIFY_REPLACE, ["None"])]
                changes["pykotaWarnCount"] = [(ldap3.MODIFY_REPLACE, [0])]
            if self.d.modify(dn, changes, expect=(NO_SUCH_ATTRIBUTE, VALUE_EXISTS)) == 0:
                return
        raise StorageError("a page counter kept changing under concurrent writers, gave up")
