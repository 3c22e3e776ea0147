"""`pagetally quote FILE... --user U`: what a job would cost, before printing
(PyKota's pykotme).

The files are counted the way the backend counts a job before its decision: the
printer's `preaccounter` (`software()` by default, `ink(...)` for ink pricing),
colour pages analysed only when a printer of the chain prices them; and priced
by `core.pricing.job_price` over the printer and its printer groups, with the
user's overcharge. Nothing is charged or recorded.

The printers quoted are those matching `--printer` (default all) on which the
user has a quota entry: the printers the user may print to. Every file is one
row per printer; with several files a `(total)` row prices them as one job (a
per-job price counted once), as pykotme did.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from pagetally.cli.env import Env, get_env
from pagetally.cli.output import Format, machine, render_table
from pagetally.config import Config
from pagetally.core.money import format_money
from pagetally.core.quote import TOTAL, NoPrinter, PrinterSite, QuoteRow
from pagetally.storage.base import Store

__all__ = ["TOTAL", "NoPrinter", "QuoteRow", "print_quote", "quote_rows", "register"]


def quote_rows(
    store: Store,
    cfg: Config,
    user_name: str,
    files: Sequence[str],
    printers: Sequence[str],
    notes: list[str] | None = None,
) -> list[QuoteRow]:
    """The quote (core/quote.py): one row per file (and a total) per printer the
    user may use, the files counted by pdl/quoting.py. The web's quote reads the
    store and the config the same way (web/quoting.py)."""
    from pagetally.core import quote
    from pagetally.pdl.quoting import QuoteCounter

    user = store.get_user(user_name)
    entries = store.user_quotas(list(printers), [user.name])
    site = PrinterSite(
        chain=store.printer_chain,
        settings=cfg.rule_settings,
        preaccounter=lambda p: cfg.get_str("preaccounter", p),
    )
    return quote.quote_rows(
        user, [e.printer for e in entries], printers, files, QuoteCounter(list(files)), site, notes
    )


def as_json(r: QuoteRow) -> dict[str, Any]:
    return {
        "file": r.file,
        "format": r.format,
        "printer": r.printer,
        "pages": r.pages,
        "color_pages": r.color_pages,
        "price": machine(r.price),
        "currency": r.currency,
    }


def print_quote(env: Env, rows: list[QuoteRow], fmt: Format, user: str) -> None:
    if fmt is Format.JSON:
        env.out.write(json.dumps({"user": user, "quotes": [as_json(r) for r in rows]}) + "\n")
        return
    if fmt is Format.CSV:
        import csv

        w = csv.writer(env.out)
        w.writerow(["file", "format", "printer", "pages", "color_pages", "price", "currency"])
        for r in rows:
            w.writerow(
                [r.file, r.format, r.printer, r.pages, r.color_pages, machine(r.price), r.currency]
            )
        return
    cells = [
        [
            r.file,
            r.format,
            r.printer,
            str(r.pages),
            "-" if r.color_pages is None else str(r.color_pages),
            format_money(r.price, r.currency),
        ]
        for r in rows
    ]
    render_table(
        env,
        ["File", "Format", "Printer", "Pages", "Colour", "Price"],
        cells,
        [False, False, False, True, True, True],
        title=f"Quote for {user}",
    )


def register(app: typer.Typer) -> None:
    app.command("quote")(quote)


def quote(
    files: Annotated[
        list[str],
        typer.Argument(metavar="FILE...", help="The job's files; '-' reads standard input."),
    ],
    user: Annotated[str, typer.Option("--user", "-u", help="Who would print.")],
    printer: Annotated[
        list[str] | None,
        typer.Option("--printer", "-P", help="Printer(s) or wildcard; default all."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.TABLE,
) -> None:
    """Price files on each printer the user may print to, counted and priced as the
    backend would (PyKota's pykotme). Nothing is charged."""
    import contextlib
    import sys

    from pagetally.cli.count import _spooled

    env = get_env()
    cfg = env.config()
    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        paths = [stack.enter_context(_spooled(f, sys.stdin.buffer)) for f in files]
        with env.store() as store:
            rows = quote_rows(store, cfg, user, paths, list(printer or ["*"]), notes)
    shown = dict(zip(paths, files, strict=True))
    rows = [dataclasses.replace(r, file=shown.get(r.file, r.file)) for r in rows]
    for note in notes:
        env.note(f"note: {note}")
    print_quote(env, rows, fmt, user)
