"""`pagetally jobs add`: record a job by hand (photocopies, offline prints);
`pagetally jobs refund` (cli/refund.py): give a charged job back.

It goes through the same path as the CUPS backend: `core.rules.decide` inside
`Store.decide_and_charge`, so limits, prices and history are the same. The
decision is printed; the exit code is 0 when the job is allowed (or warned),
1 when it is refused.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated

import typer

from pagetally.cli import common
from pagetally.cli.env import get_env
from pagetally.cli.exitcodes import DENIED, ExitCode
from pagetally.cli.output import machine
from pagetally.cli.refund import refund
from pagetally.core.models import AccountSnapshot, ChargeResult, Decision, JobFacts
from pagetally.core.money import format_money
from pagetally.core.rules import decide
from pagetally.errors import InvalidInput

app = typer.Typer(help="Jobs: record one by hand, refund charged ones.", no_args_is_help=True)
app.command("refund")(refund)


@app.command("add")
def add(
    user: Annotated[str, typer.Option("--user", "-u", help="Who printed.")],
    printer: Annotated[str, typer.Option("--printer", "-P", help="Where.")],
    pages: Annotated[int, typer.Option("--pages", "-p", help="Pages of one copy.", min=0)],
    color_pages: Annotated[
        int, typer.Option("--color-pages", help="Colour pages among them.", min=0)
    ] = 0,
    copies: Annotated[int, typer.Option("--copies", "-c", help="Copies.", min=1)] = 1,
    sheets: Annotated[
        int | None, typer.Option("--sheets", help="Physical sheets of one copy (duplex).", min=0)
    ] = None,
    media: Annotated[str | None, typer.Option("--media", help="Media size, e.g. a4.")] = None,
    billing_code: Annotated[
        str | None, typer.Option("--billing-code", "-b", help="Bill to this code.")
    ] = None,
    host: Annotated[str | None, typer.Option("--host", help="Origin host.")] = None,
    title: Annotated[str, typer.Option("--title", "-t", help="Job title.")] = "",
    job_id: Annotated[
        str,
        typer.Option(
            "--job-id",
            help="An id of yours; with --job-uuid, recording the same job twice charges it once.",
        ),
    ] = "",
    job_uuid: Annotated[str | None, typer.Option("--job-uuid", help="Default: a new one.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Record a job: decide (quota, balance, limits) and charge, like the backend."""
    env = get_env()
    for value, what in (
        (pages, "--pages"),
        (copies, "--copies"),
        (pages * copies, "--pages × --copies"),
    ):
        common.pages(value, what)
    if color_pages > pages:
        raise InvalidInput(f"--color-pages {color_pages} is more than --pages {pages}")
    if sheets is not None and sheets > pages:
        raise InvalidInput(f"--sheets {sheets} is more than --pages {pages}")
    facts = JobFacts(
        user=user,
        printer=printer,
        pages=pages * copies,
        color_pages=color_pages * copies,
        sheets=None if sheets is None else sheets * copies,
        copies=copies,
        media=media,
        billing_code=billing_code or None,
        host=host or None,
        title=title,
        job_id=job_id,
        job_uuid=job_uuid or f"urn:uuid:{uuid.uuid4()}",
    )
    cfg = env.config()
    settings = cfg.rule_settings(printer)
    now = env.now()

    def rule(snapshot: AccountSnapshot) -> Decision:
        return decide(snapshot, facts, settings, now)

    with env.store(write=True) as store:
        result = store.decide_and_charge(facts, rule, now)
    allowed = result.job.action in ("allow", "warn")
    if as_json:
        env.out.write(json.dumps(_as_json(result)) + "\n")
    else:
        env.out.write(_as_line(result, allowed, settings.currency) + "\n")
    if not allowed:
        raise typer.Exit(DENIED)
    raise typer.Exit(ExitCode.OK)


def _as_json(result: ChargeResult) -> dict[str, object]:
    job = result.job
    return {
        "job": job.id,
        "action": machine(job.action),
        "reason": job.reason,
        "price": machine(job.price),
        "pages": job.pages,
        "balance_after": machine(result.balance_after),
        "already_charged": result.already_charged,
    }


def _as_line(result: ChargeResult, allowed: bool, currency: str) -> str:
    """What `jobs add` prints for people: the action, why, and what it cost."""
    job = result.job
    line = f"{job.action.value}: {job.reason or 'ok'}"
    if allowed:
        line += f" (price {format_money(job.price, currency)}"
        if result.balance_after is not None:
            line += f", balance {format_money(result.balance_after, currency)}"
        line += ")"
    if result.already_charged:
        line += " [already recorded: nothing changed]"
    return line
