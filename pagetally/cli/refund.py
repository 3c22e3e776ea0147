"""`pagetally jobs refund`: give a charged job's money (and pages) back (pkrefund).

Jobs are named by their history row id (the `id` column of `pagetally history
--format csv|json`), or with `--printer` by their CUPS job id on that printer.
CUPS reuses job ids and every host has its own, so a CUPS id matching several
history rows is refused, listing them by row id. Every job named is checked
before anything changes; each refund is then one transaction in the store
(`Store.refund`), which refuses a job refunded already, also under a race.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from pagetally.cli import common
from pagetally.cli.env import get_env
from pagetally.cli.exitcodes import ExitCode
from pagetally.cli.output import machine
from pagetally.core.models import Action, JobRecord
from pagetally.core.money import format_money
from pagetally.core.refunds import Refund, RefundResult, refund_for
from pagetally.errors import InvalidAmount, InvalidInput, NotFound

if TYPE_CHECKING:  # annotations only: the store's modules load when a command runs
    from pagetally.storage.base import Store

#: The history actions of jobs that were charged (and so can be refunded).
CHARGED = (Action.ALLOW, Action.WARN)


def describe(job: JobRecord, currency: str = "") -> str:
    """One job for a person: row, CUPS id, printer, who, when, from where, what."""
    cups = f"job {job.job_id} " if job.job_id else "job "
    host = f" from {job.host}" if job.host else ""
    return (
        f"{cups}on {job.printer} (row {job.id}, {job.user}, {job.date:%Y-%m-%d %H:%M} UTC{host}, "
        f"{job.pages} pages, {format_money(job.price, currency)}, {job.action.value})"
    )


def resolve(store: Store, ident: str, printer: str | None) -> JobRecord:
    """The history row named by `ident`: a row id, or with `printer` a CUPS job id
    that must match exactly one row there (InvalidInput listing them otherwise)."""
    if printer is None:
        if not ident.isdigit():
            raise InvalidInput(
                f"{ident!r} is not a history row id: give --printer to name a CUPS job id"
            )
        return store.get_job(int(ident))
    found = store.jobs_by_job_id(ident, printer)
    if not found:
        raise NotFound("job", f"{ident} on {printer}")
    if len(found) > 1:
        rows = "; ".join(describe(j) for j in found)
        raise InvalidInput(
            f"CUPS job {ident} on {printer} matches {len(found)} history rows: {rows}. "
            "Name one by its row id (without --printer)"
        )
    return found[0]


def _fraction(text: str) -> Decimal:
    value = common.amount(text, "--fraction")
    if value > 1:
        raise InvalidAmount(
            f"--fraction: a refund is between 0 and 1 of the job's price, not {text}"
        )
    return value


def _line(res: RefundResult, currency: str) -> str:
    job = res.job
    what = format_money(res.amount, currency)
    if res.pages:
        what += f" and {res.pages} pages"
    cups = f"job {job.job_id}" if job.job_id else f"row {job.id}"
    balance = (
        f"{job.user}'s balance is now {format_money(res.balance_after, currency)}"
        if res.balance_after is not None
        else f"user {job.user} no longer exists"
    )
    return f"refunded {cups} on {job.printer} (row {job.id}, {job.user}): {what}; {balance}"


def _confirm(job: JobRecord, refund: Refund, currency: str) -> bool:
    what = format_money(refund.amount, currency)
    if refund.pages:
        what += f" and {refund.pages} pages"
    return typer.confirm(f"Refund {what} for {describe(job, currency)}?", default=False)


REFUND_FILTERS = ("username", "printername", "hostname", "billingcode", "jobid", "start", "end")


def by_filters(store: Store, items: list[str], now: datetime, tz: tzinfo) -> list[JobRecord]:
    """The charged jobs matching every KEY=VALUE (PyKota's pkrefund filters)."""
    from pagetally.cli.dates import parse_date
    from pagetally.storage.base import HistoryFilter

    values: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if not eq or key not in REFUND_FILTERS or not value.strip():
            raise InvalidInput(
                f"filter {item!r}: write KEY=VALUE with KEY one of {', '.join(REFUND_FILTERS)}"
            )
        values[key] = value.strip()
    flt = HistoryFilter(
        user=values.get("username"),
        printer=values.get("printername"),
        host=values.get("hostname"),
        billing_code=values.get("billingcode"),
        since=parse_date(values["start"], now=now, tz=tz) if "start" in values else None,
        until=parse_date(values["end"], now=now, tz=tz, end=True) if "end" in values else None,
    )
    jobid = values.get("jobid")
    return [
        j
        for j in store.history(flt)
        if (jobid is None or str(j.job_id) == jobid) and j.action in CHARGED
    ]


def refund(
    jobs: Annotated[
        list[str] | None,
        typer.Argument(
            help="History row ids (the `id` of `pagetally history --format csv`); "
            "with --printer, CUPS job ids on that printer.",
            metavar="JOBID...",
        ),
    ] = None,
    printer: Annotated[
        str | None,
        typer.Option("--printer", "-P", help="The JOBIDs are CUPS job ids on this printer."),
    ] = None,
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            metavar="KEY=VALUE",
            help="Refund every charged job matching all filters (username, "
            "printername, hostname, billingcode, jobid, start, end; dates as in "
            "dump); repeatable. PyKota's pkrefund filters.",
        ),
    ] = None,
    fraction: Annotated[
        str, typer.Option("--fraction", help="Give back this part of the price, 0 to 1.")
    ] = "1",
    pages: Annotated[
        bool,
        typer.Option(
            "--pages", help="Also give the pages back (off the page counters and billing code)."
        ),
    ] = False,
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why (kept with the payment and the job).")
    ] = "",
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Do not ask before each refund.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the refunds as JSON.")] = False,
    receipt: Annotated[
        str | None,
        typer.Option(
            "--receipt", metavar="FILE", help="Also write PDF receipts, one per user ('-': stdout)."
        ),
    ] = None,
) -> None:
    """Refund charged jobs: credit their price (or --fraction of it) to the user as
    a REFUND payment and mark them REFUND in the history (PyKota's pkrefund)."""
    env = get_env()
    part = _fraction(fraction)
    cfg = env.config()
    now = env.now()
    if receipt is not None:
        from pagetally.cli.receipts import check_receipts

        check_receipts(receipt)
    done: list[RefundResult] = []
    with env.store(write=True) as store:
        if not jobs and not filters:
            raise InvalidInput("name the jobs to refund: JOBIDs or --filter KEY=VALUE")
        picked = [resolve(store, ident.strip(), printer) for ident in jobs or []]
        if filters:
            picked += by_filters(store, filters, now, env.local_tz())
            if not picked:
                raise NotFound("charged job", " ".join(filters))
        chosen: dict[int, tuple[JobRecord, Refund, str]] = {}
        for job in picked:
            currency = cfg.rule_settings(job.printer).currency
            back = refund_for(job, currency=currency, fraction=part, pages=pages, note=reason)
            chosen[int(job.id or 0)] = (job, back, currency)
        for row, (job, back, currency) in chosen.items():
            if not force and not _confirm(job, back, currency):
                env.note(f"skipped {describe(job, currency)}")
                continue
            res = store.refund(row, back, now)
            done.append(res)
            if not as_json and receipt != "-":
                env.out.write(_line(res, currency) + "\n")
        if receipt is not None and done:
            from pagetally.cli.receipts import write_receipts

            write_receipts(env, store, cfg, done, receipt, now)
    if as_json:
        env.out.write(json.dumps([_as_json(r) for r in done]) + "\n")
    raise typer.Exit(ExitCode.OK)


def _as_json(r: RefundResult) -> dict[str, object]:
    """One refund as `--json` prints it."""
    return {
        "job": r.job.id,
        "job_id": r.job.job_id,
        "printer": r.job.printer,
        "user": r.job.user,
        "amount": machine(r.amount),
        "pages": r.pages,
        "balance_after": machine(r.balance_after),
        "reason": r.job.reason,
    }
