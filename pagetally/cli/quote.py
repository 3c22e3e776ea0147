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
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pagetally.cli.env import Env, get_env
from pagetally.cli.output import Format, machine, render_table
from pagetally.config import Config
from pagetally.core.models import JobFacts, Printer, User
from pagetally.core.money import format_money
from pagetally.core.pricing import job_price, prices_colour
from pagetally.errors import InvalidInput, NotFound, PdlError
from pagetally.storage.base import Store

if TYPE_CHECKING:
    from pagetally.pdl import Analysis

TOTAL = "(total)"


class NoPrinter(NotFound):
    """The user has no quota entry on the printers asked about: nowhere to quote."""

    def __init__(self, user: str, printers: list[str]) -> None:
        Exception.__init__(
            self,
            f"user {user} has no quota entry on any printer matching "
            f"{','.join(printers)}: there is nowhere to quote",
        )


@dataclass(frozen=True)
class Counted:
    """One file as counted for one way of counting."""

    file: str
    format: str
    pages: int
    color_pages: int | None
    ink: dict[str, float]


@dataclass(frozen=True)
class QuoteRow:
    """One file (or the total) on one printer."""

    file: str
    format: str
    printer: str
    pages: int
    color_pages: int | None
    price: Decimal
    currency: str

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "printer": self.printer,
            "pages": self.pages,
            "color_pages": self.color_pages,
            "price": machine(self.price),
            "currency": self.currency,
        }


class Counter:
    """Counts each file once per way of counting (form, colour), as the backend would."""

    def __init__(self, files: list[str]) -> None:
        self.files = files
        self._plain: dict[str, Analysis] = {}  # the first count, without colour
        self._cache: dict[tuple[str, str, bool], Counted] = {}
        self.notes: list[str] = []

    def format_of(self, name: str) -> str:
        """The file's language; a file that cannot be counted raises PdlError now."""
        if name not in self._plain:
            from pagetally import pdl

            path = Path(name)
            if not path.is_file():
                raise InvalidInput(f"{name}: no such file")
            try:
                self._plain[name] = pdl.analyse(path)
            except PdlError as exc:
                raise type(exc)(f"{name}: cannot be counted: {exc}") from None
        return self._plain[name].format

    def count(self, name: str, form_text: str, colour: bool) -> Counted:
        key = (name, form_text, colour)
        if key not in self._cache:
            self._cache[key] = self._count(name, form_text, colour)
        return self._cache[key]

    def _count(self, name: str, form_text: str, colour: bool) -> Counted:
        """The backend's pre-count (cups/analysing.count_job) of one file, from the
        same pdl.analyse: `ink(...)` prices by coverage; colour pages are analysed
        only when a printer prices them, and when they cannot be, pages are priced
        as the backend does (note on stderr)."""
        from pagetally.core.directives import parse_accounter, parse_ink
        from pagetally.pdl.billing import analyse_for_billing, inked

        form = parse_accounter(form_text)
        fmt = self.format_of(name)
        if form.kind == "software" and form.arg:
            self.notes.append(
                f"{name}: the site's counter command ({form.arg}) is not run for a quote: "
                "counted by PageTally"
            )
        if form.kind != "ink" and not colour:
            a = self._plain[name]
        else:
            ink = parse_ink(form.arg, "preaccounter") if form.kind == "ink" else None
            a, note = analyse_for_billing(
                name, color=colour, ink=None if ink is None else (ink.colorspace, ink.resolution))
            if note:
                self.notes.append(f"{name}: {note}")
        colours = inked(a)
        return Counted(
            name,
            fmt,
            a.pages,
            None if a.page_inks is None else colours.color_pages,
            dict(colours.ink or {}) if form.kind == "ink" else {},
        )


def quote_rows(
    store: Store,
    cfg: Config,
    user_name: str,
    files: list[str],
    printers: list[str],
    notes: list[str] | None = None,
) -> list[QuoteRow]:
    """The quote: one row per file (and a total) per printer the user may use."""
    user: User = store.get_user(user_name)
    entries = store.user_quotas(printers, [user.name])
    if not entries:
        raise NoPrinter(user.name, printers)
    counter = Counter(files)
    for name in files:  # every file readable before any price is shown
        counter.format_of(name)
    rows: list[QuoteRow] = []
    for printer in sorted({e.printer for e in entries}):
        chain = store.printer_chain(printer)
        settings = cfg.rule_settings(printer)
        form = cfg.get_str("preaccounter", printer) or "software()"
        colour = prices_colour(chain)
        counted = [counter.count(name, form, colour) for name in files]
        for c in counted:
            rows.append(_row(c, printer, chain, settings, user))
        if len(counted) > 1:
            total = Counted(
                TOTAL,
                "",
                sum(c.pages for c in counted),
                None
                if any(c.color_pages is None for c in counted)
                else sum(c.color_pages or 0 for c in counted),
                _summed_ink(counted),
            )
            rows.append(_row(total, printer, chain, settings, user))
    if notes is not None:
        notes.extend(dict.fromkeys(counter.notes))
    return rows


def _summed_ink(counted: list[Counted]) -> dict[str, float]:
    out: dict[str, float] = {}
    for c in counted:
        for k, v in c.ink.items():
            out[k] = out.get(k, 0.0) + v
    return out


def _row(c: Counted, printer: str, chain: list[Printer], settings: Any, user: User) -> QuoteRow:
    facts = JobFacts(
        user=user.name,
        printer=printer,
        pages=c.pages,
        color_pages=c.color_pages or 0,
        ink=dict(c.ink),
    )
    price = job_price(chain, facts, settings, user)
    return QuoteRow(c.file, c.format, printer, c.pages, c.color_pages, price, settings.currency)


def print_quote(env: Env, rows: list[QuoteRow], fmt: Format, user: str) -> None:
    if fmt is Format.JSON:
        env.out.write(json.dumps({"user": user, "quotes": [r.as_json() for r in rows]}) + "\n")
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
