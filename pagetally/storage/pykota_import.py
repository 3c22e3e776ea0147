"""Bringing a PyKota store into PageTally's, rerunnable without duplicates.

Keys: users, groups, printers and billing codes by name; memberships and quota
entries by their pair of names; payments by (user, date, amount, description),
counted so that identical payments stay as many as PyKota had; jobs by PyKota's
row id, kept in the job identity (`jobuuid` = "pykota-<id>"). A second run over
the same PyKota store changes nothing; a run after PyKota printed more brings the
new jobs and payments and sets balances, counters and limits to PyKota's (the
final import before switching over).

Writes are bulk units of work of the SQL store (one transaction per table, and
per chunk of jobs, so an interrupted import resumes where it stopped).
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, update

from pagetally.core.models import Action, LimitBy, PaymentKind, PriceTable
from pagetally.core.money import PRICE_PLACES
from pagetally.errors import StorageError
from pagetally.storage import rows as rowcheck
from pagetally.storage.pykota_source import PyKotaSource, exact_money, naive_date, truthy
from pagetally.storage.schema import (
    FILENAME_MAX,
    OPTIONS_MAX,
    REASON_MAX,
    TEXT_MAX,
    TITLE_MAX,
    billingcodes,
    grouppquota,
    groups,
    groupsmembers,
    identity_key,
    jobhistory,
    payments,
    printergroupsmembers,
    printers,
    userpquota,
    users,
)
from pagetally.storage.sql import SqlStore
from pagetally.storage.types import to_money

JOB_UUID_PREFIX = "pykota-"
JOB_CHUNK = 5000
ROUNDED_SHOWN = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ACTIONS = {a.value for a in Action}
_LIMITS = {lim.value for lim in LimitBy}


@dataclass
class Rounded:
    """One PyKota float the store could not keep exactly."""

    where: str
    original: Decimal
    kept: Decimal


@dataclass
class Side:
    """What one store holds of the imported things: counts and sums."""

    counts: dict[str, int] = field(default_factory=dict)
    money: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class ImportReport:
    pykota: Side = field(default_factory=Side)
    pagetally: Side = field(default_factory=Side)
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    rounded: list[Rounded] = field(default_factory=list)
    rounded_count: int = 0
    rounding_total: dict[str, Decimal] = field(default_factory=dict)
    notes: Counter[str] = field(default_factory=Counter)

    def mismatches(self) -> list[str]:
        """The figures that differ between the two sides (money: once the reported
        rounding is accounted for). Empty: the import is complete and exact."""
        bad = [k for k, n in self.pykota.counts.items() if self.pagetally.counts.get(k) != n]
        for k, src in self.pykota.money.items():
            if self.pagetally.money.get(k) != src + self.rounding_total.get(k, Decimal(0)):
                bad.append(k)
        return bad


class _Converter:
    """PyKota's values as PageTally's, noting every rounding and every oddity."""

    def __init__(self, report: ImportReport, tz: tzinfo, stamp_tz: tzinfo) -> None:
        self.report = report
        self.tz = tz
        self.stamp_tz = stamp_tz
        self._heap: list[tuple[Decimal, int, Rounded]] = []

    def money(self, value: Any, what: str, where: str) -> Decimal:
        exact, kept = exact_money(value)
        src = self.report.pykota.money
        src[what] = src.get(what, Decimal(0)) + exact
        if exact != kept:
            self.report.rounded_count += 1
            tot = self.report.rounding_total
            tot[what] = tot.get(what, Decimal(0)) + (kept - exact)
            self._keep(Rounded(where, exact, kept))
        return kept

    def _keep(self, item: Rounded) -> None:
        """Keep the ROUNDED_SHOWN roundings that changed most (largest first)."""
        entry = (abs(item.kept - item.original), self.report.rounded_count, item)
        if len(self._heap) < ROUNDED_SHOWN:
            heapq.heappush(self._heap, entry)
        elif entry[0] > self._heap[0][0]:
            heapq.heapreplace(self._heap, entry)
        else:
            return
        self.report.rounded = [e[2] for e in sorted(self._heap, reverse=True)]

    def price(self, value: Any, where: str, places: int = 6) -> Decimal:
        """A price or factor: not summed, but its rounding is reported too. A
        printer's price table keeps 12 places (`places`): prices are finer than
        amounts (core/money.py); its PyKota-shaped columns keep 6."""
        exact, kept = exact_money(value)
        if places != 6:
            kept = exact.quantize(Decimal(1).scaleb(-places))
        if exact != kept:
            self.report.rounded_count += 1
            self._keep(Rounded(where, exact, kept))
        return kept

    def date(self, value: Any) -> datetime | None:
        """A date PyKota wrote itself (grace dates): its local time."""
        return naive_date(value, self.tz)

    def stamp(self, value: Any) -> datetime | None:
        """A date the database filled in (jobdate, payments.date: the column's
        default): local time on PostgreSQL and MySQL (now()), UTC on SQLite
        (CURRENT_TIMESTAMP)."""
        return naive_date(value, self.stamp_tz)

    def limit_by(self, value: Any, where: str) -> str:
        low = str(value or "quota").strip().lower()
        if low not in _LIMITS:
            self.report.notes[f"unknown limitby {low!r} read as quota ({where})"] += 1
            return LimitBy.QUOTA.value
        return low

    def text(self, value: Any, width: int, what: str) -> str:
        out = "" if value is None else str(value)
        if len(out) > width:
            self.report.notes[f"{what} cut to {width} characters"] += 1
            out = out[:width]
        return out

    def count(self, value: Any) -> int | None:
        return None if value is None else int(value)


def _names(conn: Connection, tbl: Table, col: str) -> dict[str, int]:
    return {r[1]: r[0] for r in conn.execute(select(tbl.c.id, tbl.c[col]))}


def _sync(
    conn: Connection,
    tbl: Table,
    key: str,
    wanted: dict[str, dict[str, Any]],
    report: ImportReport,
    kind: str,
) -> dict[str, int]:
    """Create missing rows and set differing ones to PyKota's; name -> id."""
    have = {r._mapping[key]: r for r in conn.execute(select(tbl))}
    for name, values in wanted.items():
        row = have.get(name)
        if row is None:
            conn.execute(insert(tbl).values({key: name, **values}))
            report.created[kind] += 1
            continue
        diff = {k: v for k, v in values.items() if row._mapping[k] != v}
        if diff:
            conn.execute(update(tbl).where(tbl.c.id == row.id).values(**diff))
            report.updated[kind] += 1
    return _names(conn, tbl, key)


class PyKotaImport:
    """One import: `run()` reads `source`, writes `store`, returns the report."""

    def __init__(
        self,
        source: PyKotaSource,
        store: SqlStore,
        *,
        tz: tzinfo,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.src = source
        self.store = store
        self.report = ImportReport()
        stamp_tz = UTC if source.settings.backend == "sqlite" else tz
        self.conv = _Converter(self.report, tz, stamp_tz)
        self.progress = progress or (lambda _what, _done, _total: None)

    def run(self) -> ImportReport:
        src = self.src
        u_rows = src.rows("users")
        g_rows = src.rows("groups")
        p_rows = src.rows("printers")
        self.user_names = {r.id: r.username for r in u_rows}
        self.group_names = {r.id: r.groupname for r in g_rows}
        self.printer_names = {r.id: r.printername for r in p_rows}
        coeffs: dict[int, dict[str, Decimal]] = {}
        for r in src.rows("coefficients"):
            where = f"coefficient {r.label!r} of printer id {r.printerid}"
            coeffs.setdefault(r.printerid, {})[str(r.label)] = self.conv.price(
                1.0 if r.coefficient is None else r.coefficient, where, PRICE_PLACES
            )
        self._precheck()
        self._entities(u_rows, g_rows, p_rows, coeffs)
        self._quotas()
        self._payments()
        self._jobs()
        self._count_source()
        self._count_target()
        return self.report

    # --- users, groups, printers, codes, memberships --------------------------
    def _entities(
        self,
        u_rows: list[Any],
        g_rows: list[Any],
        p_rows: list[Any],
        coeffs: dict[int, dict[str, Decimal]],
    ) -> None:
        c, rep = self.conv, self.report
        want_users = self._want_users(u_rows)
        want_groups = {}
        for r in g_rows:
            rowcheck.check_name("group", r.groupname)
            want_groups[r.groupname] = {
                "description": c.text(r.description, TEXT_MAX, "description"),
                "limitby": c.limit_by(r.limitby, f"group {r.groupname!r}"),
            }
        want_printers = self._want_printers(p_rows, coeffs)
        want_codes = {}
        for r in self.src.rows("billingcodes"):
            rowcheck.check_name("billing code", r.billingcode)
            want_codes[r.billingcode] = {
                "description": c.text(r.description, TEXT_MAX, "description"),
                "balance": c.money(
                    r.balance, "billing code balance", f"billing code {r.billingcode!r} balance"
                ),
                "pagecounter": int(r.pagecounter or 0),
            }
        members = [
            (self.group_names.get(r.groupid), self.user_names.get(r.userid))
            for r in self.src.rows("groupsmembers")
        ]
        pmembers = [
            (self.printer_names.get(r.groupid), self.printer_names.get(r.printerid))
            for r in self.src.rows("printergroupsmembers")
        ]

        def work(conn: Connection) -> None:
            self.uids = _sync(conn, users, "username", want_users, rep, "users")
            self.gids = _sync(conn, groups, "groupname", want_groups, rep, "groups")
            self.pids = _sync(conn, printers, "printername", want_printers, rep, "printers")
            _sync(conn, billingcodes, "billingcode", want_codes, rep, "billing codes")
            have = {(r.groupid, r.userid) for r in conn.execute(select(groupsmembers))}
            for g, u in members:
                if g is None or u is None:
                    rep.notes["memberships naming a missing user or group skipped"] += 1
                    continue
                pair = (self.gids[g], self.uids[u])
                if pair not in have:
                    conn.execute(insert(groupsmembers).values(groupid=pair[0], userid=pair[1]))
                    have.add(pair)
                    rep.created["group members"] += 1
            have = {(r.groupid, r.printerid) for r in conn.execute(select(printergroupsmembers))}
            for g, p in pmembers:
                if g is None or p is None:
                    rep.notes["printer group members naming a missing printer skipped"] += 1
                    continue
                pair = (self.pids[g], self.pids[p])
                if pair not in have:
                    conn.execute(
                        insert(printergroupsmembers).values(groupid=pair[0], printerid=pair[1])
                    )
                    have.add(pair)
                    rep.created["printer group members"] += 1

        self.store._write(work)
        self.src_members = sum(1 for g, u in members if g is not None and u is not None)
        self.src_pmembers = sum(1 for g, p in pmembers if g is not None and p is not None)

    def _want_users(self, u_rows: list[Any]) -> dict[str, dict[str, Any]]:
        """PyKota's users as the rows of `users` they become (checked)."""
        c = self.conv
        want_users: dict[str, dict[str, Any]] = {}
        for r in u_rows:
            rowcheck.check_name("user", r.username)
            where = f"user {r.username!r}"
            want_users[r.username] = {
                "email": (r.email or None) and c.text(r.email, TEXT_MAX, "e-mail"),
                "balance": c.money(r.balance, "balance", f"{where} balance"),
                "lifetimepaid": c.money(r.lifetimepaid, "lifetime paid", f"{where} lifetimepaid"),
                "limitby": c.limit_by(r.limitby, where),
                "description": c.text(r.description, TEXT_MAX, "description"),
                "overcharge": c.price(
                    1.0 if r.overcharge is None else r.overcharge, f"{where} overcharge"
                ),
            }
        return want_users

    def _want_printers(
        self, p_rows: list[Any], coeffs: dict[int, dict[str, Decimal]]
    ) -> dict[str, dict[str, Any]]:
        """PyKota's printers, with their prices and media coefficients, as the
        rows of `printers` they become (checked)."""
        c = self.conv
        want_printers: dict[str, dict[str, Any]] = {}
        for r in p_rows:
            rowcheck.check_name("printer", r.printername)
            where = f"printer {r.printername!r}"
            per_page = c.price(r.priceperpage, f"{where} priceperpage", PRICE_PLACES)
            per_job = c.price(r.priceperjob, f"{where} priceperjob", PRICE_PLACES)
            table = PriceTable(per_page=per_page, per_job=per_job, media=coeffs.get(r.id, {}))
            want_printers[r.printername] = {
                "description": c.text(r.description, TEXT_MAX, "description"),
                "priceperpage": to_money(per_page),
                "priceperjob": to_money(per_job),
                "prices": json.dumps(table.to_dict(), sort_keys=True, separators=(",", ":")),
                "passthrough": truthy(r.passthrough),
                "maxjobsize": c.count(r.maxjobsize),
            }
        return want_printers

    # --- quotas --------------------------------------------------------------
    def _quotas(self) -> None:
        c, rep = self.conv, self.report
        uq = []
        for r in self.src.rows("userpquota"):
            u, p = self.user_names.get(r.userid), self.printer_names.get(r.printerid)
            if u is None or p is None:
                rep.notes["user quota entries naming a missing user or printer skipped"] += 1
                continue
            uq.append(
                (
                    (self.uids[u], self.pids[p]),
                    {
                        "lifepagecounter": int(r.lifepagecounter or 0),
                        "pagecounter": int(r.pagecounter or 0),
                        "softlimit": c.count(r.softlimit),
                        "hardlimit": c.count(r.hardlimit),
                        "datelimit": c.date(r.datelimit),
                        "maxjobsize": c.count(r.maxjobsize),
                        "warncount": int(r.warncount or 0),
                    },
                )
            )
        gq = []
        for r in self.src.rows("grouppquota"):
            g, p = self.group_names.get(r.groupid), self.printer_names.get(r.printerid)
            if g is None or p is None:
                rep.notes["group quota entries naming a missing group or printer skipped"] += 1
                continue
            gq.append(
                (
                    (self.gids[g], self.pids[p]),
                    {
                        "softlimit": c.count(r.softlimit),
                        "hardlimit": c.count(r.hardlimit),
                        "datelimit": c.date(r.datelimit),
                        "maxjobsize": c.count(r.maxjobsize),
                    },
                )
            )
        self.src_uq, self.src_gq = len(uq), len(gq)

        def sync(conn: Connection, tbl: Table, owner: str, wanted: list[Any], kind: str) -> None:
            have = {(r._mapping[owner], r.printerid): r for r in conn.execute(select(tbl))}
            for (oid, pid), values in wanted:
                row = have.get((oid, pid))
                if row is None:
                    conn.execute(insert(tbl).values({owner: oid, "printerid": pid, **values}))
                    rep.created[kind] += 1
                    continue
                diff = {k: v for k, v in values.items() if row._mapping[k] != v}
                if diff:
                    conn.execute(update(tbl).where(tbl.c.id == row.id).values(**diff))
                    rep.updated[kind] += 1

        def work(conn: Connection) -> None:
            sync(conn, userpquota, "userid", uq, "user quotas")
            sync(conn, grouppquota, "groupid", gq, "group quotas")

        self.store._write(work)

    # --- payments --------------------------------------------------------------
    def _payments(self) -> None:
        c, rep = self.conv, self.report
        wanted: Counter[tuple[int, datetime, Decimal, str]] = Counter()
        for r in self.src.rows("payments"):
            user = self.user_names.get(r.userid)
            if user is None:
                rep.notes["payments of a missing user skipped"] += 1
                continue
            amount = c.money(r.amount, "payments", f"payment {r.id}")
            when = c.stamp(r.date) or _EPOCH
            wanted[
                (
                    self.uids[user],
                    when,
                    amount,
                    c.text(r.description, TEXT_MAX, "payment description"),
                )
            ] += 1
        self.src_payments = sum(wanted.values())
        uids = set(self.uids.values())

        def work(conn: Connection) -> None:
            have: Counter[tuple[int, datetime, Decimal, str]] = Counter()
            for r in conn.execute(select(payments)):
                if r.userid in uids:
                    have[(r.userid, r.date, r.amount, r.description)] += 1
            new = []
            for key, n in wanted.items():
                for _ in range(n - have.get(key, 0)):
                    uid, when, amount, desc = key
                    kind = PaymentKind.CREDIT if amount >= 0 else PaymentKind.DEBIT
                    new.append(
                        {
                            "userid": uid,
                            "date": when,
                            "amount": amount,
                            "description": desc,
                            "kind": kind.value,
                        }
                    )
            if new:
                conn.execute(insert(payments), new)
            rep.created["payments"] += len(new)

        self.store._write(work)

    # --- jobs -----------------------------------------------------------------
    def _jobs(self) -> None:
        total = self.src.count("jobhistory")
        done = self._done
        seen = 0
        batch: list[dict[str, Any]] = []
        self.progress("jobs", 0, total)
        for r in self.src.stream("jobhistory", chunk=JOB_CHUNK):
            seen += 1
            row = self._job(r)  # converted even when present: the source's sums need it
            key = done.get(r.id)
            if key is None:
                batch.append(row)
            elif key != row["jobkey"]:
                self._conflict(r.id, row)
            if len(batch) >= JOB_CHUNK:
                self._insert_jobs(batch)
                batch = []
            if seen % 1000 == 0:
                self.progress("jobs", seen, total)
        if batch:
            self._insert_jobs(batch)
        self.progress("jobs", seen, total)

    def _conflict(self, pykota_id: int, row: dict[str, Any]) -> None:
        raise StorageError(
            f"PageTally's history holds another job as PyKota job {pykota_id} "
            f"(this one: printer {row['printername']!r}, job id {row['jobid']!r}, "
            f"host {row['hostname']!r}): was another PyKota store imported into it? "
            "Only one PyKota store can be imported into a PageTally store"
        )

    def _precheck(self) -> None:
        """Before writing anything: the history's PyKota jobs (id -> identity digest),
        and PyKota's first jobs compared with them, so that importing a second
        PyKota store is refused before it changes a single user."""
        self._done: dict[int, bytes] = dict(
            self.store._read(
                lambda conn: [
                    (int(r.jobuuid[len(JOB_UUID_PREFIX) :]), bytes(r.jobkey))
                    for r in conn.execute(
                        select(jobhistory.c.jobuuid, jobhistory.c.jobkey).where(
                            jobhistory.c.jobuuid.like(JOB_UUID_PREFIX + "%")
                        )
                    )
                ]
            )
        )
        if not self._done:
            return
        probe = _Converter(ImportReport(), self.conv.tz, self.conv.stamp_tz)
        for n, r in enumerate(self.src.stream("jobhistory", chunk=200)):
            if n >= 200:
                break
            key = self._done.get(r.id)
            printer = self.printer_names.get(r.printerid, f"pykota-printer-{r.printerid}")
            job_id = probe.text(r.jobid, 64, "")
            host = probe.text(r.hostname, TEXT_MAX, "")
            mine = identity_key(printer, job_id, host, f"{JOB_UUID_PREFIX}{r.id}")
            if key is not None and key != mine:
                self._conflict(r.id, {"printername": printer, "jobid": job_id, "hostname": host})

    def _insert_jobs(self, batch: list[dict[str, Any]]) -> None:
        self.store._write(lambda conn: conn.execute(insert(jobhistory), batch))
        self.report.created["jobs"] += len(batch)

    def _job(self, r: Any) -> dict[str, Any]:
        c, rep = self.conv, self.report
        user = self.user_names.get(r.userid)
        if user is None:
            user = f"pykota-user-{r.userid}"
            rep.notes["jobs of a user PyKota no longer has (named pykota-user-<id>)"] += 1
        printer = self.printer_names.get(r.printerid)
        if printer is None:
            printer = f"pykota-printer-{r.printerid}"
            rep.notes["jobs on a printer PyKota no longer has (named pykota-printer-<id>)"] += 1
        action = str(r.action or "").strip().lower()
        reason = ""
        if action not in _ACTIONS:
            reason = f"PyKota action {r.action!r}"[:REASON_MAX]
            rep.notes["jobs with an unknown PyKota action recorded as problem"] += 1
            action = Action.PROBLEM.value
        when = c.stamp(r.jobdate)
        if when is None:
            rep.notes["jobs without a date dated 1970-01-01"] += 1
            when = _EPOCH
        job_id = c.text(r.jobid, 64, "job id")
        host = c.text(r.hostname, TEXT_MAX, "host name")
        job_uuid = f"{JOB_UUID_PREFIX}{r.id}"
        pre_price = r.precomputedjobprice
        pages = int(r.jobsize or 0)
        self.pages += pages
        return {
            "jobdate": when,
            "username": user,
            "printername": printer,
            "action": action,
            "jobsize": pages,
            "colorpages": 0,
            "sheets": None,
            "copies": int(r.copies if r.copies is not None else 1),
            "jobprice": c.money(r.jobprice, "job prices", f"job {r.id} jobprice"),
            "reason": reason,
            "billingcode": r.billingcode or None,
            "hostname": host,
            "title": c.text(r.title, TITLE_MAX, "title"),
            "filename": c.text(r.filename, FILENAME_MAX, "file name"),
            "jobsizebytes": int(r.jobsizebytes or 0),
            "sha256": None,
            "options": c.text(r.options, OPTIONS_MAX, "options"),
            "jobid": job_id,
            "jobuuid": job_uuid,
            "jobkey": identity_key(printer, job_id, host, job_uuid),
            "pagecounter": c.count(r.pagecounter),
            "precomputedjobsize": c.count(r.precomputedjobsize),
            "precomputedjobprice": None
            if pre_price is None
            else c.price(pre_price, f"job {r.id} precomputedjobprice"),
        }

    pages = 0

    # --- the two sides' figures ------------------------------------------------
    def _count_source(self) -> None:
        n = self.report.pykota.counts
        n["users"] = len(self.user_names)
        n["groups"] = len(self.group_names)
        n["group members"] = self.src_members
        n["printers"] = len(self.printer_names)
        n["printer group members"] = self.src_pmembers
        n["user quotas"] = self.src_uq
        n["group quotas"] = self.src_gq
        n["billing codes"] = self.src.count("billingcodes")
        n["payments"] = self.src_payments
        n["jobs"] = self.src.count("jobhistory")
        n["pages"] = self.src.sum_pages()
        for k in ("balance", "lifetime paid", "billing code balance", "payments", "job prices"):
            self.report.pykota.money.setdefault(k, Decimal(0))

    def _count_target(self) -> None:
        uids = set(self.uids.values())
        gids = set(self.gids.values())
        pids = set(self.pids.values())

        def work(conn: Connection) -> None:
            n, m = self.report.pagetally.counts, self.report.pagetally.money
            urows = [r for r in conn.execute(select(users)) if r.id in uids]
            n["users"] = len(urows)
            m["balance"] = sum((r.balance for r in urows), Decimal(0))
            m["lifetime paid"] = sum((r.lifetimepaid for r in urows), Decimal(0))
            n["groups"] = len(gids)
            n["group members"] = sum(
                1
                for r in conn.execute(select(groupsmembers))
                if r.groupid in gids and r.userid in uids
            )
            n["printers"] = len(pids)
            n["printer group members"] = sum(
                1
                for r in conn.execute(select(printergroupsmembers))
                if r.groupid in pids and r.printerid in pids
            )
            n["user quotas"] = sum(
                1 for r in conn.execute(select(userpquota.c.userid)) if r.userid in uids
            )
            n["group quotas"] = sum(
                1 for r in conn.execute(select(grouppquota.c.groupid)) if r.groupid in gids
            )
            names = {r.billingcode for r in self.src.rows("billingcodes")}
            crow = [r for r in conn.execute(select(billingcodes)) if r.billingcode in names]
            n["billing codes"] = len(crow)
            m["billing code balance"] = sum((r.balance for r in crow), Decimal(0))
            prow = [r for r in conn.execute(select(payments)) if r.userid in uids]
            n["payments"] = len(prow)
            m["payments"] = sum((r.amount for r in prow), Decimal(0))
            mine = jobhistory.c.jobuuid.like(JOB_UUID_PREFIX + "%")
            jobs, pages, money = conn.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(jobhistory.c.jobsize), 0),
                    func.sum(jobhistory.c.jobprice),
                ).where(mine)
            ).one()
            n["jobs"], n["pages"] = int(jobs), int(pages)
            m["job prices"] = _money_sum(conn, money)

        self.store._read(work)


def _money_sum(conn: Connection, raw: Any) -> Decimal:
    """A SUM over a Money column, in Decimal on every engine (SQLite: millionths,
    unless the column's type already turned it into a Decimal)."""
    if raw is None:
        return Decimal(0)
    if conn.dialect.name == "sqlite" and isinstance(raw, int):
        return Decimal(raw).scaleb(-6)
    return Decimal(raw)


__all__ = ["ImportReport", "PyKotaImport", "Rounded"]
