"""The job-history query: a HistoryFilter as SQL that the indexes serve.

`user`, `printer`, `host` and `billing_code` are exact names or fnmatch patterns;
a pattern narrows in SQL (LIKE) and is decided exactly in Python, in which case
the limit is applied after that check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from pagetally.core.models import JobRecord
from pagetally.storage import patterns
from pagetally.storage.base import HistoryFilter
from pagetally.storage.schema import identity_key, jobhistory


def history_select(flt: HistoryFilter) -> tuple[Select[Any], Callable[[JobRecord], bool]]:
    """The statement and the exact check each row must still pass."""
    where: list[ColumnElement[bool]] = []
    checks: list[Callable[[JobRecord], bool]] = []

    def name(column: Any, value: str | None, get: Callable[[JobRecord], str | None]) -> None:
        if value is None:
            return
        where.append(patterns.where_names(column, [value]))
        if patterns.has_wildcards(value):
            checks.append(lambda job: patterns.matches(get(job) or "", [value]))

    name(jobhistory.c.username, flt.user, lambda j: j.user)
    name(jobhistory.c.printername, flt.printer, lambda j: j.printer)
    name(jobhistory.c.hostname, flt.host, lambda j: j.host)
    name(jobhistory.c.billingcode, flt.billing_code, lambda j: j.billing_code)
    if flt.charge_of is not None:
        where.append(jobhistory.c.jobkey == identity_key(*flt.charge_of))
    if flt.since is not None:
        where.append(jobhistory.c.jobdate >= flt.since)
    if flt.until is not None:
        where.append(jobhistory.c.jobdate < flt.until)
    stmt = select(jobhistory).where(*where)
    if flt.newest_first:
        stmt = stmt.order_by(jobhistory.c.jobdate.desc(), jobhistory.c.id.desc())
    else:
        stmt = stmt.order_by(jobhistory.c.jobdate, jobhistory.c.id)
    if not checks:
        if flt.limit is not None:
            stmt = stmt.limit(flt.limit)
        return stmt, lambda _job: True

    remaining = [flt.limit]

    def post(job: JobRecord) -> bool:
        if not all(check(job) for check in checks):
            return False
        if remaining[0] is None:
            return True
        if remaining[0] <= 0:
            return False
        remaining[0] -= 1
        return True

    return stmt, post
