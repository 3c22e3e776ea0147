"""PyKota's user tools under their classic names, as thin translations onto
`pagetally` commands (like cli/aliases.py, which holds the admin tools):

- `pykotme [-u USER] [-P P1,P2] [FILE ...]` -> `pagetally quote` (the user defaults
  to the one running it; no FILE, or `-`, reads standard input, as pykotme did)
- `warnpykota [-u|-g] [-P P1,P2] [name ...]` -> `pagetally warn`
- `pkinvoice [-s START] [-e END] [-n N] [-o FILE] [-V VAT] [-u UNIT] [name ...]`
  -> `pagetally invoice`
- `pkbanner [-l LOGO] [-p SIZE] [-s PERCENT] [-u URL] [info ...]` -> `pagetally banner`

Every alias takes PyKota's `--config FILE` and `-v/--version`.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence

from pagetally.cli.aliases import _pagetally, _printers

PYKOTA_VERSION = "1.27"  # the PyKota release whose tools these mimic


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, description=description)
    ap.add_argument("-v", "--version", action="version", version=f"{prog} {PYKOTA_VERSION}")
    ap.add_argument("--config", metavar="FILE", help="PageTally's configuration file.")
    return ap


def _root(config: str | None) -> list[str]:
    return ["--config", config] if config else []


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def pykotme_args(argv: Sequence[str]) -> list[str]:
    """No FILE reads standard input, as pykotme did."""
    ap = _parser("pykotme", "Gives print quotes to users (PageTally's pykotme).")
    ap.add_argument("-u", "--user", help="Quote for this user (default: yourself).")
    ap.add_argument("-P", "--printer", default="*", help="Printer(s), comma separated.")
    ap.add_argument("files", nargs="*")
    ns = ap.parse_args(list(argv))
    return [
        *_root(ns.config),
        "quote",
        *(ns.files or ["-"]),
        "--user",
        ns.user or _current_user(),
        *_printers(ns.printer),
    ]


def warnpykota_args(argv: Sequence[str]) -> list[str]:
    ap = _parser("warnpykota", "Sends mail to users over print quota (PageTally's warnpykota).")
    ap.add_argument("-u", "--users", action="store_true", help="Warn users (the default).")
    ap.add_argument("-g", "--groups", action="store_true", help="Warn groups' members.")
    ap.add_argument("-P", "--printer", default="*", help="Printer(s), comma separated.")
    ap.add_argument("names", nargs="*")
    ns = ap.parse_args(list(argv))
    group = ["--groups"] if ns.groups else []
    return [*_root(ns.config), "warn", *group, *_printers(ns.printer), *ns.names]


def pykotme() -> None:
    _pagetally(pykotme_args(sys.argv[1:]), "pykotme")


def warnpykota() -> None:
    _pagetally(warnpykota_args(sys.argv[1:]), "warnpykota")


def pkinvoice_args(argv: Sequence[str]) -> list[str]:
    ap = _parser("pkinvoice", "An invoice generator (PageTally's pkinvoice).")
    ap.add_argument("-l", "--logo", default="")
    ap.add_argument("-p", "--pagesize", default="A4")
    ap.add_argument("-n", "--number")
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("-u", "--unit")
    ap.add_argument("-V", "--vat")
    ap.add_argument("-s", "--start")
    ap.add_argument("-e", "--end")
    ap.add_argument("names", nargs="*")
    ns = ap.parse_args(list(argv))
    out = [*_root(ns.config), "invoice", *ns.names]
    for flag, value in (("--start", ns.start), ("--end", ns.end), ("--number", ns.number)):
        if value:
            out += [flag, value]
    out += ["--output", ns.output]
    if ns.vat is not None:
        out += ["--vat", ns.vat]
    if ns.unit:
        out += ["--unit", ns.unit]
    if ns.logo:
        out += ["--logo", ns.logo]
    return [*out, "--pagesize", ns.pagesize]


def pkinvoice() -> None:
    _pagetally(pkinvoice_args(sys.argv[1:]), "pkinvoice")


def pkbanner_args(argv: Sequence[str]) -> list[str]:
    ap = _parser("pkbanner", "Generates banners (PageTally's pkbanner).")
    ap.add_argument("-l", "--logo", default="")
    ap.add_argument("-p", "--pagesize", default="A4")
    ap.add_argument("-s", "--savetoner", default="0")
    ap.add_argument("-u", "--url", default="")
    ap.add_argument("info", nargs="*")
    ns = ap.parse_args(list(argv))
    out = [*_root(ns.config), "banner", "--pagesize", ns.pagesize, "--savetoner", ns.savetoner]
    if ns.logo:
        out += ["--logo", ns.logo]
    if ns.url:
        out += ["--url", ns.url]
    return [*out, "--", *ns.info] if ns.info else out


def pkbanner() -> None:
    _pagetally(pkbanner_args(sys.argv[1:]), "pkbanner")
