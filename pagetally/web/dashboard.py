"""The admin dashboard's sums over recent jobs (pure): pages and money per day,
top users, printers' use, refusals by reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pagetally.core.models import Action, JobRecord

_CHARGED = (Action.ALLOW, Action.WARN)
TOP = 10


@dataclass(frozen=True)
class Summary:
    per_day: list[tuple[str, int, Decimal]]  # day, pages, money
    top_users: list[tuple[str, int, Decimal]]
    printers: list[tuple[str, int, Decimal]]
    refusals: list[tuple[str, int]]  # reason, jobs
    jobs: int
    pages: int
    money: Decimal


def _add(table: dict[str, tuple[int, Decimal]], key: str, pages: int, money: Decimal) -> None:
    p, m = table.get(key, (0, Decimal(0)))
    table[key] = (p + pages, m + money)


def summarise(jobs: Sequence[JobRecord]) -> Summary:
    """Charged jobs count pages and money (a refunded one printed: its pages count,
    its money went back); denied ones count as refusals by their reason."""
    day: dict[str, tuple[int, Decimal]] = {}
    users: dict[str, tuple[int, Decimal]] = {}
    printers: dict[str, tuple[int, Decimal]] = {}
    refusals: dict[str, int] = {}
    pages, money = 0, Decimal(0)
    for j in jobs:
        if j.action is Action.DENY:
            reason = j.reason or "(no reason)"
            refusals[reason] = refusals.get(reason, 0) + 1
            continue
        if j.action not in (*_CHARGED, Action.REFUND):
            continue
        cost = j.price if j.action in _CHARGED else Decimal(0)
        _add(day, f"{j.date:%Y-%m-%d}", j.pages, cost)
        _add(users, j.user, j.pages, cost)
        _add(printers, j.printer, j.pages, cost)
        pages += j.pages
        money += cost

    def rows(t: dict[str, tuple[int, Decimal]]) -> list[tuple[str, int, Decimal]]:
        return [(k, p, m) for k, (p, m) in t.items()]

    return Summary(
        per_day=sorted(rows(day)),
        top_users=sorted(rows(users), key=lambda r: (-r[1], r[0]))[:TOP],
        printers=sorted(rows(printers), key=lambda r: (-r[1], r[0])),
        refusals=sorted(refusals.items(), key=lambda r: (-r[1], r[0])),
        jobs=len(jobs),
        pages=pages,
        money=money,
    )
