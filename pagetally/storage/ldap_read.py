"""The LDAP store's reads: entries found by PyKota's searches, turned into models.

Searches match as PyKota's did (pykotaUserName or the naming attribute, under
the configured branch), then keep only exact, case-sensitive matches: the
directory's matching rules for uid and cn ignore case, PageTally's names do not.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from itertools import islice
from typing import Any

from pagetally.core.models import (
    AccountSnapshot,
    Action,
    BillingCode,
    Group,
    GroupQuota,
    JobRecord,
    LimitBy,
    Payment,
    PaymentKind,
    PriceTable,
    Printer,
    User,
    UserQuota,
)
from pagetally.core.printergroups import ancestors
from pagetally.errors import NotFound
from pagetally.storage.base import HistoryFilter
from pagetally.storage.ldap_io import (
    Directory,
    LdapLayout,
    date_of,
    digest,
    esc,
    first,
    gtime,
    int_of,
    money_of,
    rdn,
    text_of,
)
from pagetally.storage.ldap_windows import JOB_ATTRS, LIGHT_ATTRS, DatelessProbe, HistoryWalk

ZERO = Decimal(0)
_ALL = HistoryFilter()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Entry = tuple[str, dict[str, Any]]


def _limit_by(values: Any) -> LimitBy:
    text = text_of(values).strip().lower() or "quota"
    try:
        return LimitBy(text)
    except ValueError:
        return LimitBy.QUOTA


def _named(entry: Entry, attr: str, rdn_attr: str, name: str) -> bool:
    attrs = entry[1]
    own = first(attrs.get(attr))
    if own is not None:
        return str(own) == name
    return any(str(v) == name for v in (attrs.get(rdn_attr) or []))


def name_of(entry: Entry, attr: str, rdn_attr: str) -> str:
    own = first(entry[1].get(attr))
    if own is not None:
        return str(own)
    return text_of(entry[1].get(rdn_attr))


def name_id(*parts: str) -> int:
    """A stable number for a named entry (User.id, Printer.id, ...): the directory
    has no row ids, and the name is the entry's identity."""
    return int(digest(*parts)[:13], 16)


def job_number(key: str) -> int:
    """A job's number (its `id`) from its entry's name: stable and unique, with no
    shared counter for concurrent writers to fight over."""
    return (
        int(key[:13], 16)
        if all(c in "0123456789abcdef" for c in key[:13])
        else (int.from_bytes(key.encode()[:6], "big"))
    )


class LdapReads:
    """Reads over a `Directory` laid out as `layout` (PyKota's tree)."""

    def __init__(self, d: Directory, layout: LdapLayout) -> None:
        self.d = d
        self.layout = layout
        self._dateless = DatelessProbe()

    def any_dateless_jobs(self) -> bool:
        """Whether the directory holds PyKota's own jobs (no pagetallyDate)."""
        return self._dateless(self)

    # --- users ---
    def user_entry(self, name: str) -> Entry | None:
        lay = self.layout
        who = f"(|(pykotaUserName={esc(name)})({lay.userrdn}={esc(name)}))"
        flt = f"(&(objectClass=pykotaAccount){who})"
        for entry in self.d.search(lay.userbase, flt):
            if _named(entry, "pykotaUserName", lay.userrdn, name):
                return entry
        return None

    def balance_entry(self, name: str, user: Entry | None = None) -> Entry | None:
        lay = self.layout
        if user is not None and "pykotaAccountBalance" in (user[1].get("objectClass") or []):
            return user
        flt = (
            f"(&(objectClass=pykotaAccountBalance)"
            f"(|(pykotaUserName={esc(name)})({lay.balancerdn}={esc(name)})))"
        )
        for entry in self.d.search(lay.balancebase, flt):
            if _named(entry, "pykotaUserName", lay.balancerdn, name):
                return entry
        return None

    def user_of(self, entry: Entry, balance: Entry | None) -> User:
        attrs = entry[1]
        battrs = balance[1] if balance is not None else {}
        mail = first(attrs.get(self.layout.usermail))
        name = name_of(entry, "pykotaUserName", self.layout.userrdn)
        return User(
            name=name,
            id=name_id("user", name),
            limit_by=_limit_by(attrs.get("pykotaLimitBy")),
            balance=money_of(battrs.get("pykotaBalance")),
            lifetime_paid=money_of(battrs.get("pykotaLifeTimePaid")),
            overcharge=money_of(battrs.get("pykotaOverCharge"), Decimal(1)),
            email=str(mail) if mail else None,
            description=text_of(attrs.get("description")),
        )

    def get_user(self, name: str) -> User:
        entry = self.user_entry(name)
        if entry is None:
            raise NotFound("user", name)
        return self.user_of(entry, self.balance_entry(name, entry))

    def find_users(self, patterns: Sequence[str] = ("*",)) -> list[User]:
        lay = self.layout
        found = self.d.search(lay.userbase, "(objectClass=pykotaAccount)")
        balances = {}
        if lay.balancebase != lay.userbase or any(
            "pykotaAccountBalance" not in (e[1].get("objectClass") or []) for e in found
        ):
            for b in self.d.search(lay.balancebase, "(objectClass=pykotaAccountBalance)"):
                balances[name_of(b, "pykotaUserName", lay.balancerdn)] = b
        out = []
        for e in found:
            name = name_of(e, "pykotaUserName", lay.userrdn)
            if _match(name, patterns):
                bal = (
                    e
                    if "pykotaAccountBalance" in (e[1].get("objectClass") or [])
                    else (balances.get(name))
                )
                out.append(self.user_of(e, bal))
        return sorted(out, key=lambda u: u.name)

    def get_user_pin_hash(self, name: str) -> str | None:
        entry = self.user_entry(name)
        if entry is None:
            raise NotFound("user", name)
        found = first(entry[1].get("pagetallyPinHash"))
        return None if found is None else str(found)

    # --- groups ---
    def group_entry(self, name: str) -> Entry | None:
        lay = self.layout
        who = f"(|(pykotaGroupName={esc(name)})({lay.grouprdn}={esc(name)}))"
        flt = f"(&(objectClass=pykotaGroup){who})"
        for entry in self.d.search(lay.groupbase, flt):
            if _named(entry, "pykotaGroupName", lay.grouprdn, name):
                return entry
        return None

    def group_of(self, entry: Entry) -> Group:
        name = name_of(entry, "pykotaGroupName", self.layout.grouprdn)
        return Group(
            name=name,
            id=name_id("group", name),
            limit_by=_limit_by(entry[1].get("pykotaLimitBy")),
            description=text_of(entry[1].get("description")),
        )

    def get_group(self, name: str) -> Group:
        entry = self.group_entry(name)
        if entry is None:
            raise NotFound("group", name)
        return self.group_of(entry)

    def find_groups(self, patterns: Sequence[str] = ("*",)) -> list[Group]:
        found = self.d.search(self.layout.groupbase, "(objectClass=pykotaGroup)")
        out = [self.group_of(e) for e in found]
        return sorted((g for g in out if _match(g.name, patterns)), key=lambda g: g.name)

    def member_names(self, entry: Entry) -> list[str]:
        attr = self.layout.groupmembers
        values = [str(v) for v in (entry[1].get(attr) or [])]
        if attr.lower() in ("member", "uniquemember"):  # DNs: the user's naming value
            return [v.split(",", 1)[0].split("=", 1)[-1] for v in values]
        return values

    def members(self, group: str) -> list[User]:
        entry = self.group_entry(group)
        if entry is None:
            raise NotFound("group", group)
        return self.users_named(sorted(set(self.member_names(entry))))

    def users_named(self, names: Sequence[str]) -> list[User]:
        """The users of `names` that exist, in two searches (not one per name)."""
        if not names:
            return []
        lay = self.layout
        wanted = set(names)
        anyof = "".join(f"(pykotaUserName={esc(n)})({lay.userrdn}={esc(n)})" for n in names)
        found = [
            e
            for e in self.d.search(lay.userbase, f"(&(objectClass=pykotaAccount)(|{anyof}))")
            if name_of(e, "pykotaUserName", lay.userrdn) in wanted
        ]
        balances: dict[str, Entry] = {}
        if any("pykotaAccountBalance" not in (e[1].get("objectClass") or []) for e in found):
            banyof = "".join(f"(pykotaUserName={esc(n)})({lay.balancerdn}={esc(n)})" for n in names)
            flt = f"(&(objectClass=pykotaAccountBalance)(|{banyof}))"
            for b in self.d.search(lay.balancebase, flt):
                balances[name_of(b, "pykotaUserName", lay.balancerdn)] = b
        out = []
        for e in found:
            name = name_of(e, "pykotaUserName", lay.userrdn)
            own = "pykotaAccountBalance" in (e[1].get("objectClass") or [])
            out.append(self.user_of(e, e if own else balances.get(name)))
        return sorted(out, key=lambda u: u.name)

    def groups_of(self, user: str) -> list[Group]:
        attr = self.layout.groupmembers
        value = user
        if attr.lower() in ("member", "uniquemember"):
            entry = self.user_entry(user)
            if entry is None:
                return []
            value = entry[0]
        found = self.d.search(
            self.layout.groupbase, f"(&(objectClass=pykotaGroup)({attr}={esc(value)}))"
        )
        out = [self.group_of(e) for e in found if value in [str(v) for v in e[1].get(attr) or []]]
        return sorted(out, key=lambda g: g.name)

    def group_balance(self, group: str) -> tuple[Decimal, Decimal]:
        users = self.members(group)
        return sum((u.balance for u in users), ZERO), sum((u.lifetime_paid for u in users), ZERO)

    # --- printers ---
    def printer_entry(self, name: str) -> Entry | None:
        lay = self.layout
        who = f"(|(pykotaPrinterName={esc(name)})({lay.printerrdn}={esc(name)}))"
        flt = f"(&(objectClass=pykotaPrinter){who})"
        for entry in self.d.search(lay.printerbase, flt):
            if _named(entry, "pykotaPrinterName", lay.printerrdn, name):
                return entry
        return None

    def printer_of(self, entry: Entry) -> Printer:
        attrs = entry[1]
        data = _json(attrs.get("pagetallyData"))
        if "prices" in data:
            prices = PriceTable.from_dict(data["prices"])
        else:
            prices = PriceTable(
                per_page=money_of(attrs.get("pykotaPricePerPage")),
                per_job=money_of(attrs.get("pykotaPricePerJob")),
            )
        name = name_of(entry, "pykotaPrinterName", self.layout.printerrdn)
        return Printer(
            name=name,
            id=name_id("printer", name),
            description=text_of(attrs.get("description")),
            prices=prices,
            max_job_size=int_of(attrs.get("pykotaMaxJobSize")),
            passthrough=text_of(attrs.get("pykotaPassThrough")).lower() in ("t", "true", "1"),
        )

    def get_printer(self, name: str) -> Printer:
        entry = self.printer_entry(name)
        if entry is None:
            raise NotFound("printer", name)
        return self.printer_of(entry)

    def printer_entries(self) -> list[Entry]:
        return self.d.search(self.layout.printerbase, "(objectClass=pykotaPrinter)")

    def find_printers(self, patterns: Sequence[str] = ("*",)) -> list[Printer]:
        out = [self.printer_of(e) for e in self.printer_entries()]
        return sorted((p for p in out if _match(p.name, patterns)), key=lambda p: p.name)

    def parents_map(self, entries: list[Entry] | None = None) -> dict[str, set[str]]:
        """printer name -> the printer groups holding it directly (uniqueMember DNs)."""
        entries = self.printer_entries() if entries is None else entries
        by_dn = {
            dn.lower(): name_of((dn, a), "pykotaPrinterName", self.layout.printerrdn)
            for dn, a in entries
        }
        parents: dict[str, set[str]] = {}
        for dn, attrs in entries:
            group = by_dn[dn.lower()]
            for member in attrs.get("uniqueMember") or []:
                child = by_dn.get(str(member).lower())
                if child is not None:
                    parents.setdefault(child, set()).add(group)
        return parents

    def printer_chain(self, printer: str) -> list[Printer]:
        chain = self.chain(printer)
        if not chain:
            raise NotFound("printer", printer)
        return chain

    def chain(self, printer: str) -> list[Printer]:
        """The printer and its printer groups, nearest first; [] for an unknown printer.

        Read level by level (one search per level, the first also finding the
        printer itself), not the whole printer branch: a charge on a site with
        many printers reads only its own chain."""
        lay = self.layout
        guess = rdn(lay.printerrdn, printer, lay.printerbase)
        who = f"(pykotaPrinterName={esc(printer)})({lay.printerrdn}={esc(printer)})"
        found = self.d.search(
            lay.printerbase, f"(&(objectClass=pykotaPrinter)(|{who}(uniqueMember={esc(guess)})))"
        )
        mine = [e for e in found if _named(e, "pykotaPrinterName", lay.printerrdn, printer)]
        if not mine:
            return []
        me = mine[0]
        by_dn: dict[str, Entry] = {me[0].lower(): me}
        parents: dict[str, set[str]] = {}
        if me[0].lower() == guess.lower():
            above = [e for e in found if _holds(e, me[0])]
        else:
            above = self._holding([me[0]])
        frontier = [me]
        while frontier:
            nxt: list[Entry] = []
            for child in frontier:
                cname = name_of(child, "pykotaPrinterName", lay.printerrdn)
                for parent in above:
                    if _holds(parent, child[0]):
                        parents.setdefault(cname, set()).add(
                            name_of(parent, "pykotaPrinterName", lay.printerrdn)
                        )
                        if parent[0].lower() not in by_dn:
                            by_dn[parent[0].lower()] = parent
                            nxt.append(parent)
            frontier = nxt
            above = self._holding([e[0] for e in frontier]) if frontier else []
        by_name = {name_of(e, "pykotaPrinterName", lay.printerrdn): e for e in by_dn.values()}
        order = [printer, *ancestors(parents, printer)]
        return [self.printer_of(by_name[n]) for n in order if n in by_name]

    def _holding(self, dns: Sequence[str]) -> list[Entry]:
        """The printer groups holding any of `dns` directly."""
        anyof = "".join(f"(uniqueMember={esc(dn)})" for dn in dns)
        return self.d.search(self.layout.printerbase, f"(&(objectClass=pykotaPrinter)(|{anyof}))")

    def printer_group_members(self, group: str) -> list[Printer]:
        entry = self.printer_entry(group)
        if entry is None:
            raise NotFound("printer", group)
        dns = {str(m).lower() for m in entry[1].get("uniqueMember") or []}
        out = [self.printer_of(e) for e in self.printer_entries() if e[0].lower() in dns]
        return sorted(out, key=lambda p: p.name)

    # --- quotas ---
    def user_quota_entries(self, user: str | None, printers: Sequence[str] | None) -> list[Entry]:
        parts = ["(objectClass=pykotaUserPQuota)"]
        if user is not None:
            parts.append(f"(pykotaUserName={esc(user)})")
        if printers is not None:
            parts.append("(|" + "".join(f"(pykotaPrinterName={esc(p)})" for p in printers) + ")")
        found = self.d.search(self.layout.userquotabase, "(&" + "".join(parts) + ")")
        return [
            e
            for e in found
            if (user is None or text_of(e[1].get("pykotaUserName")) == user)
            and (printers is None or text_of(e[1].get("pykotaPrinterName")) in printers)
        ]

    @staticmethod
    def user_quota_of(entry: Entry) -> UserQuota:
        a = entry[1]
        return UserQuota(
            user=text_of(a.get("pykotaUserName")),
            printer=text_of(a.get("pykotaPrinterName")),
            page_counter=int_of(a.get("pykotaPageCounter")) or 0,
            life_page_counter=int_of(a.get("pykotaLifePageCounter")) or 0,
            soft_limit=int_of(a.get("pykotaSoftLimit")),
            hard_limit=int_of(a.get("pykotaHardLimit")),
            date_limit=date_of(a.get("pykotaDateLimit")),
            max_job_size=int_of(a.get("pykotaMaxJobSize")),
            warn_count=int_of(a.get("pykotaWarnCount")) or 0,
        )

    def get_user_quota(self, user: str, printer: str) -> UserQuota:
        found = self.user_quota_entries(user, [printer])
        if not found:
            self._exist(user=user, printer=printer)
            raise NotFound("quota entry", f"{user} on {printer}")
        return self.user_quota_of(found[0])

    def _exist(
        self, *, user: str | None = None, group: str | None = None, printer: str | None = None
    ) -> None:
        """NotFound naming what is missing (the user, group or printer itself)."""
        if user is not None and self.user_entry(user) is None:
            raise NotFound("user", user)
        if group is not None and self.group_entry(group) is None:
            raise NotFound("group", group)
        if printer is not None and self.printer_entry(printer) is None:
            raise NotFound("printer", printer)

    def group_quota_entries(self, group: str | None, printers: Sequence[str] | None) -> list[Entry]:
        parts = ["(objectClass=pykotaGroupPQuota)"]
        if group is not None:
            parts.append(f"(pykotaGroupName={esc(group)})")
        if printers is not None:
            parts.append("(|" + "".join(f"(pykotaPrinterName={esc(p)})" for p in printers) + ")")
        found = self.d.search(self.layout.groupquotabase, "(&" + "".join(parts) + ")")
        return [
            e
            for e in found
            if (group is None or text_of(e[1].get("pykotaGroupName")) == group)
            and (printers is None or text_of(e[1].get("pykotaPrinterName")) in printers)
        ]

    def group_quota_of(
        self, entry: Entry, counters: dict[tuple[str, str], tuple[int, int]]
    ) -> GroupQuota:
        a = entry[1]
        group, printer = text_of(a.get("pykotaGroupName")), text_of(a.get("pykotaPrinterName"))
        page, life = counters.get((group, printer), (0, 0))
        return GroupQuota(
            group=group,
            printer=printer,
            page_counter=page,
            life_page_counter=life,
            soft_limit=int_of(a.get("pykotaSoftLimit")),
            hard_limit=int_of(a.get("pykotaHardLimit")),
            date_limit=date_of(a.get("pykotaDateLimit")),
            max_job_size=int_of(a.get("pykotaMaxJobSize")),
        )

    def group_counters(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
        """(group, printer) -> the sums of the members' counters (PyKota's group counters)."""
        out: dict[tuple[str, str], tuple[int, int]] = {}
        members: dict[str, set[str]] = {}
        for group, printer in pairs:
            if group not in members:
                entry = self.group_entry(group)
                members[group] = set(self.member_names(entry)) if entry else set()
            page = life = 0
            if members[group]:
                for e in self.user_quota_entries(None, [printer]):
                    if text_of(e[1].get("pykotaUserName")) in members[group]:
                        page += int_of(e[1].get("pykotaPageCounter")) or 0
                        life += int_of(e[1].get("pykotaLifePageCounter")) or 0
            out[(group, printer)] = (page, life)
        return out

    def get_group_quota(self, group: str, printer: str) -> GroupQuota:
        found = self.group_quota_entries(group, [printer])
        if not found:
            self._exist(group=group, printer=printer)
            raise NotFound("group quota entry", f"{group} on {printer}")
        return self.group_quota_of(found[0], self.group_counters({(group, printer)}))

    def user_quotas(
        self, printers: Sequence[str] = ("*",), users: Sequence[str] = ("*",)
    ) -> list[UserQuota]:
        out = [self.user_quota_of(e) for e in self.user_quota_entries(None, None)]
        return sorted(
            (q for q in out if _match(q.printer, printers) and _match(q.user, users)),
            key=lambda q: (q.printer, q.user),
        )

    def group_quotas(
        self, printers: Sequence[str] = ("*",), groups: Sequence[str] = ("*",)
    ) -> list[GroupQuota]:
        entries = [
            e
            for e in self.group_quota_entries(None, None)
            if _match(text_of(e[1].get("pykotaPrinterName")), printers)
            and _match(text_of(e[1].get("pykotaGroupName")), groups)
        ]
        pairs = {
            (text_of(e[1].get("pykotaGroupName")), text_of(e[1].get("pykotaPrinterName")))
            for e in entries
        }
        counters = self.group_counters(pairs)
        out = [self.group_quota_of(e, counters) for e in entries]
        return sorted(out, key=lambda q: (q.printer, q.group))

    # --- billing codes ---
    def code_entry(self, code: str) -> Entry | None:
        flt = f"(&(objectClass=pykotaBilling)(pykotaBillingCode={esc(code)}))"
        for entry in self.d.search(self.layout.billingcodebase, flt):
            if text_of(entry[1].get("pykotaBillingCode")) == code:
                return entry
        return None

    @staticmethod
    def code_of(entry: Entry) -> BillingCode:
        a = entry[1]
        return BillingCode(
            code=text_of(a.get("pykotaBillingCode")),
            id=name_id("billing code", text_of(a.get("pykotaBillingCode"))),
            description=text_of(a.get("description")),
            balance=money_of(a.get("pykotaBalance")),
            page_counter=int_of(a.get("pykotaPageCounter")) or 0,
        )

    def get_billing_code(self, code: str) -> BillingCode:
        entry = self.code_entry(code)
        if entry is None:
            raise NotFound("billing code", code)
        return self.code_of(entry)

    def find_billing_codes(self, patterns: Sequence[str] = ("*",)) -> list[BillingCode]:
        found = self.d.search(self.layout.billingcodebase, "(objectClass=pykotaBilling)")
        out = [self.code_of(e) for e in found]
        return sorted((c for c in out if _match(c.code, patterns)), key=lambda c: c.code)

    # --- payments ---
    def payments(self, user: str | None = None) -> list[Payment]:
        if user is not None and self.user_entry(user) is None:
            raise NotFound("user", user)
        flt = "(objectClass=pagetallyPayment)"
        if user is not None:
            flt = f"(&{flt}(pykotaUserName={esc(user)}))"
        out = []
        for _dn, a in self.d.search(self.layout.paymentbase, flt):
            name = text_of(a.get("pykotaUserName"))
            if user is not None and name != user:
                continue
            out.append(
                Payment(
                    user=name,
                    amount=money_of(a.get("pagetallyAmount")),
                    kind=PaymentKind(text_of(a.get("pagetallyKind")) or "credit"),
                    description=text_of(a.get("description")),
                    date=date_of(a.get("pagetallyDate")),
                    id=int_of(a.get("pagetallyNumber")),
                )
            )
        out += self._pykota_payments(user)
        return sorted(out, key=lambda p: (p.date or _EPOCH, p.id or 0))

    def _pykota_payments(self, user: str | None) -> list[Payment]:
        """PyKota's payments, kept as `date # amount # base64 description` values of
        pykotaPayments on the balance entry (read, never written: PageTally writes
        pagetallyPayment entries)."""
        lay = self.layout
        flt = "(&(objectClass=pykotaAccountBalance)(pykotaPayments=*))"
        out: list[Payment] = []
        for entry in self.d.search(
            lay.balancebase, flt, ["pykotaUserName", lay.balancerdn, "pykotaPayments"]
        ):
            name = name_of(entry, "pykotaUserName", lay.balancerdn)
            if user is not None and name != user:
                continue
            for value in entry[1].get("pykotaPayments") or []:
                parts = str(value).split(" # ")
                description = ""
                if len(parts) >= 3:
                    with contextlib.suppress(ValueError, binascii.Error):
                        description = base64.b64decode(parts[2]).decode("utf-8", "replace")
                amount = money_of(parts[1] if len(parts) >= 2 else parts[0])
                when = date_of(parts[0][:26]) if len(parts) >= 2 and parts[0].strip() else None
                out.append(Payment(user=name, amount=amount, description=description, date=when))
        return out

    # --- jobs ---
    def job_of(self, entry: Entry) -> JobRecord:
        dn, a = entry
        key = dn.split(",", 1)[0].split("=", 1)[-1]
        data = _json(a.get("pagetallyData"))
        action = text_of(a.get("pykotaAction")).lower() or "allow"
        date = date_of(a.get("pagetallyDate")) or date_of(a.get("createTimestamp"))
        pre_price = first(a.get("pykotaPrecomputedJobPrice"))
        return JobRecord(
            id=int_of(a.get("pagetallyNumber")) or job_number(key),
            date=date or _EPOCH,
            user=text_of(a.get("pykotaUserName")),
            printer=text_of(a.get("pykotaPrinterName")),
            action=Action(action) if action in Action.__members__.values() else Action.PROBLEM,
            pages=int_of(a.get("pykotaJobSize")) or 0,
            color_pages=int_of(a.get("pagetallyColorPages")) or 0,
            sheets=int_of(a.get("pagetallySheets")),
            copies=int_of(a.get("pykotaCopies")) or 1,
            price=money_of(a.get("pykotaJobPrice")),
            reason=text_of(a.get("pagetallyReason")),
            billing_code=_none(a.get("pykotaBillingCode")),
            host=_none(a.get("pykotaHostName")),
            title=_none(a.get("pykotaTitle")) or "",
            filename=_none(a.get("pykotaFileName")) or "",
            size_bytes=int_of(a.get("pykotaJobSizeBytes")) or 0,
            sha256=_none(a.get("pagetallySha256")),
            options=_none(a.get("pykotaOptions")) or "",
            job_id=text_of(a.get("pykotaJobId")),
            job_uuid=text_of(a.get("pagetallyJobUuid")) or str(data.get("uuid", "")),
            printer_counter=int_of(a.get("pykotaPrinterPageCounter")),
            precomputed_pages=int_of(a.get("pykotaPrecomputedJobSize")),
            precomputed_price=None if _none(pre_price) is None else money_of(pre_price),
        )

    def job_entries(self, flt: str) -> list[Entry]:
        found = self.d.search(self.layout.jobbase, f"(&(objectClass=pykotaJob){flt})", JOB_ATTRS)
        # a charge still under way (or abandoned before it took effect) is no job yet
        return [e for e in found if text_of(e[1].get("pagetallyState")) != "pending"]

    def history(self, flt: HistoryFilter = _ALL) -> Iterator[JobRecord]:
        from pagetally.errors import InvalidInput

        if flt.limit is not None and flt.limit < 0:
            raise InvalidInput("history limit must be >= 0")
        parts = [self._job_filter(flt)]
        if flt.charge_of is not None:
            from pagetally.storage.ldap_charge import charge_key

            parts.append(f"(pagetallyChargeKey={charge_key(*flt.charge_of)})")
            found: Iterator[JobRecord] = iter(
                sorted(
                    (self.job_of(e) for e in self.job_entries("".join(parts))),
                    key=lambda j: (j.date, j.id or 0),
                    reverse=flt.newest_first,
                )
            )
        else:  # window by window of dates: a reader of one page reads little
            found = HistoryWalk(self, "".join(parts)).jobs(flt.since, flt.until, flt.newest_first)
        jobs = filter(_selects(flt), found)
        return islice(jobs, flt.limit) if flt.limit is not None else jobs

    def light_jobs(
        self, flt: HistoryFilter, attrs: Sequence[str], most: int
    ) -> list[tuple[JobRecord, str]] | None:
        """The jobs `flt` (no limit, no charge_of) selects, in no order, read
        light: holding only their date, number, `attrs` and the names `flt`
        gives, each with its entry's name for `whole_jobs`; None when there are
        more than `most`. One search, by the names and dates (each attribute
        costs: ask for few). For a reader that must see every selected job (a
        sort the directory cannot make) but shows only some."""
        named = zip(
            ("pykotaUserName", "pykotaPrinterName", "pykotaHostName", "pykotaBillingCode"),
            (flt.user, flt.printer, flt.host, flt.billing_code),
            strict=True,
        )
        names = [attr for attr, value in named if value is not None]  # matched below
        dateless = ["createTimestamp"] if self.any_dateless_jobs() else []
        dates = "" if flt.since is None else f"(pagetallyDate>={gtime(flt.since)})"
        if flt.until is not None:  # tested on the candidates: no index walk to the oldest
            dates += f"(!(pagetallyDate>={gtime(flt.until)}))"
        found, cut = self.d.search_some(
            self.layout.jobbase,
            f"(&(objectClass=pykotaJob){self._job_filter(flt)}{dates})",
            (*LIGHT_ATTRS, *attrs, *names, *dateless),
            most=most + 1,
        )
        keep = _selects(flt)
        jobs = [
            (self.job_of(e), e[0])
            for e in found
            if text_of(e[1].get("pagetallyState")) != "pending"  # no job yet
        ]
        jobs = [j for j in jobs if keep(j[0])]
        return None if cut or len(jobs) > most else jobs

    def whole_jobs(self, names: Sequence[str]) -> list[JobRecord]:
        """The jobs of the entries `names` (light_jobs'), in that order."""
        found = {e[0]: e for e in HistoryWalk(self, "").whole(list(names))}
        return [self.job_of(found[n]) for n in names if n in found]

    @staticmethod
    def _job_filter(flt: HistoryFilter) -> str:
        """The LDAP filter of `flt`'s names (a wildcard is matched afterwards)."""
        attrs = ("pykotaUserName", "pykotaPrinterName", "pykotaHostName", "pykotaBillingCode")
        values = (flt.user, flt.printer, flt.host, flt.billing_code)
        return "".join(
            f"({attr}={esc(value)})"
            for attr, value in zip(attrs, values, strict=True)
            if value is not None and not _wild(value)
        )

    def get_job(self, row_id: int) -> JobRecord:
        found = self.job_entries(f"(pagetallyNumber={int(row_id)})")
        if not found:  # PyKota's own jobs carry no number: it comes from their name
            found = [e for e in self.job_entries("") if self.job_of(e).id == row_id]
        if not found:
            raise NotFound("job", str(row_id))
        return self.job_of(found[0])

    def jobs_by_job_id(self, job_id: str, printer: str) -> list[JobRecord]:
        found = self.job_entries(f"(pykotaJobId={esc(job_id)})(pykotaPrinterName={esc(printer)})")
        jobs = [self.job_of(e) for e in found]
        jobs = [j for j in jobs if j.job_id == job_id and j.printer == printer]
        return sorted(jobs, key=lambda j: (j.date, j.id or 0))

    # --- the decision's reads ---
    def snapshot(self, user: str, printer: str, billing_code: str | None = None) -> AccountSnapshot:
        return self.snapshot_of(user, printer, billing_code).snap

    def snapshot_of(
        self, user: str, printer: str, billing_code: str | None, *, light: bool = False
    ) -> Seen:
        """The snapshot and the entries it was read from (the balance entry's serial
        guards the charge: docs/store.md, "LDAP"). `light`: a charge decided
        already needs no groups, group quotas nor group balances."""
        chain = self.chain(printer)
        centry = self.code_entry(billing_code) if billing_code else None
        code = None if centry is None else self.code_of(centry)
        first_printer = chain[0] if chain else None
        uentry = self.user_entry(user)
        if uentry is None:
            snap = AccountSnapshot(
                user=None, printer=first_printer, printers=tuple(chain), billing_code=code
            )
            return Seen(snap, None, None, chain, {}, centry)
        bentry = self.balance_entry(user, uentry)
        names = [p.name for p in chain]
        groups = () if light else tuple(self.groups_of(user))
        uq_entries = {
            text_of(e[1].get("pykotaPrinterName")): e
            for e in (self.user_quota_entries(user, names) if names else [])
        }
        uq = {p: self.user_quota_of(e) for p, e in uq_entries.items()}
        gq: dict[tuple[str, str], GroupQuota] = {}
        if names and groups:
            gentries = [e for g in groups for e in self.group_quota_entries(g.name, names)]
            pairs = {
                (text_of(e[1].get("pykotaGroupName")), text_of(e[1].get("pykotaPrinterName")))
                for e in gentries
            }
            counters = self.group_counters(pairs)
            for e in gentries:
                q2 = self.group_quota_of(e, counters)
                gq[(q2.group, q2.printer)] = q2
        balances = {g.name: self.group_balance(g.name)[0] for g in groups}
        snap = AccountSnapshot(
            user=self.user_of(uentry, bentry),
            printer=first_printer,
            printers=tuple(chain),
            groups=groups,
            user_quotas=uq,
            group_quotas=gq,
            group_balances=balances,
            billing_code=code,
        )
        return Seen(snap, uentry, bentry, chain, uq_entries, centry)


@dataclass(frozen=True)
class Seen:
    """A snapshot and the entries behind it, which the charge then changes."""

    snap: AccountSnapshot
    user: Entry | None
    balance: Entry | None
    chain: list[Printer]
    user_quotas: dict[str, Entry]  # printer name -> the user's quota entry
    code: Entry | None


def _holds(group: Entry, dn: str) -> bool:
    return dn.lower() in {str(m).lower() for m in group[1].get("uniqueMember") or []}


def _selects(flt: HistoryFilter) -> Callable[[JobRecord], bool]:
    """Whether a job read by `flt`'s search is `flt`'s: its wildcards and dates."""
    checks: list[tuple[str | None, Callable[[JobRecord], str | None]]] = [
        (flt.user, lambda j: j.user),
        (flt.printer, lambda j: j.printer),
        (flt.host, lambda j: j.host),
        (flt.billing_code, lambda j: j.billing_code),
    ]
    named = [(v, get) for v, get in checks if v is not None]  # exact too: the case

    def keep(j: JobRecord) -> bool:
        return (
            all(fnmatchcase(get(j) or "", v) for v, get in named)
            and (flt.since is None or j.date >= flt.since)
            and (flt.until is None or j.date < flt.until)
        )

    return keep


def _wild(pattern: str) -> bool:
    return any(ch in "*?[" for ch in pattern)


def _match(name: str, patterns: Sequence[str]) -> bool:
    return any(p == "*" or fnmatchcase(name, p) for p in patterns)


def _none(values: Any) -> str | None:
    found = first(values)
    if found is None or str(found) in ("", "None"):
        return None
    return str(found)


def _json(values: Any) -> dict[str, Any]:
    found = first(values)
    if not found:
        return {}
    data = json.loads(str(found))
    return data if isinstance(data, dict) else {}
