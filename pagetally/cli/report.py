"""`pagetally report`: PyKota's repykota — per printer, each user's (or group's)
usage, limits, balance and grace, with PyKota's flags:

-Q/+Q under/over the soft limit (quota), -B/?B/+B balance fine/low/exhausted,
NQ noquota, NC nochange, NP noprint. `status` says DENY or WARNING like
repykota's grace column.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import operator
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Annotated

import typer

from pagetally.cli import common, output
from pagetally.cli.env import Env, get_env, no_collection
from pagetally.cli.output import (
    Format,
    Row,
    human,
    number_width,
    plain_table_columns,
    render_table,
)
from pagetally.config import Config
from pagetally.core.models import LimitBy
from pagetally.core.money import PLACES as MONEY_PLACES
from pagetally.core.money import format_money

if TYPE_CHECKING:  # the store's modules load when the command runs, not for --help
    from pagetally.storage.reports import Entry, QuotaReport, ReportAccount

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


def flag_and_status(
    acct: ReportAccount,
    entry: Entry,
    now: datetime,
    balance_zero: Decimal,
    poorman: Decimal,
) -> tuple[str, str]:
    """repykota's flag and grace/status column for one entry."""
    if acct.limit_by is LimitBy.QUOTA:
        counter, soft, hard, date_limit = entry[2], entry[4], entry[5], entry[6]
        flag = "+Q" if soft is not None and counter >= soft else "-Q"
        if (
            (hard is not None and counter >= hard)
            or (hard is None and soft is not None and counter >= soft)
            or (date_limit is not None and now >= date_limit)
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


def _quota_status(e: Entry, now: datetime) -> tuple[str, str]:
    """flag_and_status of an entry whose account is limited by quota."""
    counter, soft, hard, date_limit = e[2], e[4], e[5], e[6]
    flag = "+Q" if soft is not None and counter >= soft else "-Q"
    deny = ((hard is not None and counter >= hard)
            or (hard is None and soft is not None and counter >= soft)
            or (date_limit is not None and now >= date_limit))  # fmt: skip
    return flag, "DENY" if deny else ""


def statuses(report: QuotaReport, cfg: Config, now: datetime) -> list[tuple[str, str]]:
    """(flag, status) of each entry of `report`, in its order: flag_and_status,
    worked out once per account where it depends only on the account and the
    printer's balance limits (everything but limit-by quota)."""
    limits = {
        p.name: (cfg.get("balancezero", p.name), cfg.get("poorman", p.name))
        for p in report.printers
    }
    accounts = report.accounts
    quota = LimitBy.QUOTA
    entries = report.entries
    if len(set(limits.values())) == 1:
        # one set of limits: each account's (flag, status) once, the entries' looked
        # up in C (map); only entries of accounts limited by quota are worked out
        one = next(iter(limits.values()))
        by_name = {
            name: flag_and_status(acct, _NO_ENTRY, now, *one)
            for name, acct in accounts.items()
            if acct.limit_by is not quota
        }
        found: list[tuple[str, str] | None] = list(
            map(by_name.get, map(operator.itemgetter(1), entries))
        )
        if len(by_name) < len(accounts):
            unknown = functools.partial(operator.is_, None)
            for i in itertools.compress(range(len(found)), map(unknown, found)):
                found[i] = _quota_status(entries[i], now)
        return found  # type: ignore[return-value]  # no None left
    fixed: dict[tuple[str, tuple[Decimal, Decimal]], tuple[str, str]] = {}
    out: list[tuple[str, str]] = []
    add = out.append
    for e in entries:
        name = e[1]
        acct = accounts[name]
        if acct.limit_by is quota:
            add(_quota_status(e, now))
        else:
            lim = limits[e[0]]
            known = fixed.get((name, lim))
            if known is None:
                known = fixed[(name, lim)] = flag_and_status(acct, e, now, *lim)
            add(known)
    return out


#: flag_and_status's entry for an account not limited by quota (it is not read)
_NO_ENTRY: Entry = ("", "", 0, 0, None, None, None, None)


def report_rows(report: QuotaReport, cfg: Config, now: datetime) -> Iterator[Row]:
    """The report as one object per (printer, user or group) entry (COLUMNS)."""
    kind = "group" if report.group else "user"
    for e, (flag, status) in zip(report.entries, statuses(report, cfg, now), strict=True):
        acct = report.accounts[e[1]]
        yield {
            "printer": e[0],
            "name": e[1],
            "kind": kind,
            "limit_by": acct.limit_by,
            "flag": flag,
            "overcharge": acct.overcharge,
            "page_counter": e[2],
            "life_page_counter": e[3],
            "soft_limit": e[4],
            "hard_limit": e[5],
            "balance": acct.balance,
            "life_time_paid": acct.lifetime_paid,
            "grace_until": e[6],
            "status": status,
            "warn_count": e[7],
        }


def _texts(report: QuotaReport) -> dict[str, tuple[str, str, str, str]]:
    """Each account's (limit_by, overcharge, balance, lifetime paid) as text,
    made once per account, and once per distinct amount."""
    money = _memo(money_text)
    return {
        name: (
            a.limit_by.value,
            "" if a.overcharge is None else money(a.overcharge),
            money(a.balance),
            money(a.lifetime_paid),
        )
        for name, a in report.accounts.items()
    }


def _memo(fn: Callable[[Decimal], str]) -> Callable[[Decimal], str]:
    """`fn` done once per distinct amount (a dict: an lru_cache's bookkeeping
    tripled the cost where amounts all differ)."""
    done: dict[Decimal, str] = {}

    def once(amount: Decimal) -> str:
        text = done.get(amount)
        if text is None:
            text = done[amount] = fn(amount)
        return text

    return once


def money_text(amount: Decimal) -> str:
    """format_money(amount), faster for the store's amounts (6 places exactly:
    their str() is plain, never scientific): no context, no quantize."""
    text = str(amount)
    whole, _dot, frac = text.partition(".")
    if len(frac) != MONEY_PLACES or "E" in frac:
        return format_money(amount)
    frac = frac[:2] + frac[2:].rstrip("0")
    if whole == "-0" and frac == "00":  # a negative zero is shown as zero
        whole = "0"
    return f"{whole}.{frac}"


_CSV_SPECIAL = frozenset(',"\r\n')


def _csv_field(value: str) -> str:
    """One CSV field as csv.writer writes it (quoted when it must be)."""
    if value and _CSV_SPECIAL.isdisjoint(value):
        return value  # what csv.writer writes for it too (QUOTE_MINIMAL)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([value])
    return buf.getvalue()[:-1]


def _opt(value: int | None, none: str) -> str:
    return none if value is None else str(value)


def write_report_csv(out: IO[str], report: QuotaReport, cfg: Config, now: datetime) -> None:
    """The report as CSV, byte for byte output.write_csv's, from pieces made once
    per printer and account (a line is one f-string)."""
    kind = "group" if report.group else "user"
    parts = {
        name: (f"{_csv_field(name)},{kind},{t[0]},", f",{t[1]},", f"{t[2]},{t[3]},")
        for name, t in _texts(report).items()
    }
    pnames = {p.name: _csv_field(p.name) for p in report.printers}
    out.write(",".join(COLUMNS) + "\n")
    lines: list[str] = []
    add = lines.append
    for (printer, name, pc, lpc, soft, hard, grace, warn), (flag, status) in zip(
        report.entries, statuses(report, cfg, now), strict=True
    ):
        head, over, money = parts[name]
        add(f"{pnames[printer]},{head}{flag}{over}{pc},{lpc},{'' if soft is None else soft},"
            f"{'' if hard is None else hard},{money}{'' if grace is None else grace.isoformat()},"
            f"{status},{'' if warn is None else warn}\n")  # fmt: skip
    out.write("".join(lines))  # one write: a TextIOWrapper's write a line costs


def _js(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_report_json(out: IO[str], report: QuotaReport, cfg: Config, now: datetime) -> None:
    """The report as output.write_json writes it (same text, byte for byte), from
    pieces encoded once per printer and account instead of a dict per entry."""
    kind = _js("group" if report.group else "user")
    head = {
        name: f'"name": {_js(name)}, "kind": {kind}, "limit_by": {_js(t[0])}, '
        for name, t in _texts(report).items()
    }
    accounts = {
        name: (
            _js(t[1]) if t[1] else "null",
            f'"balance": {_js(t[2])}, "life_time_paid": {_js(t[3])}, ',
        )
        for name, t in _texts(report).items()
    }
    pnames = {p: _js(p) for p in {e[0] for e in report.entries}}
    lines = [
        f' {{"printer": {pnames[e[0]]}, {head[e[1]]}"flag": "{flag}", "overcharge": {a[0]}, '
        f'"page_counter": {e[2]}, "life_page_counter": {e[3]}, '
        f'"soft_limit": {_opt(e[4], "null")}, "hard_limit": {_opt(e[5], "null")}, {a[1]}'
        f'"grace_until": {"null" if e[6] is None else _js(e[6].isoformat())}, '
        f'"status": "{status}", "warn_count": {_opt(e[7], "null")}}}'
        for e, (flag, status) in zip(report.entries, statuses(report, cfg, now), strict=True)
        for a in (accounts[e[1]],)
    ]
    out.write("[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n")


#: A missing limit or warn count: "-" in a table, empty in CSV (dict.get(v, v)).
_DASH: dict[object, str] = {None: "-"}
_EMPTY: dict[object, str] = {None: ""}


def _print_tables(env: Env, report: QuotaReport, cfg: Config, now: datetime) -> None:
    tz = env.local_tz()
    headers = ("Group", *TABLE_HEADERS[1:]) if report.group else TABLE_HEADERS
    right = [c not in ("name", "flag", "grace") for c in TABLE_COLUMNS]
    texts = _texts(report)
    over = {name: t[1] or "-" for name, t in texts.items()}
    balance = {name: t[2] for name, t in texts.items()}
    paid_text = {name: t[3] for name, t in texts.items()}
    paid = {name: a.lifetime_paid for name, a in report.accounts.items()}
    units = _millionths(paid)
    flags = statuses(report, cfg, now)
    start = 0
    for printer, group in itertools.groupby(report.entries, key=operator.itemgetter(0)):
        mine = list(group)
        marks = flags[start : start + len(mine)]
        start += len(mine)
        _p, names, pcs, lpcs, softs, hards, dates, warns = zip(*mine, strict=True)
        title, caption, footer = _table_frame(report, cfg, printer, lpcs, names, paid, units)
        statuses_ = list(map(operator.itemgetter(1), marks))
        if any(map(functools.partial(operator.is_not, None), dates)):
            grace = [
                s or (human(d, tz) if d else "") for s, d in zip(statuses_, dates, strict=True)
            ]
        else:
            grace = statuses_
        columns = [
            names, list(map(operator.itemgetter(0), marks)), list(map(over.__getitem__, names)),
            pcs, list(map(_DASH.get, softs, softs)), list(map(_DASH.get, hards, hards)),
            list(map(balance.__getitem__, names)), grace, lpcs,
            list(map(paid_text.__getitem__, names)), list(map(_DASH.get, warns, warns)),
        ]  # fmt: skip
        if len(mine) > output.RICH_MAX:  # what render_table writes for so many rows, from columns
            ints = {3: pcs, 4: softs, 5: hards, 8: lpcs, 10: warns}  # the columns of ints
            widths = [number_width(ints[i]) if i in ints else None for i in range(len(columns))]
            plain_table_columns(
                env.out, headers, columns, right,
                title=title, caption=caption, footer=footer, widths=widths,
            )  # fmt: skip
        else:
            cells = [list(map(str, row)) for row in zip(*columns, strict=True)]
            render_table(env, headers, cells, right, title=title, caption=caption, footer=footer)
        env.out.write("\n")


def _table_frame(
    report: QuotaReport,
    cfg: Config,
    printer: str,
    life_pages: Sequence[int],
    names: Sequence[str],
    paid: dict[str, Decimal],
    units: dict[str, int] | None,
) -> tuple[str, str, list[str]]:
    """A printer's table's title, caption and footer (its totals summed in C)."""
    p = next((p for p in report.printers if p.name == printer), None)
    currency = cfg.get("currency")
    title = f"Report for {'group' if report.group else 'user'} quota on printer {printer}"
    if p is not None and p.description:
        title += f" ({p.description})"
    prices = ""
    if p is not None:
        prices = (
            f"Price per job: {human(p.prices.per_job)} {currency}, "
            f"price per page: {human(p.prices.per_page)} {currency}"
        )
    caption = f"Pages grace time: {cfg.get('gracedelay', printer)} days. {prices}"
    footer = ["Total"] + [""] * (len(TABLE_COLUMNS) - 1)
    footer[TABLE_COLUMNS.index("life_page_counter")] = str(sum(life_pages))
    footer[TABLE_COLUMNS.index("life_time_paid")] = human(_money_sum(names, paid, units))
    return title, caption, footer


def _millionths(amounts: dict[str, Decimal]) -> dict[str, int] | None:
    """Each amount in millionths when every one is a whole number of them (the
    store's 6 places), so that a sum of them is one of ints, in C; else None.
    (A total is only shown, through format_money: its exponent does not matter.)"""
    units = {name: int(d.scaleb(MONEY_PLACES)) for name, d in amounts.items()}
    scaled = map(Decimal.scaleb, amounts.values(), itertools.repeat(MONEY_PLACES))
    return units if all(map(operator.eq, scaled, units.values())) else None


def _money_sum(
    names: Sequence[str], paid: dict[str, Decimal], units: dict[str, int] | None
) -> Decimal:
    """sum(paid[n] for n in names), the same value (and text)."""
    if units is None:
        return sum(map(paid.__getitem__, names), Decimal(0))
    return Decimal(sum(map(units.__getitem__, names))).scaleb(-MONEY_PLACES)


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
    with no_collection(freeze=True), env.store() as store:
        printer_patterns = printer or ["*"]
        if printer:
            expand("printer", printer_patterns, store.find_printers, lambda p: p.name)
        who = names or ["*"]
        if in_group:
            from fnmatch import fnmatchcase

            found = expand("group", in_group, store.find_groups, lambda g: g.name)
            members = sorted({u.name for g in found for u in store.members(g.name)})
            who = [m for m in members if any(fnmatchcase(m, p) for p in who)]
        from pagetally.storage.reports import quota_report

        report = quota_report(store, printer_patterns, who, group=group)
    now = env.now()
    with no_collection(freeze=True):
        if fmt is Format.JSON:
            write_report_json(env.out, report, cfg, now)
        elif fmt is Format.CSV:
            write_report_csv(env.out, report, cfg, now)
        elif not report.entries:
            env.note("no quota entries match")
        else:
            _print_tables(env, report, cfg, now)
