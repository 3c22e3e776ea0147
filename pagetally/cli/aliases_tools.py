"""PyKota's user tools under their classic names, as thin translations onto
`pagetally` commands (like cli/aliases.py, which holds the admin tools):

- `pykotme [-u USER] [-P P1,P2] [FILE ...]` -> `pagetally quote` (the user defaults
  to the one running it; no FILE, or `-`, reads standard input, as pykotme did)
- `warnpykota [-u|-g] [-P P1,P2] [name ...]` -> `pagetally warn`
- `pkinvoice [-s START] [-e END] [-n N] [-o FILE] [-V VAT] [-u UNIT] [name ...]`
  -> `pagetally invoice`
- `pkbanner [-l LOGO] [-p SIZE] [-s PERCENT] [-u URL] [info ...]` -> `pagetally banner`
- `pkturnkey [-f] [-u UID|NAME] [-U UID|NAME] [-d] [-D] [-e] [-g GID] [-G GID] [queue ...]`
  -> `pagetally setup site --unattended` (without -f a dry run, as pkturnkey)
- `pksetup` -> `pagetally setup site` (the questions)
- `autopykota [-i N]` -> `pagetally users ensure $PYKOTAUSERNAME --printer
  $PYKOTAPRINTERNAME --initbalance N` (the backend does this in-process for
  `policy: external(autopykota ...)`: no process is started)

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


def _uid(text: str | None) -> str | None:
    """pkturnkey took a uid or a user name whose uid is meant."""
    if text is None or text.isdigit():
        return text
    import pwd

    try:
        return str(pwd.getpwnam(text).pw_uid)
    except KeyError:
        raise SystemExit(f"pkturnkey: unknown username {text}") from None


def pkturnkey_args(argv: Sequence[str]) -> list[str]:
    """pkturnkey: printers from CUPS, users (and with -D groups) from the system;
    a dry run unless -f. Neither -d nor -D: users and groups, as the sync's
    configuration says."""
    ap = _parser(
        "pkturnkey",
        "Initialises the store from CUPS' queues and the system's users (PageTally's pkturnkey).",
    )
    ap.add_argument("-f", "--force", action="store_true", help="Do it (else a dry run).")
    ap.add_argument("-u", "--uidmin")
    ap.add_argument("-U", "--uidmax")
    ap.add_argument("-g", "--gidmin")
    ap.add_argument("-G", "--gidmax")
    ap.add_argument("-d", "--dousers", action="store_true")
    ap.add_argument("-D", "--dogroups", action="store_true")
    ap.add_argument("-e", "--emptygroups", action="store_true")
    ap.add_argument("queues", nargs="*")
    ns = ap.parse_args(list(argv))
    out = [*_root(ns.config), "setup", "site", "--unattended", "--set", "wrap=no"]
    low, high = _uid(ns.uidmin), _uid(ns.uidmax)
    if low is not None and high is not None and int(low) > int(high):
        low, high = high, low  # pkturnkey swapped them too
    for key, value in (
        ("syncuidmin", low),
        ("syncuidmax", high),
        ("syncgidmin", ns.gidmin),
        ("syncgidmax", ns.gidmax),
    ):
        if value is not None:
            out += ["--set", f"{key}={value}"]
    if ns.dousers or ns.dogroups:
        out += ["--set", "users=yes", "--set", f"syncgroups={'yes' if ns.dogroups else 'no'}"]
    if ns.emptygroups:
        out += ["--set", "syncemptygroups=yes"]
    if not ns.force:
        out.append("--dry-run")
    return [*out, *ns.queues]


def pkturnkey() -> None:
    _pagetally(pkturnkey_args(sys.argv[1:]), "pkturnkey")


def pksetup_args(argv: Sequence[str]) -> list[str]:
    ap = _parser(
        "pksetup", "Sets a print server up for PageTally, asking questions (PageTally's pksetup)."
    )
    ns = ap.parse_args(list(argv))
    return [*_root(ns.config), "setup", "site"]


def pksetup() -> None:
    _pagetally(pksetup_args(sys.argv[1:]), "pksetup")


def autopykota_args(argv: Sequence[str], environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """The user and printer come from PYKOTAUSERNAME / PYKOTAPRINTERNAME, set by
    the backend for the policy command, as PyKota's autopykota read them."""
    ap = _parser(
        "autopykota",
        "Creates a user's account on their first print "
        "(PageTally's autopykota; meant for policy: external(autopykota ...)).",
    )
    ap.add_argument("-i", "--initbalance", default="0")
    ns = ap.parse_args(list(argv))
    user, printer = environ.get("PYKOTAUSERNAME"), environ.get("PYKOTAPRINTERNAME")
    if not user or not printer:
        raise SystemExit(
            "autopykota: either the username or the printername is undefined "
            "(PYKOTAUSERNAME, PYKOTAPRINTERNAME)"
        )
    return [
        *_root(ns.config),
        "users",
        "ensure",
        user,
        "--printer",
        printer,
        "--initbalance",
        ns.initbalance,
    ]


def autopykota() -> None:
    _pagetally(autopykota_args(sys.argv[1:], os.environ), "autopykota")
