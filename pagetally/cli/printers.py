"""`pagetally printers`: printers, prices and nested printer groups (PyKota's pkprinters)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer

from pagetally.cli import common
from pagetally.cli.env import get_env
from pagetally.cli.names import check_new_names, expand
from pagetally.cli.output import Row, each_matching, emit, progress
from pagetally.core.models import PriceTable, Printer
from pagetally.errors import AlreadyExists, InvalidInput

app = typer.Typer(
    help="Printers and printer groups: add, edit, delete, list, add-to-group.",
    no_args_is_help=True,
)

Names = Annotated[list[str], typer.Argument(help="Printer names; wildcards select.")]
NewNames = Annotated[
    list[str], typer.Argument(help="Names of the printers to create (exact names, no wildcards).")
]
PageOpt = Annotated[str | None, typer.Option("--price-per-page", "-p", help="Per page.")]
JobOpt = Annotated[str | None, typer.Option("--price-per-job", "-j", help="Per job.")]
ColorOpt = Annotated[
    str | None, typer.Option("--price-per-color-page", help="Per colour page (else per page).")
]
SheetOpt = Annotated[str | None, typer.Option("--price-per-sheet", help="Per physical sheet.")]
MediaOpt = Annotated[
    list[str] | None,
    typer.Option("--media", metavar="SIZE=FACTOR", help="Page price factor by media, e.g. a3=2."),
]
MaxOpt = Annotated[
    int | None,
    typer.Option("--max-job-size", "-m", help="Largest job in pages.", min=0, max=2**31 - 1),
]
DescOpt = Annotated[str | None, typer.Option("--description", "-d", help="Free text.")]

COLUMNS = (
    "name",
    "price_per_page",
    "price_per_job",
    "price_per_color_page",
    "max_job_size",
    "passthrough",
    "groups",
    "description",
)


def _media(items: list[str] | None) -> dict[str, Decimal] | None:
    if not items:
        return None
    out: dict[str, Decimal] = {}
    for item in items:
        size, sep, value = item.partition("=")
        if not sep or not size.strip():
            raise InvalidInput(f"--media {item!r}: write SIZE=FACTOR, e.g. a3=2")
        out[size.strip().lower()] = common.price(value, f"media factor for {size}")
    return out


def _prices(
    base: PriceTable,
    page: str | None,
    job: str | None,
    color: str | None,
    sheet: str | None,
    media: list[str] | None,
) -> PriceTable:
    """`base` with the given prices replaced; every amount checked."""
    m = _media(media)
    return PriceTable(
        per_page=common.price(page, "price per page") if page is not None else base.per_page,
        per_job=common.price(job, "price per job") if job is not None else base.per_job,
        per_color_page=(
            common.price(color, "price per colour page")
            if color is not None
            else base.per_color_page
        ),
        per_sheet=common.price(sheet, "price per sheet") if sheet is not None else base.per_sheet,
        media=m if m is not None else dict(base.media),
    )


@app.command("add")
def add(
    names: NewNames,
    price_per_page: PageOpt = None,
    price_per_job: JobOpt = None,
    price_per_color_page: ColorOpt = None,
    price_per_sheet: SheetOpt = None,
    media: MediaOpt = None,
    max_job_size: MaxOpt = None,
    passthrough: Annotated[
        bool, typer.Option("--passthrough", help="Neither check nor charge jobs here.")
    ] = False,
    description: DescOpt = None,
    skip_existing: Annotated[bool, typer.Option("--skip-existing")] = False,
) -> None:
    """Create printers (or printer groups: a printer others are put into)."""
    env = get_env()
    new = check_new_names("printer", names)
    prices = _prices(
        PriceTable(), price_per_page, price_per_job, price_per_color_page, price_per_sheet, media
    )
    with env.store(write=True) as store:
        existing = {p.name for p in store.find_printers(new)}
        if existing and not skip_existing:
            raise AlreadyExists("printer", sorted(existing)[0])
        todo = [n for n in new if n not in existing]
        for name in progress(env, todo, "adding printers"):
            store.add_printer(
                Printer(
                    name,
                    description=description or "",
                    prices=prices,
                    max_job_size=max_job_size,
                    passthrough=passthrough,
                )
            )
    env.note(f"{len(todo)} printer(s) added")


@app.command("edit")
def edit(
    names: Names,
    price_per_page: PageOpt = None,
    price_per_job: JobOpt = None,
    price_per_color_page: ColorOpt = None,
    price_per_sheet: SheetOpt = None,
    media: MediaOpt = None,
    max_job_size: MaxOpt = None,
    no_max_job_size: Annotated[
        bool, typer.Option("--no-max-job-size", help="Remove the job size limit.")
    ] = False,
    passthrough: Annotated[
        bool | None, typer.Option("--passthrough/--no-passthrough", help="Pass-through mode.")
    ] = None,
    description: DescOpt = None,
) -> None:
    """Change printers' prices, job size limit, pass-through mode or description."""
    env = get_env()
    price_given = any(
        x is not None
        for x in (price_per_page, price_per_job, price_per_color_page, price_per_sheet, media)
    )
    if (
        not price_given
        and max_job_size is None
        and not no_max_job_size
        and (passthrough is None and description is None)
    ):
        raise InvalidInput(
            "nothing to change: give a price, --max-job-size, --passthrough or --description"
        )
    _prices(
        PriceTable(), price_per_page, price_per_job, price_per_color_page, price_per_sheet, media
    )  # check every amount before changing anything
    with env.store(write=True) as store:
        printers = expand("printer", names, store.find_printers, lambda p: p.name)
        for p in progress(env, printers, "editing printers"):
            prices = (
                _prices(
                    p.prices,
                    price_per_page,
                    price_per_job,
                    price_per_color_page,
                    price_per_sheet,
                    media,
                )
                if price_given
                else None
            )
            store.edit_printer(
                p.name,
                prices=prices,
                max_job_size=max_job_size,
                clear_max_job_size=no_max_job_size,
                passthrough=passthrough,
                description=description,
            )
    env.note(f"{len(printers)} printer(s) changed")


@app.command("delete")
def delete(names: Names) -> None:
    """Delete printers and their quota entries (job history is kept)."""
    env = get_env()
    with env.store(write=True) as store:
        each_matching(
            env,
            "printer",
            names,
            store.find_printers,
            lambda p: p.name,
            store.delete_printer,
            "deleted",
        )


def _change_group(group: str, printers: list[str], how: str, said: str) -> None:
    """Add printers to, or remove them from, a printer group that must exist."""
    env = get_env()
    with env.store(write=True) as store:
        store.get_printer(group)
        found = expand("printer", printers, store.find_printers, lambda p: p.name)
        change = store.add_to_printer_group if how == "add" else store.remove_from_printer_group
        change(group, [p.name for p in found])
    env.note(f"{len(found)} printer(s) {said} {group!r}")


@app.command("add-to-group")
def add_to_group(
    group: Annotated[str, typer.Argument(help="The printer group (itself a printer).")],
    printers: Annotated[list[str], typer.Argument(help="Printers or groups; wildcards.")],
) -> None:
    """Put printers into a printer group (groups nest; cycles are refused)."""
    _change_group(group, printers, "add", "in printer group")


@app.command("remove-from-group")
def remove_from_group(
    group: Annotated[str, typer.Argument(help="The printer group.")],
    printers: Annotated[list[str], typer.Argument(help="Printers; wildcards.")],
) -> None:
    """Take printers out of a printer group."""
    _change_group(group, printers, "remove", "removed from printer group")


@app.command("list")
def list_(
    names: Annotated[list[str] | None, typer.Argument(help="Names or wildcards.")] = None,
    fmt: common.FormatOption = common.Format.TABLE,
) -> None:
    """List printers with prices, limits and the printer groups above each."""
    env = get_env()
    rows: list[Row] = []
    with env.store() as store:
        for p in store.find_printers(names or ["*"]):
            above = [g.name for g in store.printer_chain(p.name)[1:]]
            rows.append(
                {
                    "name": p.name,
                    "price_per_page": p.prices.per_page,
                    "price_per_job": p.prices.per_job,
                    "price_per_color_page": p.prices.per_color_page,
                    "max_job_size": p.max_job_size,
                    "passthrough": p.passthrough,
                    "groups": above if fmt == "json" else " ".join(above),
                    "description": p.description,
                }
            )
    emit(env, fmt, COLUMNS, rows, title="Printers")
