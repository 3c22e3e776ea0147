"""PyKota's classic command names as thin aliases, for sites migrating their cron
jobs: each translates its PyKota options into a `pagetally` command line and runs
it. The configuration comes from $PAGETALLY_CONFIG or /etc/pagetally/pagetally.conf.

- `dumpykota [-d TYPE] [-f FORMAT] [-o FILE] [filter ...]` -> `pagetally dump`
- `repykota [-g] [-P PRINTERS] [name ...]` -> `pagetally report`
- `edpykota [-g] [-P PRINTERS] [-S N] [-H N] [-a|-d|-r] name ...` -> `pagetally quotas`
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import typer


def _pagetally(args: list[str], prog: str) -> None:
    from pagetally.cli.main import app

    typer.main.get_command(app).main(args=args, prog_name=prog)


def _printers(value: str | None) -> list[str]:
    """PyKota's comma-separated printer list, as repeated --printer options."""
    out: list[str] = []
    for name in (value or "").split(","):
        if name.strip():
            out += ["--printer", name.strip()]
    return out


def dumpykota_args(argv: Sequence[str]) -> list[str]:
    ap = argparse.ArgumentParser(prog="dumpykota", description="PyKota's data dumper.")
    ap.add_argument("-d", "--data", default="history")
    ap.add_argument("-f", "--format", default="csv")
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("filters", nargs="*")
    ns = ap.parse_args(list(argv))
    return ["dump", ns.data, *ns.filters, "--format", ns.format, "--output", ns.output]


def repykota_args(argv: Sequence[str]) -> list[str]:
    ap = argparse.ArgumentParser(prog="repykota", description="PyKota's quota report.")
    ap.add_argument("-g", "--groups", action="store_true")
    ap.add_argument("-u", "--users", action="store_true")
    ap.add_argument("-P", "--printer")
    ap.add_argument("names", nargs="*")
    ns = ap.parse_args(list(argv))
    return ["report", *(["--group"] if ns.groups else []), *_printers(ns.printer), *ns.names]


def edpykota_args(argv: Sequence[str]) -> list[str]:
    ap = argparse.ArgumentParser(prog="edpykota", description="PyKota's quota editor.")
    ap.add_argument("-g", "--groups", action="store_true")
    ap.add_argument("-P", "--printer", default="*")
    ap.add_argument("-S", "--softlimit", type=int)
    ap.add_argument("-H", "--hardlimit", type=int)
    ap.add_argument("-a", "--add", action="store_true")
    ap.add_argument("-d", "--delete", action="store_true")
    ap.add_argument("-r", "--reset", action="store_true")
    ap.add_argument("-R", "--hardreset", action="store_true")
    ap.add_argument("-l", "--list", action="store_true")
    ap.add_argument("names", nargs="*")
    ns = ap.parse_args(list(argv))
    group = ["--group"] if ns.groups else []
    names = ns.names or ["*"]
    if ns.list:
        return ["quotas", "list", *group, *_printers(ns.printer), *names]
    if ns.delete:
        return ["quotas", "delete", *group, *_printers(ns.printer), *names]
    if ns.reset or ns.hardreset:
        extra = ["--lifetime"] if ns.hardreset else []
        return ["quotas", "reset", *_printers(ns.printer), *extra, *names]
    limits = []
    if ns.softlimit is not None:
        limits += ["--soft", str(ns.softlimit)]
    if ns.hardlimit is not None:
        limits += ["--hard", str(ns.hardlimit)]
    return ["quotas", "set", *group, *_printers(ns.printer), *limits, *names]


def dumpykota() -> None:
    _pagetally(dumpykota_args(sys.argv[1:]), "dumpykota")


def repykota() -> None:
    _pagetally(repykota_args(sys.argv[1:]), "repykota")


def edpykota() -> None:
    _pagetally(edpykota_args(sys.argv[1:]), "edpykota")
