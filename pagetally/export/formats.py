"""The export formats of `pagetally dump` and the API's exports (PyKota's dumpykota):
CSV, SSV (semicolons), TSV (tabs) with a header row; JSON (a list of objects; for
`all` an object of lists); XML; CUPS page_log lines (history only). Rows are
streamed to the output: a dump of millions of jobs does not fill memory.

Values are written as export/values.py says.
"""

from __future__ import annotations

import csv
import enum
from collections.abc import Iterable
from datetime import datetime, tzinfo
from decimal import Decimal
from html import escape
from typing import IO, Any

from pagetally import __version__
from pagetally.core.models import Action
from pagetally.export.data import COLUMNS, Filters, Row, order_rows, summarize
from pagetally.export.data import extract as extract_rows
from pagetally.export.values import text, write_json_stream
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


def _types(datatype: DataType) -> list[str]:
    return list(COLUMNS) if datatype is DataType.ALL else [datatype.value]


def dump_to(
    out: IO[str],
    store: Store,
    datatype: DataType,
    fmt: DumpFormat,
    flt: Filters,
    *,
    storage: str,
    tz: tzinfo,
    orderby: str | None = None,
    total: bool = False,
) -> None:
    """Write `datatype` (or all of them) from `store` to `out` in `fmt`; `storage`
    names the store's backend in XML, `tz` is page_log's time zone."""
    types = _types(datatype)

    def extract(store: Store, t: str, flt: Filters) -> Iterable[Row]:
        rows: Iterable[Row] = extract_rows(store, t, flt)
        if orderby:
            rows = order_rows(rows, t, orderby)
        return summarize(rows, t, flt) if total else rows

    if fmt is DumpFormat.CUPS:
        write_cups(out, extract(store, "history", flt), tz)
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
