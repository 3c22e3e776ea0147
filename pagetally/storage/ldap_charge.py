"""Charging over LDAP: exact without transactions (docs/store.md, "LDAP: charging").

A directory changes one entry atomically and nothing more, so a charge is a short
protocol over single-entry modifications:

1. The job's history entry is added first, named by the job's identity digest
   (`cn=<key>` under jobbase): a second charge of the same job finds it and
   changes nothing. It says `pagetallyState: pending` and holds the list of the
   charge's effects (its counters, balances, deadlines) as JSON.
2. **The commit** is one modification of the user's balance entry: add the mark
   `pagetallyPending: <key> <time>`, replace the serial `pagetallyCounter` S by
   S+1 and the balance B by B-price, each as delete-old-value/add-new-value. If
   another charge came first, the old value is gone and the directory refuses
   the whole modification (noSuchAttribute): nothing happened, the charge reads
   again and retries. So no two charges decide on the same balance or counters.
3. The effects are applied, each one modification of its own entry that also
   adds the same mark: page counters by RFC 4525 increments, billing-code
   balances by the same compare-and-swap. A modification repeated after a crash
   finds its mark (attributeOrValueExists) and is refused whole: applied once.
4. The job entry becomes `done`; the marks are removed, the balance entry's last.

A decision first takes the user's decision lock (a `lock-...` mark added while
swapping the serial), waits until no other charge's mark is left, reads and
decides; its commit swaps the lock for the charge's mark. So it never decides on
counters half updated, and writers waiting for the lock do not read in vain.
A mark older than STALE_SECONDS is a writer that died: the next charge of that
user finishes its effects (they are idempotent), or drops its lock.

Limits: group quotas are the members' sums, and two members printing at the same
moment are serialized per user, not per group (as PyKota was); a deny banner's
warn count is one increment after the history entry, not part of the protocol.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ldap3

from pagetally.core.models import (
    AccountSnapshot,
    ChargeRequest,
    ChargeResult,
    JobFacts,
    JobRecord,
)
from pagetally.errors import StorageError
from pagetally.storage.ldap_io import (
    ALREADY_EXISTS,
    CONSTRAINT,
    NO_SUCH_ATTRIBUTE,
    NO_SUCH_OBJECT,
    VALUE_EXISTS,
    date_text,
    digest,
    esc,
    first,
    gtime,
    int_of,
    money_text,
    rdn,
    text_of,
)
from pagetally.storage.ldap_read import Entry, LdapReads, Seen, job_number
from pagetally.storage.types import to_money

PENDING, DONE = "pending", "done"
STALE_SECONDS = 30.0
GIVE_UP_SECONDS = 120.0
EXTRA = "pagetallyExtra"
_CAS_LOST = (NO_SUCH_ATTRIBUTE, VALUE_EXISTS, CONSTRAINT)


def _jitter() -> float:
    """A random factor for back-off waits, so that writers that collided spread out."""
    return random.uniform(0.5, 1.5)  # noqa: S311 (timing jitter, not a secret)


def charge_key(printer: str, job_id: str, host: str, job_uuid: str) -> str:
    """The job identity's digest as hex (the SQL store's jobkey, the entry's name)."""
    from pagetally.storage.schema import identity_key

    return identity_key(printer, job_id, host, job_uuid).hex()


def _key_of(request: ChargeRequest) -> tuple[str, dict[str, Any]]:
    from pagetally.storage.accounting import request_identity

    ident = request_identity(request)
    return bytes(ident["jobkey"]).hex(), ident


def user_quota_dn(reads: LdapReads, user: str, printer: str) -> str:
    return rdn("cn", "uq-" + digest(user, printer), reads.layout.userquotabase)


def _next_serial(bentry: Entry) -> list[tuple[str, list[Any]]]:
    """The modification that swaps the user's serial for the next (compare-and-swap)."""
    serial = int_of(bentry[1].get("pagetallyCounter"))
    if serial is None:
        return [(ldap3.MODIFY_ADD, [1])]
    return [(ldap3.MODIFY_DELETE, [serial]), (ldap3.MODIFY_ADD, [serial + 1])]


def _marks(entry: Entry | None) -> list[str]:
    return [] if entry is None else [str(v) for v in entry[1].get("pagetallyPending") or []]


def _has_extra(entry: Entry) -> bool:
    return EXTRA in [str(c) for c in entry[1].get("objectClass") or []]


class Charger:
    """The protocol above, over one store's reads and directory."""

    def __init__(self, reads: LdapReads) -> None:
        self.reads = reads
        self.d = reads.d
        self._last_dns: dict[str, str] = {}  # printer → its pykotaLastJob entry

    # --- the way in ---
    def run(
        self, facts: JobFacts, make: Callable[[AccountSnapshot], ChargeRequest], *, decide: bool
    ) -> ChargeResult:
        """Charge; `decide`: `make` decides on the snapshot, which runs under the
        user's lock (a `lock ...` mark on the balance entry, taken by swapping the
        serial), so that waiting writers do not read and decide in vain."""
        deadline = time.monotonic() + GIVE_UP_SECONDS
        held: list[str | None] = [self._lock(facts.user, deadline) if decide else None]
        try:
            pause = 0.001
            while time.monotonic() < deadline:
                seen = self.reads.snapshot_of(
                    facts.user, facts.printer, facts.billing_code, light=not decide
                )
                bentry = seen.balance
                if decide and bentry is not None and self._busy(bentry, held[0]):
                    self._wait_idle(bentry[0], held[0])
                    continue
                request = make(seen.snap)
                key, ident = _key_of(request)
                result = self._attempt(request, key, ident, seen, decided=decide, held=held)
                if result is not None:
                    return result
                done = self._existing(key, bentry)  # its history entry was there already
                if done is not None:
                    return done
                time.sleep(pause * _jitter())
                pause = min(pause * 1.5, 0.05)
            raise StorageError("a charge kept conflicting with concurrent writers, gave up")
        finally:
            if held[0] is not None:
                self._unlock(facts.user, held[0])

    def _lock(self, user: str, deadline: float) -> str | None:
        """Take the user's decision lock; None for a user without a balance entry."""
        bentry = self.reads.balance_entry(user)
        if bentry is None:
            return None
        dn = bentry[0]
        pause = 0.0005
        while time.monotonic() < deadline:
            if not self._busy(bentry, None):
                mark = f"lock-{uuid.uuid4().hex} {time.time():.6f}"
                changes: dict[str, list[tuple[str, list[Any]]]] = {}
                if not _has_extra(bentry):
                    changes["objectClass"] = [(ldap3.MODIFY_ADD, [EXTRA])]
                changes["pagetallyPending"] = [(ldap3.MODIFY_ADD, [mark])]
                changes["pagetallyCounter"] = _next_serial(bentry)
                if self.d.modify(dn, changes, expect=_CAS_LOST) == 0:
                    return mark
            time.sleep(pause * _jitter())
            pause = min(pause * 1.5, 0.02)
            found = self.d.read(dn)
            if found is None:
                return None
            bentry = (dn, found)
        raise StorageError("the user's account stayed busy with other charges, gave up")

    def _unlock(self, user: str, mark: str) -> None:
        bentry = self.reads.balance_entry(user)
        if bentry is not None:
            self.d.modify(
                bentry[0],
                {"pagetallyPending": [(ldap3.MODIFY_DELETE, [mark])]},
                expect=(NO_SUCH_ATTRIBUTE, 32),
            )

    def _wait_idle(self, dn: str, mine: str | None) -> None:
        """Until the balance entry carries no other charge's mark (or one turns stale)."""
        pause = 0.0005
        deadline = time.monotonic() + STALE_SECONDS + 1
        while time.monotonic() < deadline:
            time.sleep(pause * _jitter())
            pause = min(pause * 1.5, 0.02)
            found = self.d.read(dn, ["pagetallyPending"])
            if found is None or not [m for m in _marks((dn, found)) if m != mine]:
                return

    def _busy(self, bentry: Entry, mine: str | None) -> bool:
        """Another charge (or decision) of this user is under way; a dead writer's
        charge is finished here, its lock removed."""
        marks = [m for m in _marks(bentry) if m != mine]
        now = time.time()
        for mark in marks:
            key, _, started = mark.partition(" ")
            try:
                age = now - float(started)
            except ValueError:
                age = STALE_SECONDS + 1
            if age > STALE_SECONDS:
                if key.startswith("lock-"):
                    self.d.modify(
                        bentry[0],
                        {"pagetallyPending": [(ldap3.MODIFY_DELETE, [mark])]},
                        expect=(NO_SUCH_ATTRIBUTE, 32),
                    )
                else:
                    self.roll_forward(key, mark)
        return bool(marks)

    def _existing(self, key: str, bentry: Entry | None) -> ChargeResult | None:
        found = self.d.read(self._job_dn(key), ["*", "createTimestamp"])
        if found is None:
            return None
        if text_of(found.get("pagetallyState")) == PENDING:
            committed = any(m.startswith(key + " ") for m in _marks(bentry))
            if bentry is None and not committed:
                committed = bool(
                    json.loads(text_of(found.get("pagetallyData")) or "{}").get("effects")
                )
            if not committed:  # an attempt that never took effect: forget it
                self.d.delete(self._job_dn(key))
                return None
            self.roll_forward(key, None)
        job = self.reads.job_of((self._job_dn(key), found))
        balance = None
        if bentry is not None:
            fresh = self.reads.balance_entry(job.user)
            balance = None if fresh is None else self.reads.user_of(fresh, fresh).balance
        return ChargeResult(job=job, already_charged=True, balance_after=balance)

    def _job_dn(self, key: str) -> str:
        return rdn("cn", key, self.reads.layout.jobbase)

    # --- one attempt ---
    def _attempt(
        self,
        request: ChargeRequest,
        key: str,
        ident: dict[str, Any],
        seen: Seen,
        *,
        decided: bool,
        held: list[str | None],
    ) -> ChargeResult | None:
        """The charge, or None when a concurrent writer came first (read again).
        `decided`: the decision rests on the snapshot, which must still hold."""
        facts, decision = request.facts, request.decision
        bentry = seen.balance
        price = to_money(decision.price) if decision.allowed else Decimal(0)
        job_attrs = self._job_attrs(request, key, ident)
        if not decision.allowed:
            job_attrs["pagetallyState"] = DONE
            if (
                self.d.add(
                    self._job_dn(key), ["pykotaObject", "pykotaJob", "pagetallyJob"], job_attrs
                )
                == ALREADY_EXISTS
            ):
                return None
            if request.deny_banner and bentry is not None:
                self._count_deny_banner(facts.user, facts.printer)
            self._last_job(facts.printer, key)
            return self._result(key, job_attrs, bentry, None)
        mark = f"{key} {time.time():.6f}"
        effects = self._plan(request, seen)
        job_attrs["pagetallyState"] = PENDING
        job_attrs["pagetallyData"] = json.dumps(
            json.loads(job_attrs.get("pagetallyData", "{}"))
            | {"uuid": ident["jobuuid"], "effects": effects, "mark": mark}
        )
        if (
            self.d.add(self._job_dn(key), ["pykotaObject", "pykotaJob", "pagetallyJob"], job_attrs)
            == ALREADY_EXISTS
        ):
            return None
        balance_after: Decimal | None = None
        if bentry is not None:
            balance_after = self._commit(bentry, mark, price, held)
            while balance_after is None and not decided:
                # a charge decided already needs only the new balance: swap again
                time.sleep(0.0005 * _jitter())
                fresh = self.d.read(bentry[0])
                if fresh is None:
                    break
                bentry = (bentry[0], fresh)
                balance_after = self._commit(bentry, mark, price, held)
            if balance_after is None:
                self.d.delete(self._job_dn(key))
                return None
        self._apply_all(effects, mark)
        self._finish(key, mark, effects, bentry[0] if bentry is not None else None)
        self._last_job(facts.printer, key)
        job_attrs["pagetallyState"] = DONE
        return self._result(key, job_attrs, bentry, balance_after)

    def _result(
        self, key: str, attrs: dict[str, Any], bentry: Entry | None, balance: Decimal | None
    ) -> ChargeResult:
        as_read = {k: v if isinstance(v, list) else [v] for k, v in attrs.items()}
        job: JobRecord = self.reads.job_of((self._job_dn(key), as_read))
        if balance is None and bentry is not None:
            balance = self.reads.user_of(bentry, bentry).balance
        return ChargeResult(job=job, balance_after=balance)

    def _job_attrs(self, request: ChargeRequest, key: str, ident: dict[str, Any]) -> dict[str, Any]:
        facts, decision = request.facts, request.decision
        price = to_money(decision.price) if decision.allowed else Decimal(0)
        attrs: dict[str, Any] = {
            "cn": key,
            "pykotaUserName": facts.user,
            "pykotaPrinterName": facts.printer,
            "pykotaJobId": facts.job_id or "None",
            "pykotaAction": decision.action.value.upper(),
            "pykotaJobSize": facts.pages,
            "pykotaJobPrice": money_text(price),
            "pykotaFileName": facts.filename[:200] or None,
            "pykotaTitle": facts.title[:200] or None,
            "pykotaCopies": facts.copies,
            "pykotaOptions": facts.options[:400] or None,
            "pykotaHostName": ident["hostname"] or None,
            "pykotaJobSizeBytes": facts.size_bytes,
            "pykotaBillingCode": facts.billing_code or None,
            "pykotaPrinterPageCounter": request.printer_counter,
            "pykotaPrecomputedJobSize": request.precomputed_pages,
            "pykotaPrecomputedJobPrice": None
            if request.precomputed_price is None
            else money_text(request.precomputed_price),
            "pagetallyDate": gtime(request.date),
            "pagetallyChargeKey": key if decision.allowed else None,
            "pagetallyJobUuid": ident["jobuuid"] or None,
            "pagetallyReason": decision.reason[:255] or None,
            "pagetallyColorPages": facts.color_pages,
            "pagetallySheets": facts.sheets,
            "pagetallySha256": facts.sha256,
            "pagetallyNumber": job_number(key),
            # the backend's time (the SQL store's jobhistory.backendms): in the
            # JSON of what nothing searches on, so PyKota's schema stays as it is
            "pagetallyData": None
            if request.backend_ms is None
            else json.dumps({"backendms": request.backend_ms}),
        }
        return {k: v for k, v in attrs.items() if v is not None}

    # --- the commit: one compare-and-swap on the user's balance entry ---
    def _commit(
        self, bentry: Entry, mark: str, price: Decimal, held: list[str | None]
    ) -> Decimal | None:
        """The new balance, or None when the entry changed since it was read. The
        decision lock in `held`, if any, is swapped for the charge's mark."""
        dn, attrs = bentry
        changes: dict[str, list[tuple[str, list[Any]]]] = {}
        if not _has_extra(bentry):
            changes["objectClass"] = [(ldap3.MODIFY_ADD, [EXTRA])]
        lock = held[0]
        changes["pagetallyPending"] = [(ldap3.MODIFY_ADD, [mark])]
        if lock is not None:
            changes["pagetallyPending"].insert(0, (ldap3.MODIFY_DELETE, [lock]))
        changes["pagetallyCounter"] = _next_serial(bentry)
        old_text = first(attrs.get("pykotaBalance"))
        old = self.reads.user_of(bentry, bentry).balance
        new = to_money(old - price)
        if price:
            swap: list[tuple[str, list[Any]]] = [(ldap3.MODIFY_ADD, [money_text(new)])]
            if old_text is not None:
                swap.insert(0, (ldap3.MODIFY_DELETE, [str(old_text)]))
            changes["pykotaBalance"] = swap
        code = self.d.modify(dn, changes, expect=_CAS_LOST)
        if code != 0:
            return None
        held[0] = None
        return new

    # --- effects ---
    def _plan(self, request: ChargeRequest, seen: Seen) -> list[dict[str, Any]]:
        """What an allowed job changes beyond the balance, as data (kept in the job
        entry, so that a charge a dead writer left can be finished by another)."""
        facts, decision = request.facts, request.decision
        effects = self._plan_counters(request, seen) if seen.user is not None else []
        for (group, printer), limit in decision.group_date_limits.items():
            for e in self.reads.group_quota_entries(group, [printer]):
                deadline = {"pykotaDateLimit": date_text(limit)}
                effects.append({"dn": e[0], "inc": {}, "set": deadline, "extra": _has_extra(e)})
        if facts.billing_code and seen.code is not None:
            centry = seen.code
            effects.append(
                {
                    "dn": centry[0],
                    "inc": {"pykotaPageCounter": decision.pages},
                    "set": {},
                    "money": money_text(to_money(decision.price)),
                    "guess": str(first(centry[1].get("pykotaBalance"))),
                    "extra": _has_extra(centry),
                }
            )
        return effects

    def _plan_counters(self, request: ChargeRequest, seen: Seen) -> list[dict[str, Any]]:
        """The user's entries on the printer chain: pages counted, deadlines set; an
        entry made where only one of the user's groups has one (the group's sum)."""
        facts, decision = request.facts, request.decision
        names = [p.name for p in seen.chain]
        have = seen.user_quotas
        via_group: set[str] = set()
        if len(have) < len(names) and decision.pages:
            for g in self.reads.groups_of(facts.user):
                for e in self.reads.group_quota_entries(g.name, names):
                    via_group.add(text_of(e[1].get("pykotaPrinterName")))
        pages = decision.pages
        incs = {"pykotaPageCounter": pages, "pykotaLifePageCounter": pages} if pages else {}
        effects: list[dict[str, Any]] = []
        for printer in names:
            entry = have.get(printer)
            limit = decision.user_date_limits.get(printer)
            sets = {} if limit is None else {"pykotaDateLimit": date_text(limit)}
            if entry is not None and (pages or sets):
                effects.append(
                    {"dn": entry[0], "inc": incs, "set": sets, "extra": _has_extra(entry)}
                )
            elif entry is None and printer in via_group:
                dn = user_quota_dn(self.reads, facts.user, printer)
                effects.append(
                    {"create": dn, "user": facts.user, "printer": printer, "pages": pages}
                )
        return effects

    def _apply_all(self, effects: list[dict[str, Any]], mark: str) -> None:
        for effect in effects:
            self._apply(effect, mark)

    def _apply(self, effect: dict[str, Any], mark: str) -> None:
        """One effect, once: its modification carries the charge's mark."""
        if "create" in effect:
            effect = self._create(effect, mark)
            if not effect:
                return
        dn = effect["dn"]
        if not effect.get("extra", True):
            self.d.modify(
                dn, {"objectClass": [(ldap3.MODIFY_ADD, [EXTRA])]}, expect=(VALUE_EXISTS,)
            )
        guess: str | None = effect.get("guess")
        while True:
            changes: dict[str, list[tuple[str, list[Any]]]] = {
                "pagetallyPending": [(ldap3.MODIFY_ADD, [mark])],
            }
            for attr, n in effect.get("inc", {}).items():
                if n:
                    changes[attr] = [(ldap3.MODIFY_INCREMENT, [int(n)])]
            for attr, value in effect.get("set", {}).items():
                changes[attr] = [(ldap3.MODIFY_REPLACE, [value])]
            if effect.get("money") and Decimal(effect["money"]):
                if guess is not None:  # the balance as the snapshot read it: one read less
                    old_text = None if guess == "None" else guess
                    guess = None
                else:
                    current = self.d.read(dn, ["pykotaBalance", "pagetallyPending"])
                    if current is None:
                        return
                    if mark in [str(v) for v in current.get("pagetallyPending") or []]:
                        return  # applied before
                    old_text = first(current.get("pykotaBalance"))
                old = Decimal(str(old_text)) if old_text not in (None, "None") else Decimal(0)
                swap: list[tuple[str, list[Any]]] = [
                    (ldap3.MODIFY_ADD, [money_text(old - Decimal(effect["money"]))])
                ]
                if old_text is not None:
                    swap.insert(0, (ldap3.MODIFY_DELETE, [str(old_text)]))
                changes["pykotaBalance"] = swap
            code = self.d.modify(dn, changes, expect=(*_CAS_LOST, 32))
            if code == 0 or code == 32:
                return
            current = self.d.read(dn, ["pagetallyPending"])
            if current is None or mark in [str(v) for v in current.get("pagetallyPending") or []]:
                return  # applied before (the mark is there): once only
            # the balance changed under us: read it again

    def _create(self, effect: dict[str, Any], mark: str) -> dict[str, Any]:
        """A user's quota entry made with the job's pages; {} when made, else (it was
        there already) the increment to apply to it instead."""
        pages = int(effect["pages"])
        attrs = {
            "cn": effect["create"].split(",", 1)[0].split("=", 1)[1],
            "pykotaUserName": effect["user"],
            "pykotaPrinterName": effect["printer"],
            "pykotaPageCounter": pages,
            "pykotaLifePageCounter": pages,
            "pykotaWarnCount": 0,
            "pykotaDateLimit": "None",
            "pagetallyPending": [mark],
        }
        code = self.d.add(effect["create"], ["pykotaObject", "pykotaUserPQuota", EXTRA], attrs)
        if code != ALREADY_EXISTS:
            return {}
        return {
            "dn": effect["create"],
            "inc": {"pykotaPageCounter": pages, "pykotaLifePageCounter": pages},
            "set": {},
            "extra": True,
        }

    def _finish(self, key: str, mark: str, effects: list[dict[str, Any]], bdn: str | None) -> None:
        self.d.modify(self._job_dn(key), {"pagetallyState": [(ldap3.MODIFY_REPLACE, [DONE])]})
        for effect in effects:
            dn = str(effect.get("dn") or effect.get("create"))
            self.d.modify(
                dn,
                {"pagetallyPending": [(ldap3.MODIFY_DELETE, [mark])]},
                expect=(NO_SUCH_ATTRIBUTE, 32),
            )
        if bdn is not None:
            self.d.modify(
                bdn,
                {"pagetallyPending": [(ldap3.MODIFY_DELETE, [mark])]},
                expect=(NO_SUCH_ATTRIBUTE, 32),
            )

    def roll_forward(self, key: str, mark: str | None) -> None:
        """Finish a committed charge whose writer died (its effects are idempotent)."""
        found = self.d.read(self._job_dn(key))
        if found is None or text_of(found.get("pagetallyState")) != PENDING:
            if mark is not None:
                self._drop_mark(text_of(found.get("pykotaUserName")) if found else None, mark)
            return
        data = json.loads(text_of(found.get("pagetallyData")) or "{}")
        effects = list(data.get("effects") or [])
        mark = mark or str(data.get("mark"))
        self._apply_all(effects, mark)
        bentry = self.reads.balance_entry(text_of(found.get("pykotaUserName")))
        self._finish(key, mark, effects, bentry[0] if bentry is not None else None)

    def _drop_mark(self, user: str | None, mark: str) -> None:
        if user is None:
            return
        bentry = self.reads.balance_entry(user)
        if bentry is not None:
            self.d.modify(
                bentry[0],
                {"pagetallyPending": [(ldap3.MODIFY_DELETE, [mark])]},
                expect=(NO_SUCH_ATTRIBUTE, 32),
            )

    def _last_job(self, printer: str, key: str) -> None:
        """Point the printer's last-job entry at this job, as PyKota's writeJobNew
        does for every job, allowed or not: a `pykotaLastJob` entry under
        lastjobbase whose `pykotaLastJobIdent` is the job entry's cn, found by
        PyKota through `pykotaPrinterName`. The printer's existing entry (made by
        PyKota, under any cn) is kept; else one is made, `cn=<printer>`. Print
        servers charging one printer at once: the last write wins, as in PyKota
        (the history itself is exact; this entry only names a recent job)."""
        base = self.reads.layout.lastjobbase
        change = {"pykotaLastJobIdent": [(ldap3.MODIFY_REPLACE, [key])]}
        dn = self._last_dns.get(printer, rdn("cn", printer, base))
        if self.d.modify(dn, change, expect=(NO_SUCH_OBJECT,)) == 0:
            self._last_dns[printer] = dn
            return
        flt = f"(&(objectClass=pykotaLastJob)(pykotaPrinterName={esc(printer)}))"
        found = self.d.search(base, flt, ["cn"], scope="LEVEL")
        if found:
            dn = found[0][0]
            self.d.modify(dn, change, expect=(NO_SUCH_OBJECT,))
        else:
            dn = rdn("cn", printer, base)
            attrs = {"cn": printer, "pykotaPrinterName": printer, "pykotaLastJobIdent": key}
            if self.d.add(dn, ["pykotaObject", "pykotaLastJob"], attrs) == ALREADY_EXISTS:
                self.d.modify(dn, change, expect=(NO_SUCH_OBJECT,))
        self._last_dns[printer] = dn

    def _count_deny_banner(self, user: str, printer: str) -> None:
        for e in self.reads.user_quota_entries(user, [printer]):
            self.d.modify(
                e[0],
                {"pykotaWarnCount": [(ldap3.MODIFY_INCREMENT, [1])]},
                expect=(NO_SUCH_ATTRIBUTE,),
            )
