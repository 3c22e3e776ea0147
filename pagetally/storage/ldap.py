"""The store over an LDAP directory (ldap3), in PyKota's schema (docs/store.md, "LDAP").

`storagebackend: ldap` opens it. Entries are where PyKota put them (the layout of
storage/ldap_io.py, PyKota's ldap* directives), written as PyKota wrote them, so
an existing PyKota directory works unchanged and PyKota can still read ours;
what PageTally keeps beyond PyKota (PIN hashes, job identity and dates, payments
with their kinds, full price tables) is in auxiliary classes of its own
(storage/ldap_schema/pagetally.schema). Users and groups may be the site's own
posixAccount/posixGroup entries extended with the print classes (`newuser:
attach(posixAccount)`, as PyKota did).

Reads are storage/ldap_read.py; printers, quotas and billing codes
storage/ldap_catalog.py; charging, exact without transactions,
storage/ldap_charge.py; allowances storage/ldap_grants.py. Each method is one or a
few single-entry modifications; the multi-entry ones that are not charges
(deleting a user with its quota entries, bulk edits) are not atomic: a failure
midway leaves the part done.
A refund claims the job's entry first (its action swapped for REFUND: once
only), then gives back money and pages entry by entry. Allowances are
storage/ldap_grants.py. Invoice numbers come from a counter entry, swapped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ldap3
from ldap3.utils.dn import parse_dn

from pagetally.core.models import (
    AccountSnapshot,
    ChargeRequest,
    ChargeResult,
    Decision,
    Group,
    JobFacts,
    LimitBy,
    Payment,
    PaymentKind,
    User,
)
from pagetally.core.refunds import Refund, RefundResult
from pagetally.core.settings import StoreSettings
from pagetally.errors import AlreadyExists, NotFound, StorageError
from pagetally.storage import rows
from pagetally.storage.ldap_catalog import LdapCatalog
from pagetally.storage.ldap_charge import Charger, charge_key
from pagetally.storage.ldap_grants import LdapGrants
from pagetally.storage.ldap_io import (
    ALREADY_EXISTS,
    LAYOUT_KEYS,
    NO_SUCH_ATTRIBUTE,
    VALUE_EXISTS,
    Directory,
    LdapLayout,
    date_text,
    esc,
    first,
    gtime,
    money_text,
    rdn,
)
from pagetally.storage.ldap_read import Entry, LdapReads, name_of

_SET = ldap3.MODIFY_REPLACE


class LdapStore(LdapCatalog, LdapGrants, LdapReads):
    """Every store role over a directory (base.Store)."""

    def __init__(self, settings: StoreSettings, *, readonly: bool = False) -> None:
        given = dict(settings.ldap)
        bad = set(given) - set(LAYOUT_KEYS)
        if bad:
            raise StorageError(f"unknown LDAP layout setting(s): {', '.join(sorted(bad))}")
        super().__init__(
            Directory(settings, readonly=readonly), LdapLayout.of(settings.name, given)
        )
        self.readonly = readonly
        self.settings = settings
        self._charger = Charger(self)

    def close(self) -> None:
        self.d.close()

    def __enter__(self) -> LdapStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def upgrade(self) -> None:
        """Make the branches the layout names (organizationalUnit entries) if missing."""
        for dn in self.layout.branches():
            ou = dn.split(",", 1)[0]
            attr, _, value = ou.partition("=")
            if attr.lower() == "ou":
                self.d.add(dn, ["organizationalUnit"], {"ou": parse_dn(dn)[0][1]})
            else:
                self.d.add(dn, ["pykotaObject"], {"cn": value})

    # --- users ---
    def _user_attrs(self, user: User, *, new: bool) -> dict[str, Any]:
        return {
            "pykotaUserName": user.name,
            "pykotaLimitBy": LimitBy(user.limit_by).value,
            "description": user.description or None,
            self.layout.usermail: user.email or None,
            **(
                {
                    "pykotaBalance": money_text(user.balance),
                    "pykotaLifeTimePaid": money_text(user.lifetime_paid),
                    "pykotaOverCharge": money_text(user.overcharge),
                }
                if new
                else {}
            ),
        }

    def add_user(self, user: User, *, opening: str = "") -> User:
        """`opening`: the starting balance's payment entry, added right after the
        user (a directory has no transactions: a failure between the two leaves
        the user without it, never a payment without the user)."""
        created = self._add_user(user)
        if opening and user.balance:
            self._record_payment(
                Payment(
                    user.name,
                    rows.check_money("balance", user.balance),
                    PaymentKind.CREDIT,
                    opening,
                    datetime.now(UTC),
                )
            )
        return created

    def _add_user(self, user: User) -> User:
        self._check_user(user)
        if self.user_entry(user.name) is not None:
            raise AlreadyExists("user", user.name)
        lay = self.layout
        attrs = self._user_attrs(user, new=True)
        if lay.newuser.lower() != "below" and self._attach_user(user, attrs):
            return self.get_user(user.name)
        dn = rdn(lay.userrdn, user.name, lay.userbase)
        naming = {lay.userrdn: user.name, "cn": user.name}
        if lay.balancebase.lower() == lay.userbase.lower():
            classes = ["pykotaObject", "pykotaAccount", "pykotaAccountBalance", "pagetallyExtra"]
            code = self.d.add(dn, classes, {**naming, **attrs})
        else:
            money = {
                k: attrs.pop(k) for k in ("pykotaBalance", "pykotaLifeTimePaid", "pykotaOverCharge")
            }
            code = self.d.add(dn, ["pykotaObject", "pykotaAccount"], {**naming, **attrs})
            if code == 0:
                bdn = rdn(lay.balancerdn, user.name, lay.balancebase)
                self.d.add(
                    bdn,
                    ["pykotaObject", "pykotaAccountBalance", "pagetallyExtra"],
                    {
                        lay.balancerdn: user.name,
                        "cn": user.name,
                        "pykotaUserName": user.name,
                        **money,
                    },
                )
        if code == ALREADY_EXISTS and lay.balancebase.lower() == lay.userbase.lower():
            # uid matches without case: a name differing only in case is named by
            # pykotaUserName (case-exact) instead
            dn = rdn("pykotaUserName", user.name, lay.userbase)
            code = self.d.add(dn, classes, {**naming, **attrs})
        if code == ALREADY_EXISTS:
            raise AlreadyExists("user", user.name)
        return self.get_user(user.name)

    def _attach_user(self, user: User, attrs: dict[str, Any]) -> bool:
        """`newuser: attach(CLASS[, warn])`: add the print classes to the site's own
        entry; False (make a new entry) when there is none and the action is warn."""
        lay = self.layout
        where, _, action = lay.newuser.partition(",")
        where = where.strip().removeprefix("attach(").strip(" )")
        action = action.strip(" )").lower() or "fail"
        found = self.d.search(
            lay.userbase, f"(&(objectClass={esc(where)})({lay.userrdn}={esc(user.name)}))"
        )
        found = [e for e in found if user.name in [str(v) for v in e[1].get(lay.userrdn) or []]]
        if found:
            classes = ["pykotaAccount", "pykotaAccountBalance", "pagetallyExtra"]
            changes: dict[str, Any] = {"objectClass": [(ldap3.MODIFY_ADD, classes)]}
            changes.update({k: [(_SET, [v])] for k, v in attrs.items() if v is not None})
            self.d.modify(found[0][0], changes)
            return True
        if action != "warn":
            raise StorageError(
                f"no {where} entry with {lay.userrdn}={user.name} under {lay.userbase} "
                "to attach the print account to (newuser)"
            )
        return False

    @staticmethod
    def _check_user(user: User) -> None:
        rows.check_name("user", user.name)
        rows.check_money("balance", user.balance)
        rows.check_money("lifetime paid", user.lifetime_paid)
        rows.check_money("overcharge factor", user.overcharge)

    def add_users(self, new: Sequence[User], *, opening: str = "") -> int:
        """Not atomic on LDAP: checks every name first, then adds one by one."""
        for u in new:
            self._check_user(u)
            if self.user_entry(u.name) is not None:
                raise AlreadyExists("user", u.name)
        for u in new:
            self.add_user(u, opening=opening)
        return len(new)

    def _entries_of_user(self, name: str) -> tuple[Entry, Entry]:
        entry = self.user_entry(name)
        if entry is None:
            raise NotFound("user", name)
        bentry = self.balance_entry(name, entry)
        if bentry is None:
            raise StorageError(f"user {name!r} has no pykotaAccountBalance entry in the directory")
        return entry, bentry

    def edit_user(
        self,
        name: str,
        *,
        limit_by: LimitBy | None = None,
        overcharge: Decimal | None = None,
        email: str | None = None,
        description: str | None = None,
    ) -> User:
        entry, bentry = self._entries_of_user(name)
        changes: dict[str, Any] = {}
        if limit_by is not None:
            changes["pykotaLimitBy"] = [(_SET, [LimitBy(limit_by).value])]
        if email is not None:
            changes[self.layout.usermail] = [(_SET, [email] if email else [])]
        if description is not None:
            changes["description"] = [(_SET, [description] if description else [])]
        if changes:
            self.d.modify(entry[0], changes)
        if overcharge is not None:
            value = rows.check_money("overcharge factor", overcharge)
            self.d.modify(bentry[0], {"pykotaOverCharge": [(_SET, [money_text(value)])]})
        return self.get_user(name)

    def delete_user(self, name: str) -> None:
        entry, bentry = self._entries_of_user(name)
        for q in self.user_quota_entries(name, None):
            self.d.delete(q[0])
        for g in self.groups_of(name):
            self.remove_members(g.name, [name])
        for dn in dict.fromkeys([bentry[0], entry[0]]):
            self._delete_or_detach(dn)

    def _delete_or_detach(self, dn: str) -> None:
        """Delete an entry PageTally made; take the print classes off one it attached to."""
        found = self.d.read(dn, ["objectClass"])
        if found is None:
            return
        classes = [str(c) for c in found.get("objectClass") or []]
        if "pykotaObject" in classes:
            self.d.delete(dn)
            return
        ours = [c for c in classes if c.startswith(("pykota", "pagetally"))]
        attrs = [
            a
            for a in (
                "pykotaUserName",
                "pykotaLimitBy",
                "pykotaBalance",
                "pykotaLifeTimePaid",
                "pykotaOverCharge",
                "pykotaPayments",
                "pykotaGroupName",
                "pagetallyPinHash",
                "pagetallyPending",
                "pagetallyCounter",
            )
            if (self.d.read(dn, [a]) or {}).get(a)
        ]
        changes: dict[str, Any] = {a: [(_SET, [])] for a in attrs}
        changes["objectClass"] = [(ldap3.MODIFY_DELETE, ours)]
        self.d.modify(dn, changes)

    def set_user_pin_hash(self, name: str, pin_hash: str | None) -> None:
        entry, _ = self._entries_of_user(name)
        changes: dict[str, Any] = {"pagetallyPinHash": [(_SET, [pin_hash] if pin_hash else [])]}
        if "pagetallyExtra" not in [str(c) for c in entry[1].get("objectClass") or []]:
            changes = {"objectClass": [(ldap3.MODIFY_ADD, ["pagetallyExtra"])], **changes}
        self.d.modify(entry[0], changes)

    def add_payment(self, payment: Payment) -> User:
        amount = rows.check_money("amount", payment.amount)
        kind = PaymentKind(payment.kind)
        date = payment.date or datetime.now(UTC)
        _, bentry = self._entries_of_user(payment.user)
        self._swap_money(bentry[0], amount, lifetime=kind is PaymentKind.CREDIT)
        self._record_payment(Payment(payment.user, amount, kind, payment.description, date))
        return self.get_user(payment.user)

    def _record_payment(self, payment: Payment) -> None:
        amount, kind, date = payment.amount, PaymentKind(payment.kind), payment.date
        assert date is not None
        number = uuid.uuid4().int >> 74
        self.d.add(
            rdn("cn", f"pay-{number}", self.layout.paymentbase),
            ["pykotaObject", "pagetallyPayment"],
            {
                "cn": f"pay-{number}",
                "pykotaUserName": payment.user,
                "pagetallyAmount": money_text(amount),
                "pagetallyKind": kind.value,
                "pagetallyDate": gtime(date),
                "pagetallyNumber": number,
                "description": payment.description[:255] or None,
            },
        )

    def _swap_money(
        self, dn: str, amount: Decimal, *, lifetime: bool = False, attr: str = "pykotaBalance"
    ) -> None:
        """Add `amount` to a decimal-text attribute by compare-and-swap (retried)."""
        for _attempt in range(1000):
            current = self.d.read(dn, [attr, "pykotaLifeTimePaid"]) or {}
            changes: dict[str, Any] = {}
            names = [attr] + (["pykotaLifeTimePaid"] if lifetime else [])
            for a in names:
                old_text = first(current.get(a))
                old = Decimal(str(old_text)) if old_text not in (None, "None") else Decimal(0)
                swap: list[tuple[str, list[Any]]] = [(ldap3.MODIFY_ADD, [money_text(old + amount)])]
                if old_text is not None:
                    swap.insert(0, (ldap3.MODIFY_DELETE, [str(old_text)]))
                changes[a] = swap
            if self.d.modify(dn, changes, expect=(NO_SUCH_ATTRIBUTE, VALUE_EXISTS, 19)) == 0:
                return
        raise StorageError("a balance kept changing under concurrent writers, gave up")

    # --- groups ---
    def add_group(self, group: Group) -> Group:
        rows.check_name("group", group.name)
        if self.group_entry(group.name) is not None:
            raise AlreadyExists("group", group.name)
        lay = self.layout
        attrs = {
            "pykotaGroupName": group.name,
            "pykotaLimitBy": LimitBy(group.limit_by).value,
            "description": group.description or None,
        }
        if lay.newgroup.lower() != "below":
            where = lay.newgroup.partition(",")[0].strip().removeprefix("attach(").strip(" )")
            found = self.d.search(
                lay.groupbase, f"(&(objectClass={esc(where)})({lay.grouprdn}={esc(group.name)}))"
            )
            if found:
                changes: dict[str, Any] = {"objectClass": [(ldap3.MODIFY_ADD, ["pykotaGroup"])]}
                changes.update({k: [(_SET, [v])] for k, v in attrs.items() if v is not None})
                self.d.modify(found[0][0], changes)
                return self.get_group(group.name)
        classes = ["pykotaObject", "pykotaGroup"]
        full = {lay.grouprdn: group.name, "cn": group.name, **attrs}
        if self.d.add(rdn(lay.grouprdn, group.name, lay.groupbase), classes, full):
            dn = rdn("pykotaGroupName", group.name, lay.groupbase)  # same name but for case
            if self.d.add(dn, classes, full):
                raise AlreadyExists("group", group.name)
        return self.get_group(group.name)

    def edit_group(
        self, name: str, *, limit_by: LimitBy | None = None, description: str | None = None
    ) -> Group:
        entry = self._group(name)
        changes: dict[str, Any] = {}
        if limit_by is not None:
            changes["pykotaLimitBy"] = [(_SET, [LimitBy(limit_by).value])]
        if description is not None:
            changes["description"] = [(_SET, [description] if description else [])]
        if changes:
            self.d.modify(entry[0], changes)
        return self.get_group(name)

    def delete_group(self, name: str) -> None:
        entry = self._group(name)
        for q in self.group_quota_entries(name, None):
            self.d.delete(q[0])
        self._delete_or_detach(entry[0])

    def _member_value(self, user: str) -> str:
        if self.layout.groupmembers.lower() in ("member", "uniquemember"):
            entry = self.user_entry(user)
            assert entry is not None
            return entry[0]
        return user

    def add_members(self, group: str, users: Sequence[str]) -> None:
        entry = self._group(group)
        for u in users:
            if self.user_entry(u) is None:
                raise NotFound("user", u)
        have = set(self.member_names(entry))
        new = [self._member_value(u) for u in users if u not in have]
        if new:
            self.d.modify(
                entry[0],
                {self.layout.groupmembers: [(ldap3.MODIFY_ADD, sorted(set(new)))]},
                expect=(VALUE_EXISTS,),
            )

    def remove_members(self, group: str, users: Sequence[str]) -> None:
        entry = self._group(group)
        have = set(self.member_names(entry))
        for u in users:
            if u in have:
                self.d.modify(
                    entry[0],
                    {self.layout.groupmembers: [(ldap3.MODIFY_DELETE, [self._member_value(u)])]},
                    expect=(NO_SUCH_ATTRIBUTE,),
                )

    # --- charging ---
    def charge(self, request: ChargeRequest) -> ChargeResult:
        return self._charger.run(request.facts, lambda _snap: request, decide=False)

    def decide_and_charge(
        self,
        facts: JobFacts,
        rule: Callable[[AccountSnapshot], Decision],
        date: datetime,
    ) -> ChargeResult:
        from pagetally.storage.accounting import identity

        ident = identity(facts)
        done = self.history_of_key(bytes(ident["jobkey"]).hex())
        if done is not None:
            return done
        return self._charger.run(
            facts,
            lambda snap: ChargeRequest(facts=facts, decision=rule(snap), date=date),
            decide=True,
        )

    def history_of_key(self, key: str) -> ChargeResult | None:
        found = self.job_entries(f"(pagetallyChargeKey={esc(key)})")
        if not found:
            return None
        job = self.job_of(found[0])
        bentry = self.balance_entry(job.user)
        balance = None if bentry is None else self.user_of(bentry, bentry).balance
        return ChargeResult(job=job, already_charged=True, balance_after=balance)

    # --- what LDAP does not keep yet ---
    def refund(self, row_id: int, refund: Refund, date: datetime) -> RefundResult:
        """The job's entry is claimed first by swapping its action for REFUND (one
        modification: of two refunds at once only one succeeds); then the money,
        the payment and the counters, each one entry (not atomic together)."""
        from pagetally.core.refunds import check_refund
        from pagetally.errors import RuleError
        from pagetally.storage.refunds import refunded_reason

        found = self._job_entry(row_id)
        job = self.job_of(found)
        check_refund(job, refund)
        amount = rows.check_money("refund", refund.amount)
        pages = int(refund.pages)
        entry = self.user_entry(job.user)
        if entry is None and (amount or pages):
            raise NotFound("user", job.user)
        old = str(first(found[1].get("pykotaAction")))
        claim = {
            "pykotaAction": [(ldap3.MODIFY_DELETE, [old]), (ldap3.MODIFY_ADD, ["REFUND"])],
            "pagetallyReason": [(_SET, [refunded_reason(job, refund)])],
        }
        if self.d.modify(found[0], claim, expect=(NO_SUCH_ATTRIBUTE,)) != 0:
            check_refund(self.job_of(self._job_entry(row_id)), refund)
            raise RuleError(f"job {job.job_id or job.id} changed while refunding it: try again")
        balance: Decimal | None = None
        if entry is not None:
            bentry = self.balance_entry(job.user, entry)
            if bentry is not None and amount:
                self._swap_money(bentry[0], amount)
            self._record_payment(Payment(job.user, amount, PaymentKind.REFUND,
                                         refund.reason, date))  # fmt: skip
            if pages:
                names = [p.name for p in self.chain(job.printer)]
                for q in self.user_quota_entries(job.user, names):
                    self._lower(q[0], ("pykotaPageCounter", "pykotaLifePageCounter"), pages)
            balance = self.get_user(job.user).balance
        code = self.code_entry(job.billing_code) if job.billing_code else None
        if code is not None and (amount or pages):
            if amount:
                self._swap_money(code[0], amount)
            self._lower(code[0], ("pykotaPageCounter",), pages)
        return RefundResult(self.job_of(self._job_entry(row_id)), amount, pages, balance)

    def _job_entry(self, row_id: int) -> Entry:
        found = self.job_entries(f"(pagetallyNumber={int(row_id)})")
        if not found:
            found = [e for e in self.job_entries("") if self.job_of(e).id == row_id]
        if not found:
            raise NotFound("job", str(row_id))
        return found[0]

    def _lower(self, dn: str, attrs: Sequence[str], by: int) -> None:
        """Each counter `by` lower, never below 0, by compare-and-swap (retried)."""
        if not by:
            return
        for _attempt in range(1000):
            current = self.d.read(dn, list(attrs)) or {}
            changes: dict[str, Any] = {}
            for a in attrs:
                old = first(current.get(a))
                if old is None:
                    continue
                changes[a] = [
                    (ldap3.MODIFY_DELETE, [old]),
                    (ldap3.MODIFY_ADD, [max(0, int(old) - by)]),
                ]
            if (
                not changes
                or self.d.modify(dn, changes, expect=(NO_SUCH_ATTRIBUTE, VALUE_EXISTS)) == 0
            ):
                return
        raise StorageError("a counter kept changing under concurrent writers, gave up")

    def _invoice_counter(self) -> tuple[str, int | None]:
        dn = rdn("cn", "invoice-counter", self.layout.paymentbase)
        found = self.d.read(dn, ["pagetallyCounter"])
        return dn, None if found is None else int(first(found.get("pagetallyCounter")) or 0)

    def last_invoice_number(self) -> int:
        """The highest invoice or receipt number issued (the counter entry's value)."""
        return self._invoice_counter()[1] or 0

    def issue_numbers(
        self,
        kind: str,
        bills: Sequence[tuple[str, Decimal]],
        issued: datetime,
        first: int | None = None,
    ) -> list[int]:
        """Numbers reserved by swapping the counter entry's value (never repeated,
        also when two admins issue at once), then one pagetallyInvoice entry each."""
        from pagetally.errors import InvalidInput

        for _attempt in range(1000):
            dn, last = self._invoice_counter()
            top = last or 0
            if first is not None and first <= top:
                raise InvalidInput(
                    f"invoice number {first} is not free: numbers up to {top} were issued "
                    f"already (numbers never repeat; the next is {top + 1})"
                )
            start = top + 1 if first is None else first
            numbers = list(range(start, start + len(bills)))
            if not numbers:
                return []
            if last is None:
                ok = (
                    self.d.add(
                        dn,
                        ["pykotaObject", "pagetallyExtra"],
                        {"cn": "invoice-counter", "pagetallyCounter": numbers[-1]},
                    )
                    == 0
                )
            else:
                swap = [(ldap3.MODIFY_DELETE, [last]), (ldap3.MODIFY_ADD, [numbers[-1]])]
                ok = (
                    self.d.modify(
                        dn, {"pagetallyCounter": swap}, expect=(NO_SUCH_ATTRIBUTE, VALUE_EXISTS)
                    )
                    == 0
                )
            if ok:
                break
        else:
            raise StorageError("invoice numbers kept being taken by concurrent writers, gave up")
        for n, (user, amount) in zip(numbers, bills, strict=True):
            self.d.add(
                rdn("cn", f"invoice-{n}", self.layout.paymentbase),
                ["pykotaObject", "pagetallyInvoice"],
                {
                    "cn": f"invoice-{n}",
                    "pagetallyNumber": n,
                    "pykotaUserName": user,
                    "pagetallyAmount": money_text(amount),
                    "pagetallyKind": kind,
                    "pagetallyDate": gtime(issued),
                },
            )
        return numbers


__all__ = ["LdapStore", "charge_key", "date_text", "name_of"]
