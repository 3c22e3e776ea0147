"""The quota report (`pagetally report`, the web's quota pages) as a few set queries.

PyKota's repykota, and this store's first report, built one object per quota
entry and asked for each group's balance in a query of its own: 3.8 s for
100,000 users x 100 printers. Here the whole report is four reads whatever its
size — the printers, the accounts (users, or groups with their members' summed
balances in one GROUP BY), and the quota entries as the driver's tuples, their
printer's and user's names joined in SQL (a group's counters summed over its
members in one GROUP BY), without building an object or a tuple per entry.
A user's entries come in name order from SQL (on SQLite the users' name index
is walked, no sort; code-point order on every engine, as Python's) and a stable
sort by printer keeps it; a group's are sorted by each name's rank. Names are
matched as everywhere (`patterns`: SQL narrows, fnmatch decides).

Formatting the lines in SQL (printf/||, format(), CONCAT) was measured on
SQLite and is slower than Python's: 300,000 entries with their cells padded by
printf() cost ~1.6 s of CPU in SQLite, plain || concatenation ~0.6 s, against
~0.45 s to fetch the raw columns and ~0.3 s to lay the lines out from columns
in Python (cli/report.py).
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    LargeBinary,
    Numeric,
    cast,
    func,
    select,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from pagetally.core.models import LimitBy, Printer, UserQuota
from pagetally.storage import patterns as pat
from pagetally.storage import quotas, rows
from pagetally.storage.base import ReportQueries, ReportStore
from pagetally.storage.schema import (
    grouppquota,
    groups,
    groupsmembers,
    printers,
    userpquota,
    users,
)
from pagetally.storage.sql_base import SqlBase
from pagetally.storage.types import MONEY_PLACES, UtcDateTime, to_money

#: Past this many selected ids, entries are read whole and filtered in Python
#: (an IN list of thousands costs more than reading the rest).
_IN_MAX = 500

ZERO = to_money(0)


@dataclass(frozen=True)
class ReportAccount:
    """A user's or group's account as the report shows it (once per name)."""

    name: str
    limit_by: LimitBy
    balance: Decimal
    lifetime_paid: Decimal
    overcharge: Decimal | None  # None for a group


#: One quota entry: (printer, name, page counter, life page counter, soft limit,
#: hard limit, grace deadline, warn count or None for a group).
Entry = tuple[str, str, int, int, int | None, int | None, datetime | None, int | None]


@dataclass(frozen=True)
class QuotaReport:
    """What `pagetally report` shows: entries sorted by printer then name, each
    with its account; only entries whose account matched are listed."""

    group: bool
    printers: list[Printer]
    accounts: dict[str, ReportAccount]
    entries: list[Entry] = field(default_factory=list)


def _raw_money(column: Any, backend: str) -> ColumnElement[Any]:
    """`column` without the Money type's per-value conversion (done once per
    distinct value by `_money_reader` instead)."""
    if backend == "sqlite":
        return type_coerce(column, BigInteger())
    return type_coerce(column, Numeric(18, MONEY_PLACES, asdecimal=True))


def _money_reader(backend: str) -> Any:
    done: dict[Any, Decimal] = {None: ZERO}  # once per distinct amount (not an
    # lru_cache: its bookkeeping cost more than the work where amounts all differ)

    def read(raw: Any) -> Decimal:
        value = done.get(raw)
        if value is None:
            if backend == "sqlite":  # millionths: exactly to_money(raw / 10**6), no division
                value = Decimal(int(raw)).scaleb(-MONEY_PLACES)
            else:
                value = to_money(Decimal(raw))
            done[raw] = value
        return value

    return read


def _fetch(conn: Connection, stmt: Any) -> list[Any]:
    """All rows of `stmt` as the driver's tuples: no Row objects, no result
    processing (half the time of a report; columns needing conversion are
    converted by the caller)."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args: Any = (
        tuple(params[k] for k in compiled.positiontup or ()) if conn.dialect.positional else params
    )
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _matching(
    conn: Connection, id_col: Any, name_col: Any, patterns: Sequence[str]
) -> dict[int, str]:
    """{id: name} of the rows whose name matches any of `patterns`."""
    found: dict[int, str] = {}
    for chunk in pat.in_chunks(patterns):
        stmt = select(id_col, name_col).where(pat.where_names(name_col, chunk))
        for key, name in conn.execute(stmt):
            if pat.matches(name, chunk):
                found[int(key)] = name
    return found


def _narrowed(stmt: Any, column: Any, ids: dict[int, str], everything: bool) -> Any:
    """`stmt` limited to `ids` in SQL when that is cheaper than filtering later."""
    if everything or len(ids) > _IN_MAX:
        return stmt
    return stmt.where(column.in_(list(ids)))


def _code_point_order(column: ColumnElement[Any], conn: Connection) -> ColumnElement[Any]:
    """`column` ordered as Python orders str (by code point): SQLite's BINARY
    collation is (UTF-8 bytes), PostgreSQL's "C" is, MariaDB's binary strings
    are (its _bin collations pad with spaces)."""
    name = conn.dialect.name
    if name == "postgresql":
        return column.collate("C")
    if name in ("mysql", "mariadb"):
        return cast(column, LargeBinary)
    return column


def _ranks(names: dict[int, str]) -> dict[str, int]:
    """Each name's place in name order."""
    return {name: rank for rank, name in enumerate(sorted(names.values()))}


def quota_report(
    store: ReportStore,
    printer_patterns: Sequence[str] = ("*",),
    name_patterns: Sequence[str] = ("*",),
    *,
    group: bool = False,
) -> QuotaReport:
    """The store's own aggregating report when it has one (the SQL store), else
    the same report from ReportStore's reads, object by object."""
    if isinstance(store, ReportQueries):
        return store.quota_report(printer_patterns, name_patterns, group=group)
    found = store.find_printers(printer_patterns)
    accounts: dict[str, ReportAccount] = {}
    entries: list[Entry] = []
    if group:
        for g in store.find_groups(name_patterns):
            bal, paid = store.group_balance(g.name)
            accounts[g.name] = ReportAccount(g.name, g.limit_by, bal, paid, None)
        entries = [
            (
                q.printer,
                q.group,
                q.page_counter,
                q.life_page_counter,
                q.soft_limit,
                q.hard_limit,
                q.date_limit,
                None,
            )
            for q in store.group_quotas(printer_patterns, name_patterns)
        ]
    else:
        for u in store.find_users(name_patterns):
            accounts[u.name] = ReportAccount(
                u.name, u.limit_by, u.balance, u.lifetime_paid, u.overcharge
            )
        entries = [
            (
                q.printer,
                q.user,
                q.page_counter,
                q.life_page_counter,
                q.soft_limit,
                q.hard_limit,
                q.date_limit,
                q.warn_count,
            )
            for q in store.user_quotas(printer_patterns, name_patterns)
        ]
    entries = sorted((e for e in entries if e[1] in accounts), key=lambda e: (e[0], e[1]))
    return QuotaReport(group, found, accounts, entries)


class ReportMethods(SqlBase):
    """The store's aggregating report reads."""

    def quota_report(
        self,
        printer_patterns: Sequence[str] = ("*",),
        name_patterns: Sequence[str] = ("*",),
        *,
        group: bool = False,
    ) -> QuotaReport:
        """Every quota entry of the matching printers and users (or groups)."""
        return self._read(lambda c: self._quota_report(c, printer_patterns, name_patterns, group))

    def first_user_quotas(
        self, user_patterns: Sequence[str], limit: int
    ) -> tuple[list[UserQuota], int]:
        """The first `limit` user quota entries of the matching users, by printer
        then user, and how many match in all."""
        return self._read(lambda c: quotas.first_user_quotas(c, user_patterns, limit))

    def _quota_report(
        self,
        conn: Connection,
        printer_patterns: Sequence[str],
        name_patterns: Sequence[str],
        group: bool,
    ) -> QuotaReport:
        money = _money_reader(self.backend)
        all_printers = "*" in printer_patterns
        all_names = "*" in name_patterns
        found = [
            rows.printer_of(r)
            for chunk in pat.in_chunks(printer_patterns)
            for r in conn.execute(
                select(printers).where(pat.where_names(printers.c.printername, chunk))
            )
            if pat.matches(r.printername, chunk)
        ]
        found = sorted({p.name: p for p in found}.values(), key=lambda p: p.name)
        pnames = {int(p.id): p.name for p in found if p.id is not None}
        accounts: dict[str, ReportAccount] = {}
        names: dict[int, str] = {}
        if group:
            names = _matching(conn, groups.c.id, groups.c.groupname, name_patterns)
            sums = (
                select(
                    groupsmembers.c.groupid,
                    func.sum(_raw_money(users.c.balance, self.backend)),
                    func.sum(_raw_money(users.c.lifetimepaid, self.backend)),
                )
                .join(users, users.c.id == groupsmembers.c.userid)
                .group_by(groupsmembers.c.groupid)
            )
            totals = {
                int(g): (b, p)
                for g, b, p in conn.execute(
                    _narrowed(sums, groupsmembers.c.groupid, names, all_names)
                )
            }
            for gid, name, limit_by in conn.execute(
                _narrowed(
                    select(groups.c.id, groups.c.groupname, groups.c.limitby),
                    groups.c.id,
                    names,
                    all_names,
                )
            ):
                if int(gid) in names:
                    bal, paid = totals.get(int(gid), (None, None))
                    accounts[name] = ReportAccount(
                        name, LimitBy(limit_by), money(bal), money(paid), None
                    )
            quota = self._group_entries(conn, pnames, names, all_printers, all_names)
        else:
            stmt = select(
                users.c.id, users.c.username, users.c.limitby,
                _raw_money(users.c.balance, self.backend),
                _raw_money(users.c.lifetimepaid, self.backend),
                _raw_money(users.c.overcharge, self.backend),
            )  # fmt: skip
            limits = {v.value: v for v in LimitBy}
            for chunk in pat.in_chunks(name_patterns):
                exact = pat.sql_is_exact(chunk)  # SQL's choice is fnmatch's: no check a row
                for uid, name, limit_by, bal, paid, over in _fetch(
                    conn, stmt.where(pat.where_names(users.c.username, chunk))
                ):
                    if exact or pat.matches(name, chunk):
                        names[uid] = name
                        accounts[name] = ReportAccount(
                            name, limits[limit_by], money(bal), money(paid), money(over)
                        )
            quota = self._user_entries(conn, pnames, names, all_printers, all_names)
        # entries carry names already (joined in SQL): user entries come in name
        # order (SQL), and a stable sort by printer keeps it; a group's are sorted
        # by rank. No tuple is built again but those with a date.
        if group:
            prank, nrank = _ranks(pnames), _ranks(names)
            width = len(nrank) + 1
            quota.sort(key=lambda e: prank[e[0]] * width + nrank[e[1]])
        else:
            quota.sort(key=operator.itemgetter(0))
        read_date = UtcDateTime().process_result_value
        dialect = conn.dialect
        dated = map(functools.partial(operator.is_not, None), map(operator.itemgetter(6), quota))
        for i in itertools.compress(range(len(quota)), dated):
            e = quota[i]
            quota[i] = (*e[:6], read_date(e[6], dialect), e[7])
        return QuotaReport(group, found, accounts, quota)

    @staticmethod
    def _user_entries(
        conn: Connection,
        pnames: dict[int, str],
        names: dict[int, str],
        all_printers: bool,
        all_names: bool,
    ) -> list[Any]:
        """User entries as the driver's tuples, with the printer's and the user's
        name (Entry), in no order."""
        q = userpquota.c
        stmt = (
            select(
                printers.c.printername,
                users.c.username,
                q.pagecounter,
                q.lifepagecounter,
                q.softlimit,
                q.hardlimit,
                q.datelimit,
                q.warncount,
            )
            .select_from(users)
            .join(userpquota, users.c.id == q.userid)
            .join(printers, printers.c.id == q.printerid)
        )
        stmt = _narrowed(stmt, q.printerid, pnames, all_printers)
        stmt = _narrowed(stmt, q.userid, names, all_names)
        found = _fetch(conn, stmt.order_by(_code_point_order(users.c.username, conn)))
        if all_printers and all_names:
            return found
        shown, named = set(pnames.values()), set(names.values())
        return [e for e in found if e[0] in shown and e[1] in named]

    @staticmethod
    def _group_entries(
        conn: Connection,
        pnames: dict[int, str],
        names: dict[int, str],
        all_printers: bool,
        all_names: bool,
    ) -> list[Any]:
        """Group entries, their counters the sums of their members' entries on the
        same printer (PyKota), all in one GROUP BY."""
        g = grouppquota.c
        sums = (
            select(
                g.id,
                func.coalesce(func.sum(userpquota.c.pagecounter), 0),
                func.coalesce(func.sum(userpquota.c.lifepagecounter), 0),
            )
            .select_from(grouppquota)
            .join(groupsmembers, groupsmembers.c.groupid == g.groupid)
            .join(
                userpquota,
                (userpquota.c.userid == groupsmembers.c.userid)
                & (userpquota.c.printerid == g.printerid),
            )
            .group_by(g.id)
        )
        sums = _narrowed(
            _narrowed(sums, g.printerid, pnames, all_printers), g.groupid, names, all_names
        )
        counters = {int(k): (int(pc), int(lpc)) for k, pc, lpc in conn.execute(sums)}
        stmt = select(g.id, g.printerid, g.groupid, g.softlimit, g.hardlimit, g.datelimit)
        stmt = _narrowed(
            _narrowed(stmt, g.printerid, pnames, all_printers), g.groupid, names, all_names
        )
        out = []
        for key, p, gid, soft, hard, date in conn.execute(stmt):
            if p in pnames and gid in names:
                pc, lpc = counters.get(int(key), (0, 0))
                out.append((pnames[p], names[gid], pc, lpc, soft, hard, date, None))
        return out
