"""`pagetally allowances`: scheduled grants of credit or pages (and counter resets),
which PyKota left to cron. `allowances run` applies what is due now; running it
twice in a period grants once (for cron or a systemd timer)."""

from __future__ import annotations

from typing import Annotated

import typer

from pagetally.cli import common
from pagetally.cli.env import get_env
from pagetally.cli.exitcodes import exit_code_for
from pagetally.cli.names import is_pattern
from pagetally.cli.output import Row, emit
from pagetally.core.allowances import period_key
from pagetally.core.models import Allowance, Period
from pagetally.errors import InvalidInput, NotFound, PageTallyError

app = typer.Typer(help="Scheduled allowances: add, list, delete, run.", no_args_is_help=True)

COLUMNS = (
    "id",
    "target",
    "kind",
    "period",
    "credit",
    "cap",
    "pages",
    "reset_counters",
    "printer",
    "description",
)


def allowance_row(a: Allowance) -> Row:
    return {
        "id": a.id,
        "target": a.target,
        "kind": "group" if a.is_group else "user",
        "period": a.period,
        "credit": a.credit,
        "cap": a.cap,
        "pages": a.pages,
        "reset_counters": a.reset_counters,
        "printer": a.printer,
        "description": a.description,
    }


@app.command("add")
def add(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="Users, user patterns (stud*), or @group / @group-pattern; "
            "a pattern or group reaches whoever matches each time it runs."
        ),
    ],
    period: Annotated[Period, typer.Option("--period", help="How often.")] = Period.MONTH,
    credit: Annotated[
        str | None, typer.Option("--credit", help="Credit granted each period.")
    ] = None,
    cap: Annotated[
        str | None, typer.Option("--cap", help="Never raise the balance above this.")
    ] = None,
    pages: Annotated[int, typer.Option("--pages", help="Pages given back each period.", min=0)] = 0,
    reset: Annotated[
        bool, typer.Option("--reset-counters", help="Reset page counters each period.")
    ] = False,
    printer: Annotated[
        str, typer.Option("--printer", "-P", help="Printer for pages/resets (* all).")
    ] = "*",
    group: Annotated[
        bool, typer.Option("--group", "-g", help="Targets are groups (as if written @NAME).")
    ] = False,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
) -> None:
    """Schedule a grant for users or groups (a group's goes to each member).

    One allowance per target, resolved when `allowances run` applies it: `'*'`
    covers users added next month too, `@staff` whoever is in staff then."""
    env = get_env()
    currency = env.config().get_str("currency")
    value = common.payment(credit, currency, "credit") if credit is not None else common.amount("0")
    limit = common.payment(cap, currency, "cap") if cap is not None else None
    common.pages(pages, "--pages")
    if value == 0 and pages == 0 and not reset:
        raise InvalidInput("nothing to grant: give --credit, --pages or --reset-counters")
    parsed = [(t[1:], True) if t.startswith("@") else (t, group) for t in targets]
    with env.store(write=True) as store:
        for name, is_group in parsed:  # every target checked before any is stored
            if not name:
                raise InvalidInput("@ needs a group name")
            if is_pattern(name):
                find = store.find_groups if is_group else store.find_users
                if not find([name]):
                    env.note(
                        f"{'group' if is_group else 'user'} pattern {name!r} matches "
                        "nobody yet: it applies to whoever matches when it runs"
                    )
            elif is_group:
                store.get_group(name)
            else:
                store.get_user(name)
        if printer != "*":
            store.get_printer(printer)
        for name, is_group in parsed:
            a = store.add_allowance(
                Allowance(
                    target=name,
                    is_group=is_group,
                    period=period,
                    credit=value,
                    cap=limit,
                    pages=pages,
                    reset_counters=reset,
                    printer=printer,
                    description=description,
                )
            )
            env.note(f"allowance {a.id}: {'@' if is_group else ''}{name} every {period.value}")


@app.command("list")
def list_(fmt: common.FormatOption = common.Format.TABLE) -> None:
    """List scheduled allowances."""
    env = get_env()
    with env.store() as store:
        rows = [allowance_row(a) for a in store.allowances()]
    emit(env, fmt, COLUMNS, rows, title="Allowances")


@app.command("delete")
def delete(ids: Annotated[list[int], typer.Argument(help="Allowance ids (see list).")]) -> None:
    """Delete scheduled allowances."""
    env = get_env()
    with env.store(write=True) as store:
        known = {a.id for a in store.allowances()}
        for i in ids:
            if i not in known:
                raise NotFound("allowance", str(i))
        for i in ids:
            store.delete_allowance(i)
    env.note(f"{len(ids)} allowance(s) deleted")


@app.command("run")
def run() -> None:
    """Apply every allowance due in the current period (idempotent)."""
    env = get_env()
    now = env.now()
    terms = env.config().get_dates("termstarts")
    failed: PageTallyError | None = None
    granted = 0
    with env.store(write=True) as store:
        for a in store.allowances():
            try:
                key = period_key(a.period, now, terms)
                done = store.apply_allowance(a, key, now)
            except PageTallyError as exc:
                env.note(f"allowance {a.id} ({a.target}): error: {exc}")
                failed = failed or exc
                continue
            granted += done
            state = "granted" if done else "already granted"
            env.out.write(f"allowance {a.id} ({a.target}) {key}: {state}\n")
    env.note(f"{granted} allowance(s) granted")
    if failed is not None:
        raise typer.Exit(exit_code_for(failed))
