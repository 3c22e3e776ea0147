"""`pagetally import-pykota --from /etc/pykota/pykota.conf`: bring a PyKota store across.

Reads PyKota's store (PostgreSQL, MySQL or SQLite, as its pykota.conf and
pykotadmin.conf say) and writes PageTally's (the admin credentials). Prints, for
each kind of thing, PyKota's figure and PageTally's after the import; they must
be equal, else the command fails (exit 4) naming what differs.
"""

from __future__ import annotations

from datetime import tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from pagetally.cli.env import Env, get_env
from pagetally.errors import InvalidInput, StorageError

if TYPE_CHECKING:
    from pagetally.storage.pykota_import import ImportReport
    from pagetally.storage.pykota_source import PyKotaSource
    from pagetally.storage.sql import SqlStore

MONEY_ROWS = ("balance", "lifetime paid", "payments", "job prices", "billing code balance")


def register(app: typer.Typer) -> None:
    app.command("import-pykota")(import_pykota)


def import_pykota(
    source: Annotated[
        str,
        typer.Option(
            "--from",
            metavar="PATH",
            help="PyKota's pykota.conf (its pykotadmin.conf beside it holds the admin "
            "credentials; without it the read-only ones are used).",
        ),
    ],
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            metavar="ZONE",
            help="Time zone of the dates PyKota stored without one (default: this "
            "machine's), e.g. Europe/Paris or UTC. SQLite's job and payment dates are UTC.",
        ),
    ] = None,
) -> None:
    """Import a PyKota store: users, groups and members, printers and printer groups,
    quotas with counters and grace dates, balances, payments, billing codes and the
    whole job history.

    PyKota's floating-point amounts become exact decimals (6 places); every value
    that had to be rounded is reported. Rerunnable: a second run adds nothing, a
    later one brings what PyKota recorded since and sets balances, counters and
    limits to PyKota's.
    """
    from pagetally.storage.pykota_source import PyKotaSource, describe_source, settings_from

    env = get_env()
    tz: tzinfo = env.local_tz()
    if timezone:
        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"unknown time zone {timezone!r} (e.g. Europe/Paris, UTC)") from None
    src_settings = settings_from(source)
    src = PyKotaSource(src_settings)
    try:
        with env.store(write=True) as store:
            from pagetally.storage.sql import SqlStore

            assert isinstance(store, SqlStore)
            report = _run(env, src, store, tz)
    finally:
        src.close()
    _show(env, report, describe_source(src_settings))
    bad = report.mismatches()
    if bad:
        raise StorageError(
            f"the import is incomplete: {', '.join(bad)} differ "
            "between PyKota and PageTally (see the table above)"
        )


def _run(env: Env, src: PyKotaSource, store: SqlStore, tz: tzinfo) -> ImportReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from pagetally.storage.pykota_import import PyKotaImport

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=env.console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task("jobs", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        return PyKotaImport(src, store, tz=tz, progress=progress).run()


def _show(env: Env, report: ImportReport, where: str) -> None:
    from rich.table import Table

    from pagetally.core.money import format_money

    table = Table(title=f"Imported from {where}")
    for col in ("", "PyKota", "PageTally", "created", "updated"):
        table.add_column(col, justify="left" if not col else "right")
    for key, n in report.pykota.counts.items():
        made = "" if key == "pages" else str(report.created.get(key, 0))
        changed = "" if key == "pages" else str(report.updated.get(key, 0))
        table.add_row(key, str(n), str(report.pagetally.counts.get(key, "")), made, changed)
    for key in MONEY_ROWS:
        src = report.pykota.money.get(key, Decimal(0))
        shown = src + report.rounding_total.get(key, Decimal(0))
        table.add_row(
            f"sum of {key}",
            format_money(shown),
            format_money(report.pagetally.money.get(key, Decimal(0))),
            "",
            "",
        )
    env.console().print(table)
    out = env.out
    if report.rounded_count:
        print(
            f"{report.rounded_count} value(s) had more decimals than the store keeps "
            "(6) and were rounded:",
            file=out,
        )
        for r in sorted(report.rounded, key=lambda r: abs(r.kept - r.original), reverse=True):
            print(f"  {r.where}: {r.original} -> {r.kept}", file=out)
        if report.rounded_count > len(report.rounded):
            print(f"  ... and {report.rounded_count - len(report.rounded)} more", file=out)
        for key, delta in report.rounding_total.items():
            if delta:
                print(f"  sum of {key} changed by {delta:f} by rounding", file=out)
    else:
        print("no value needed rounding", file=out)
    for note, n in sorted(report.notes.items()):
        print(f"note: {note}: {n}", file=out)
