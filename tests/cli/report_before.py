"""The reference for tests/cli/test_report_unchanged.py: `pagetally report` as it was
before the aggregating query (commit d701c18), object by object. Not used by PageTally.

`pagetally report`: PyKota's repykota — per printer, each user's (or group's)
usage, limits, balance and grace, with PyKota's flags:

-Q/+Q under/over the soft limit (quota), -B/?B/+B balance fine/low/exhausted,
NQ noquota, NC nochange, NP noprint. `status` says DENY or WARNING like
repykota's grace column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import typer

from pagetally.cli import common
from pagetally.cli.env import get_env
from pagetally.cli.output import Format, Row, human, render_table, write_csv, write_json
from pagetally.config import Config
from pagetally.core.models import GroupQuota, LimitBy, Printer, UserQuota
from pagetally.storage.base import Store

#: `report --format json|csv`: one object per (printer, user or group).
COLUMNS = (
    "printer",
    "name",
    "kind",
    "limit_by",
    "flag",
    "overcharge",
    "page_counter",
    "life_page_counter",
    "soft_limit",
    "hard_limit",
    "balance",
    "life_time_paid",
    "grace_until",
    "status",
    "warn_count",
)
TABLE_COLUMNS = (
    "name",
    "flag",
    "overcharge",
    "page_counter",
    "soft_limit",
    "hard_limit",
    "balance",
    "grace",
    "life_page_counter",
    "life_time_paid",
    "warn_count",
)
TABLE_HEADERS = (
    "User",
    "",
    "overcharge",
    "used",
    "soft",
    "hard",
    "balance",
    "grace",
    "total",
    "paid",
    "warn",
)


@dataclass(frozen=True)
class Account:
    name: str
    limit_by: LimitBy
    balance: Decimal
    lifetime_paid: Decimal
    overcharge: Decimal | None  # None for groups


def flag_and_status(
    acct: Account, q: UserQuota | GroupQuota, now: datetime, balance_zero: Decimal, poorman: Decimal
) -> tuple[str, str]:
    """repykota's flag and grace/status column for one entry."""
    if acct.limit_by is LimitBy.QUOTA:
        flag = "+Q" if q.soft_limit is not None and q.page_counter >= q.soft_limit else "-Q"
        if (
            (q.hard_limit is not None and q.page_counter >= q.hard_limit)
            or (
                q.hard_limit is None and q.soft_limit is not None and q.page_counter >= q.soft_limit
            )
            or (q.date_limit is not None and now >= q.date_limit)
        ):
            return flag, "DENY"
        return flag, ""
    if acct.limit_by is LimitBy.BALANCE:
        if acct.overcharge is not None and acct.overcharge == 0:
            return "-B", ""
        if acct.balance <= balance_zero:
            return "+B", "DENY"
        if acct.balance <= poorman:
            return "?B", "WARNING"
        return "-B", ""
    return {
        LimitBy.NOQUOTA: ("NQ", ""),
        LimitBy.NOCHANGE: ("NC", ""),
        LimitBy.NOPRINT: ("NP", "DENY"),
    }[acct.limit_by]


def report_rows(
    store: Store,
    cfg: Config,
    printers: Sequence[str],
    names: Sequence[str],
    group: bool,
    now: datetime,
) -> list[Row]:
    """Every (printer, user or group) entry the filters select, printer by printer."""
    quotas: list[UserQuota] | list[GroupQuota]
    accounts: dict[str, Account] = {}
    if group:
        quotas = store.group_quotas(printers, names)
        for g in store.find_groups(names):
            bal, paid = store.group_balance(g.name)
            accounts[g.name] = Account(g.name, g.limit_by, bal, paid, None)
    else:
        quotas = store.user_quotas(printers, names)
        for u in store.find_users(names):
            accounts[u.name] = Account(u.name, u.limit_by, u.balance, u.lifetime_paid, u.overcharge)
    rows: list[Row] = []
    limits: dict[str, tuple[Decimal, Decimal]] = {}
    for q in quotas:
        name = q.group if isinstance(q, GroupQuota) else q.user
        acct = accounts.get(name)
        if acct is None:
            continue
        if q.printer not in limits:
            limits[q.printer] = (cfg.get("balancezero", q.printer), cfg.get("poorman", q.printer))
        flag, status = flag_and_status(acct, q, now, *limits[q.printer])
        rows.append(
            {
                "printer": q.printer,
                "name": name,
                "kind": "group" if group else "user",
                "limit_by": acct.limit_by,
                "flag": flag,
                "overcharge": acct.overcharge,
                "page_counter": q.page_counter,
                "life_page_counter": q.life_page_counter,
                "soft_limit": q.soft_limit,
                "hard_limit": q.hard_limit,
                "balance": acct.balance,
                "life_time_paid": acct.lifetime_paid,
                "grace_until": q.date_limit,
                "status": status,
                "warn_count": q.warn_count if isinstance(q, UserQuota) else None,
            }
        )
    rows.sort(key=lambda r: (r["printer"], r["name"]))
    return rows


def _print_tables(rows: list[Row], printers: dict[str, Printer], cfg: Config, group: bool) -> None:
    env = get_env()
    tz = env.local_tz()
    currency = cfg.get("currency")
    headers = ("Group", *TABLE_HEADERS[1:]) if group else TABLE_HEADERS
    right = [c not in ("name", "flag", "grace") for c in TABLE_COLUMNS]
    by_printer: dict[str, list[Row]] = {}
    for r in rows:
        by_printer.setdefault(r["printer"], []).append(r)
    for name in sorted(by_printer):
        p = printers.get(name)
        mine = by_printer[name]
        title = f"Report for {'group' if group else 'user'} quota on printer {name}"
        if p is not None and p.description:
            title += f" ({p.description})"
        prices = ""
        if p is not None:
            prices = (
                f"Price per job: {human(p.prices.per_job)} {currency}, "
                f"price per page: {human(p.prices.per_page)} {currency}"
            )
        caption = f"Pages grace time: {cfg.get('gracedelay', name)} days. {prices}"
        total_pages = sum(r["life_page_counter"] for r in mine)
        total_paid = sum((r["life_time_paid"] for r in mine), Decimal(0))
        footer = ["Total"] + [""] * (len(TABLE_COLUMNS) - 1)
        footer[TABLE_COLUMNS.index("life_page_counter")] = str(total_pages)
        footer[TABLE_COLUMNS.index("life_time_paid")] = human(total_paid)
        cells = []
        for r in mine:
            grace = r["status"] or (human(r["grace_until"], tz) if r["grace_until"] else "")
            row = {**r, "grace": grace}
            cells.append([human(row.get(c), tz) for c in TABLE_COLUMNS])
        render_table(env, headers, cells, right, title=title, caption=caption, footer=footer)
        env.out.write("\n")


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    names: Annotated[
        list[str] | None, typer.Argument(help="Users (or groups) or wildcards; default all.")
    ] = None,
    printer: Annotated[
        list[str] | None, typer.Option("--printer", "-P", help="Printer(s) or wildcard.")
    ] = None,
    group: Annotated[bool, typer.Option("--group", "-g", help="Report groups.")] = False,
    in_group: Annotated[
        list[str] | None,
        typer.Option(
            "--in-group",
            "-i",
            help="Only users in this group; repeatable (PyKota's repykota --ingroups).",
        ),
    ] = None,
    fmt: common.FormatOption = Format.TABLE,
) -> None:
    """Usage, limits, balance and grace per printer (PyKota's repykota)."""
    from pagetally.cli.names import expand

    env = get_env()
    cfg = env.config()
    with env.store() as store:
        printer_patterns = printer or ["*"]
        if printer:
            expand("printer", printer_patterns, store.find_printers, lambda p: p.name)
        who = names or ["*"]
        if in_group:
            from fnmatch import fnmatchcase

            found = expand("group", in_group, store.find_groups, lambda g: g.name)
            members = sorted({u.name for g in found for u in store.members(g.name)})
            who = [m for m in members if any(fnmatchcase(m, p) for p in who)]
        rows = report_rows(store, cfg, printer_patterns, who, group, env.now()) if who else []
        printers = {p.name: p for p in store.find_printers(printer_patterns)}
    if fmt is Format.JSON:
        write_json(env.out, rows)
    elif fmt is Format.CSV:
        write_csv(env.out, COLUMNS, rows)
    elif not rows:
        env.note("no quota entries match")
    else:
        _print_tables(rows, printers, cfg, group)
