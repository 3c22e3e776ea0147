"""`pagetally banner` / `pkbanner`: the accounting banner page, as a PDF on stdout.

What it shows comes from the environment the backend gives banner and hook
commands (PyKota's PYKOTAUSERNAME, PYKOTABALANCE, PYKOTAPAGECOUNTER... see
notify/hooks.py), so `startingbanner: pkbanner ...` works as it did under PyKota;
`--user` (and `--printer`) fill what the environment lacks from the store. Used
from the command line it prints one page for a person to check the layout.
Writing it as a CUPS job-sheet filter is not done here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pagetally.cli.env import Env, get_env
from pagetally.cli.invoice import write_output
from pagetally.core.money import format_money
from pagetally.errors import PageTallyError


def register(app: typer.Typer) -> None:
    app.command("banner")(banner)


def _fields(env: Env, user: str | None, printer: str | None) -> list[tuple[str, str]]:
    from pagetally.notify.documents import BANNER_FIELDS

    values = {
        key: env.environ.get(f"PYKOTA{key}") or env.environ.get(f"PAGETALLY_{key}") or ""
        for _, key in BANNER_FIELDS
    }
    values = {k: ("" if v == "None" else v) for k, v in values.items()}
    user = user or values["USERNAME"] or None
    printer = printer or values["PRINTERNAME"] or None
    if user is not None:
        values["USERNAME"] = user
        values |= _from_store(env, user, printer, values)
    if printer is not None:
        values["PRINTERNAME"] = printer
    return [(label, values[key]) for label, key in BANNER_FIELDS if values[key]]


def _from_store(env: Env, user: str, printer: str | None, have: dict[str, str]) -> dict[str, str]:
    """Balance and page counter from the store, for what the environment lacks."""
    if have["BALANCE"] and (have["PAGECOUNTER"] or printer is None):
        return {}
    cfg = env.config()
    out: dict[str, str] = {}
    with env.store() as store:
        found = store.get_user(user)
        out["BALANCE"] = have["BALANCE"] or format_money(found.balance, cfg.get_str("currency"))
        if printer is not None and not have["PAGECOUNTER"]:
            try:
                uq = store.get_user_quota(user, printer)
            except PageTallyError:
                return out
            out["PAGECOUNTER"] = str(uq.page_counter)
            for key, value in (("SOFTLIMIT", uq.soft_limit), ("HARDLIMIT", uq.hard_limit)):
                if value is not None and not have[key]:
                    out[key] = str(value)
    return out


def banner(
    info: Annotated[
        list[str] | None, typer.Argument(help="More lines to print on the banner.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Whose banner (else $PYKOTAUSERNAME).")
    ] = None,
    printer: Annotated[
        str | None, typer.Option("--printer", "-P", help="Which printer (else $PYKOTAPRINTERNAME).")
    ] = None,
    logo: Annotated[
        str, typer.Option("--logo", "-l", help="Image drawn at the centre top ('' for none).")
    ] = "",
    pagesize: Annotated[str, typer.Option("--pagesize", "-p", help="A4, Letter...")] = "A4",
    savetoner: Annotated[
        int, typer.Option("--savetoner", "-s", help="Lighten the text by this percent (0-99).")
    ] = 0,
    url: Annotated[str, typer.Option("--url", "-u", help="Written at the bottom.")] = "",
    output: Annotated[
        str, typer.Option("--output", "-o", help="PDF file; '-' is standard output.")
    ] = "-",
) -> None:
    """Write the accounting banner page (user, balance, pages) as PDF (PyKota's pkbanner)."""
    from pagetally.notify.documents import banner_pdf, page_size

    env = get_env()
    size = page_size(pagesize)
    data = banner_pdf(
        _fields(env, user, printer),
        when=env.now().astimezone(env.local_tz()),
        info=list(info or []),
        logo=logo,
        savetoner=savetoner,
        url=url,
        size=size,
    )
    write_output(env, output, data)
