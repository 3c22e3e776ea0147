"""`pagetally history`: the job history (every job, allowed or refused)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import typer

from pagetally.cli import common
from pagetally.cli.dates import parse_date
from pagetally.cli.env import get_env
from pagetally.cli.output import Format, Row, emit, write_csv, write_json_stream
from pagetally.core.models import JobRecord
from pagetally.errors import NotFound
from pagetally.storage.base import HistoryFilter, Store

#: `history --format json|csv`: one object (row) per job, these fields, this order.
COLUMNS = (
    "id",
    "date",
    "user",
    "printer",
    "pages",
    "color_pages",
    "copies",
    "price",
    "action",
    "reason",
    "billing_code",
    "host",
    "title",
    "job_id",
)
TABLE_COLUMNS = (
    "id",
    "job_id",
    "date",
    "user",
    "printer",
    "pages",
    "price",
    "action",
    "billing_code",
    "host",
    "title",
    "reason",
)


def job_row(j: JobRecord) -> Row:
    return {
        "id": j.id,
        "date": j.date,
        "user": j.user,
        "printer": j.printer,
        "pages": j.pages,
        "color_pages": j.color_pages,
        "copies": j.copies,
        "price": j.price,
        "action": j.action,
        "reason": j.reason,
        "billing_code": j.billing_code,
        "host": j.host,
        "title": j.title,
        "job_id": j.job_id,
    }


def _known_or_in_history(store: Store, user: str | None, printer: str | None) -> None:
    """NotFound for a user or printer neither in the store nor in the history: a
    user unknown to PageTally still has refused jobs there (`history -u nosuch`)."""
    for value, get, kind in (
        (user, store.get_user, "user"),
        (printer, store.get_printer, "printer"),
    ):
        if value is None:
            continue
        try:
            get(value)
        except NotFound:
            flt = (
                HistoryFilter(user=value, limit=1)
                if kind == "user"
                else HistoryFilter(printer=value, limit=1)
            )
            if next(iter(store.history(flt)), None) is None:
                raise


def register(app: typer.Typer) -> None:
    app.command("history")(history)


def history(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user.")] = None,
    printer: Annotated[
        str | None, typer.Option("--printer", "-P", help="Only this printer.")
    ] = None,
    host: Annotated[str | None, typer.Option("--host", help="Only jobs from this host.")] = None,
    billing_code: Annotated[
        str | None, typer.Option("--billing-code", "-b", help="Only this billing code.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", "-s", help="From this date: YYYY[MM[DD..]], ISO, today-N."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Up to the end of this date.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="At most N jobs (newest).")
    ] = None,
    fmt: common.FormatOption = Format.TABLE,
) -> None:
    """Show the job history, oldest first (with --limit: the newest N)."""
    env = get_env()
    flt = HistoryFilter(
        user=user,
        printer=printer,
        host=host,
        billing_code=billing_code,
        since=parse_date(since, now=env.now(), tz=env.local_tz()) if since else None,
        until=parse_date(until, now=env.now(), tz=env.local_tz(), end=True) if until else None,
        limit=limit,
        newest_first=limit is not None,
    )
    with env.store() as store:
        _known_or_in_history(store, user, printer)
        jobs: Iterator[Row] = (job_row(j) for j in store.history(flt))
        if flt.newest_first:
            jobs = iter(list(jobs)[::-1])  # bounded by --limit
        if fmt is Format.JSON:
            write_json_stream(env.out, jobs)
            env.out.write("\n")
        elif fmt is Format.CSV:
            write_csv(env.out, COLUMNS, jobs)
        else:
            headers = (
                "id",
                "job",
                "date",
                "user",
                "printer",
                "pages",
                "price",
                "action",
                "code",
                "host",
                "title",
                "reason",
            )
            emit(env, fmt, TABLE_COLUMNS, list(jobs), title="Job history", headers=headers)
