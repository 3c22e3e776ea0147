"""`pagetally invoice`: PDF invoices of what users spent (PyKota's pkinvoice).

One invoice per user who was charged something in the period (`--start`,
`--end`, PyKota's date forms), listing the jobs charged and not refunded, with
the VAT part when a rate is set (`invoicevat`, or `--vat`). Numbers come from
the store (`Store.issue_numbers`): each is issued once, ever; `--number` sets
the first one and is refused when it is not above every number issued. The
document is made before any number is taken, and written whole (a temporary
file renamed) so that a failed run leaves no half-written invoice.
"""

from __future__ import annotations

import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from pagetally.cli import common
from pagetally.cli.dates import parse_date
from pagetally.cli.env import Env, get_env
from pagetally.config import Config
from pagetally.core.invoices import Invoice, Site, invoiced_jobs, vat_split
from pagetally.core.money import format_money
from pagetally.errors import InvalidInput
from pagetally.storage.base import HistoryFilter


def site_of(cfg: Config) -> Site:
    address = cfg.get_str("invoicesiteaddress")
    return Site(
        name=cfg.get_str("invoicesitename"),
        address=tuple(p.strip() for p in address.split("|") if p.strip()),
    )


def unit_of(cfg: Config, unit: str | None) -> str:
    return unit or cfg.get_str("invoiceunit") or cfg.get_str("currency")


def write_output(env: Env, output: str, data: bytes) -> None:
    """The PDF to `output` ('-': standard output), written whole or not at all."""
    if output == "-":
        stream = getattr(env.out, "buffer", None) or sys.stdout.buffer
        stream.write(data)
        stream.flush()
        return
    target = Path(output)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidInput(f"{output}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InvalidInput(f"{output}: cannot write: {exc.strerror or exc}") from None


def register(app: typer.Typer) -> None:
    app.command("invoice")(invoice)


def invoice(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Users (with --groups: groups) or wildcards; default all."),
    ] = None,
    groups: Annotated[
        bool, typer.Option("--groups", "-g", help="Names are groups: invoice their members.")
    ] = False,
    start: Annotated[
        str | None,
        typer.Option("--start", "-s", help="First date: YYYY[MM[DD[hh[mm[ss]]]]], today-N..."),
    ] = None,
    end: Annotated[str | None, typer.Option("--end", "-e", help="Last date, same forms.")] = None,
    number: Annotated[
        int | None,
        typer.Option("--number", "-n", min=1, help="Number of the first invoice (default: next)."),
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="PDF file; '-' is standard output.")
    ] = "-",
    vat: Annotated[
        str | None, typer.Option("--vat", "-V", help="VAT percent included (invoicevat).")
    ] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", "-u", help="Unit of amounts (invoiceunit).")
    ] = None,
    pagesize: Annotated[
        str, typer.Option("--pagesize", "-p", help="Page size: A4, Letter...")
    ] = "A4",
    logo: Annotated[
        str, typer.Option("--logo", "-l", help="Image drawn at the centre top of each page.")
    ] = "",
) -> None:
    """Make PDF invoices of the jobs users were charged for (PyKota's pkinvoice)."""
    from pagetally.notify.documents import invoices_pdf, page_size

    env = get_env()
    cfg = env.config()
    now, tz = env.now(), env.local_tz()
    since = parse_date(start, now=now, tz=tz) if start else None
    until = parse_date(end, now=now, tz=tz, end=True) if end else None
    if since is not None and until is not None and since >= until:
        raise InvalidInput(f"--start {start} is not before --end {end}")
    rate = common.amount(vat, "--vat") if vat is not None else cfg.get_decimal("invoicevat")
    if rate < 0 or rate >= 100:
        raise InvalidInput(f"VAT rate {rate}% is not between 0 and 100")
    money_unit = unit_of(cfg, unit)
    size = page_size(pagesize)
    site = site_of(cfg)
    with env.store(write=True) as store:
        if groups:
            users = {}
            for g in store.find_groups(names or ["*"]):
                users.update({u.name: u for u in store.members(g.name)})
            chosen = [users[k] for k in sorted(users)]
        else:
            chosen = store.find_users(names or ["*"])
        drafts = []
        for user in chosen:
            jobs = invoiced_jobs(
                list(store.history(HistoryFilter(user=user.name, since=since, until=until)))
            )
            total = sum((j.price for j in jobs), Decimal(0))
            if jobs and total > 0:
                drafts.append((user, tuple(jobs), vat_split(total, rate)))
        bills = [(u.name, t.total) for u, _, t in drafts]
        invoices_pdf([], site, size, logo)  # reportlab and the logo work: then take numbers
        numbers = store.issue_numbers("invoice", bills, now, number) if drafts else []
    made = [
        Invoice(
            number=n,
            user=user.name,
            user_detail=user.description or user.email or "",
            issued=now.astimezone(tz),
            start=since.astimezone(tz) if since else None,
            end=until.astimezone(tz) if until else None,
            jobs=jobs,
            totals=totals,
            unit=money_unit,
        )
        for n, (user, jobs, totals) in zip(numbers, drafts, strict=True)
    ]
    write_output(env, output, invoices_pdf(made, site, size, logo))
    if made:
        grand = sum((i.totals.total for i in made), Decimal(0))
        env.note(
            f"{len(made)} invoice(s), numbers {made[0].number} to {made[-1].number}, "
            f"total {format_money(grand, money_unit)}"
            + (
                f" (VAT {format_money(sum((i.totals.vat for i in made), Decimal(0)), money_unit)})"
                if rate > 0
                else ""
            )
        )
    else:
        env.note("nothing to invoice: no charged jobs in the period")
