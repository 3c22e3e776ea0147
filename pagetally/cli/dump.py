"""`pagetally dump`: PyKota's dumpykota — the store's data for scripts.

`pagetally dump history --format cups start=today-7 username=jo*`. Formats:
csv, ssv (semicolons), tsv (tabs) with a header row; json (a list of objects;
for `all` an object of lists); xml; cups (CUPS page_log lines, history only).
Rows are streamed: a dump of millions of jobs does not fill memory.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Annotated

import typer

from pagetally.cli.dates import parse_date
from pagetally.cli.env import Env, get_env
from pagetally.errors import InvalidInput
from pagetally.export.data import FILTER_KEYS, Filters, Row, check_filters
from pagetally.export.data import extract as extract_rows
from pagetally.export.formats import SEPARATORS, DataType, DumpFormat, dump_to

if TYPE_CHECKING:  # annotations only: the store's modules load when a command runs
    from pagetally.storage.base import Store

__all__ = ["DataType", "DumpFormat", "dump", "dump_to", "iter_rows", "parse_filters"]


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


# --- the command ---------------------------------------------------------------


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
        typer.Option(
            "--orderby",
            "-O",
            metavar="[+-]COLUMN,...",
            help="Sort by these columns ('-' descending), e.g. -username,+printername.",
        ),
    ] = None,
    total: Annotated[
        bool,
        typer.Option(
            "--sum",
            "-s",
            help="History or payments: one row per user (or per "
            "filtered user/printer/host/billing code) with totals.",
        ),
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
    storage = env.config().store_settings().backend
    with env.store() as store, _opened(env, output) as out:
        dump_to(
            out,
            store,
            datatype,
            fmt,
            flt,
            storage=storage,
            tz=env.local_tz(),
            orderby=orderby,
            total=total,
        )


def _opened(env: Env, output: str) -> contextlib.AbstractContextManager[IO[str]]:
    """Where the dump goes: standard output for "-", else the file (created)."""
    if output == "-":
        return contextlib.nullcontext(env.out)
    return open(output, "w", encoding="utf-8", newline="")


def iter_rows(store: Store, datatype: str, flt: Filters) -> Iterator[Row]:
    """The rows `dump` writes (for other edges: the web's export)."""
    return extract_rows(store, datatype, flt)
