"""`pagetally dump`: PyKota's dumpykota — the store's data for scripts.

`pagetally dump history --format cups start=today-7 username=jo*`. Formats:
csv, ssv (semicolons), tsv (tabs) with a header row; json (a list of objects;
for `all` an object of lists); xml; cups (CUPS page_log lines, history only).
Rows are streamed: a dump of millions of jobs does not fill memory.
"""

from __future__ import annotations

import csv
import enum
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from decimal import Decimal
from html import escape
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from pagetally import __version__
from pagetally.cli.dates import parse_date
from pagetally.cli.dumpdata import (
    COLUMNS,
    FILTER_KEYS,
    Filters,
    Row,
    check_filters,
    order_rows,
    summarize,
)
from pagetally.cli.dumpdata import extract as extract_rows
from pagetally.cli.env import Env, get_env
from pagetally.cli.output import text, write_json_stream
from pagetally.core.models import Action
from pagetally.errors import InvalidInput

if TYPE_CHECKING:  # annotations only: the store's modules load when a command runs
    from pagetally.storage.base import Store


class DataType(enum.StrEnum):
    USERS = "users"
    GROUPS = "groups"
    PRINTERS = "printers"
    UPQUOTAS = "upquotas"
    GPQUOTAS = "gpquotas"
    HISTORY = "history"
    PAYMENTS = "payments"
    BILLINGCODES = "billingcodes"
    UMEMBERS = "umembers"
    PMEMBERS = "pmembers"
    ALL = "all"


class DumpFormat(enum.StrEnum):
    CSV = "csv"
    SSV = "ssv"
    TSV = "tsv"
    XML = "xml"
    JSON = "json"
    CUPS = "cups"


SEPARATORS = {DumpFormat.CSV: ",", DumpFormat.SSV: ";", DumpFormat.TSV: "\t"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_filters(items: Iterable[str], env: Env) -> Filters:
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in FILTER_KEYS:
            raise InvalidInput(
                f"filter {item!r}: write KEY=VALUE with KEY one of {', '.join(FILTER_KEYS)}"
            )
        values[key] = value.strip()
    now, tz = env.now(), env.local_tz()
    start = parse_date(values["start"], now=now, tz=tz) if "start" in values else None
    end = parse_date(values["end"], now=now, tz=tz, end=True) if "end" in values else None
    rest = {k: v for k, v in values.items() if k not in ("start", "end")}
    return Filters(rest, start, end)


# --- writers -------------------------------------------------------------------


def write_separated(out: IO[str], columns: tuple[str, ...], rows: Iterable[Row], sep: str) -> None:
    w = csv.writer(out, delimiter=sep, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([text(r.get(c)) for c in columns])


def _xml_type(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Decimal):
        return "decimal"
    if isinstance(value, datetime):
        return "datetime"
    return "str"


def _xml_text(value: str) -> str:
    """XML 1.0 cannot hold most control characters: drop them."""
    return escape("".join(c for c in value if c in "\t\n\r" or ord(c) >= 32), quote=False)


def write_xml_dump(out: IO[str], datatype: str, storage: str, rows: Iterable[Row]) -> None:
    out.write(f'<dump storage="{escape(storage)}" type="{escape(datatype)}">\n')
    for r in rows:
        out.write("<entry>")
        for k, v in r.items():
            out.write(
                f'<attribute name="{k}" type="{_xml_type(v)}">{_xml_text(text(v))}</attribute>'
            )
        out.write("</entry>\n")
    out.write("</dump>\n")


def page_log_date(when: datetime, tz: tzinfo) -> str:
    """CUPS page_log's date: `24/Nov/2026:15:30:00 +0100`, English month names."""
    local = when.astimezone(tz)
    offset = local.strftime("%z") or "+0000"
    return f"{local.day:02d}/{MONTHS[local.month - 1]}/{local:%Y:%H:%M:%S} {offset}"


def write_cups(out: IO[str], rows: Iterable[Row], tz: tzinfo) -> None:
    """CUPS page_log: one line per page printed, for jobs that printed.

    `printer user jobid [date] pagenum copies billingcode hostname`
    """
    for r in rows:
        if r["action"] not in (Action.ALLOW, Action.WARN):
            continue
        copies = max(int(r["copies"] or 1), 1)
        pages = int(r["jobsize"] or 0)
        per_copy = pages // copies if pages % copies == 0 else pages
        if per_copy == pages:
            copies = 1 if pages % copies else copies
        date = page_log_date(r["jobdate"], tz)
        code = r["billingcode"] or "-"
        host = r["hostname"] or "-"
        jobid = r["jobid"] or str(r["id"])
        for page in range(1, per_copy + 1):
            out.write(
                f"{r['printername']} {r['username']} {jobid} [{date}] {page} {copies} "
                f"{code} {host}\n"
            )


# --- the command ---------------------------------------------------------------


def _types(datatype: DataType) -> list[str]:
    return list(COLUMNS) if datatype is DataType.ALL else [datatype.value]


def dump_to(
    out: IO[str], store: Store, env: Env, datatype: DataType, fmt: DumpFormat, flt: Filters,
    orderby: str | None = None, total: bool = False,
) -> None:
    types = _types(datatype)
    storage = env.config().store_settings().backend

    def extract(store: Store, t: str, flt: Filters) -> Iterable[Row]:
        rows: Iterable[Row] = extract_rows(store, t, flt)
        if orderby:
            rows = order_rows(rows, t, orderby)
        return summarize(rows, t, flt) if total else rows

    if fmt is DumpFormat.CUPS:
        write_cups(out, extract(store, "history", flt), env.local_tz())
    elif fmt in SEPARATORS:
        write_separated(out, COLUMNS[types[0]], extract(store, types[0], flt), SEPARATORS[fmt])
    elif fmt is DumpFormat.JSON:
        if datatype is DataType.ALL:
            out.write("{")
            for i, t in enumerate(types):
                out.write(f'{"," if i else ""}\n "{t}": ')
                write_json_stream(out, extract(store, t, flt), indent=" ")
            out.write("\n}\n")
        else:
            write_json_stream(out, extract(store, types[0], flt))
            out.write("\n")
    else:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(f'<pagetally version="{__version__}">\n')
        for t in types:
            write_xml_dump(out, t, storage, extract(store, t, flt))
        out.write("</pagetally>\n")


def register(app: typer.Typer) -> None:
    app.command("dump")(dump)


def dump(
    datatype: Annotated[DataType, typer.Argument(help="What to dump.")],
    filters: Annotated[
        list[str] | None,
        typer.Argument(
            help="KEY=VALUE: username, groupname, printername, pgroupname, hostname, "
            "billingcode (wildcards allowed), jobid (history), start, end "
            "(YYYY[MM[DD[hh[mm[ss]]]]], today, yesterday, tomorrow, now, each with +N/-N days)."
        ),
    ] = None,
    fmt: Annotated[DumpFormat, typer.Option("--format", "-f", help="Output format.")] = (
        DumpFormat.CSV
    ),
    output: Annotated[
        str, typer.Option("--output", "-o", help="Write to this file ('-': stdout).")
    ] = "-",
    orderby: Annotated[
        str | None,
        typer.Option("--orderby", "-O", metavar="[+-]COLUMN,...",
                     help="Sort by these columns ('-' descending), e.g. -username,+printername."),
    ] = None,
    total: Annotated[
        bool, typer.Option("--sum", "-s", help="History or payments: one row per user (or per "
                           "filtered user/printer/host/billing code) with totals.")
    ] = False,
) -> None:
    """Dump the store's data (PyKota's dumpykota) for scripts and other tools."""
    env = get_env()
    if fmt is DumpFormat.CUPS and datatype is not DataType.HISTORY:
        raise InvalidInput("--format cups (CUPS page_log) is for history only")
    if (orderby or total) and datatype is DataType.ALL:
        raise InvalidInput("'all' dumps every type as it is: no --orderby or --sum")
    if total and fmt is DumpFormat.CUPS:
        raise InvalidInput("--sum makes totals, not CUPS page_log lines")
    if total and datatype not in (DataType.HISTORY, DataType.PAYMENTS):
        raise InvalidInput(f"--sum is for history and payments, not {datatype.value}")
    if fmt in SEPARATORS and datatype is DataType.ALL:
        raise InvalidInput(f"'all' needs --format json or xml, not {fmt.value}")
    flt = parse_filters(filters or [], env)
    check_filters(datatype.value, flt)
    with env.store() as store:
        if output == "-":
            dump_to(env.out, store, env, datatype, fmt, flt, orderby, total)
        else:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                dump_to(fh, store, env, datatype, fmt, flt, orderby, total)


def iter_rows(store: Store, datatype: str, flt: Filters) -> Iterator[Row]:
    """The rows `dump` writes (for other edges: the web's export)."""
    return extract_rows(store, datatype, flt)
