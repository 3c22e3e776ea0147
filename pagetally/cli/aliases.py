"""PyKota's classic command names as thin aliases, for sites migrating their cron
jobs: each translates its PyKota options into a `pagetally` command line and runs
it. The configuration comes from $PAGETALLY_CONFIG or /etc/pagetally/pagetally.conf.

- `dumpykota [-d TYPE] [-f FORMAT] [-o FILE] [filter ...]` -> `pagetally dump`
- `repykota [-g] [-P PRINTERS] [name ...]` -> `pagetally report`
- `edpykota [-g] [-P PRINTERS] [-S N] [-H N] [-a|-d|-r] name ...` -> `pagetally quotas`
- `pkusers [-g] [-a|-d|-L] [-l LIMIT] [-b [+-]N] [-o F] [-i G1,G2] ...` -> `users`/`groups`
- `pkprinters [-a|-d|-l] [-c PAGE[,JOB]] [-m N] [-p|-n] [-g PG1,PG2 [-r]] ...` -> `printers`
- `pkbcodes [-a|-d|-l] [-D TEXT] [-r] code ...` -> `billing-codes`
- `pkrefund [-f] [-r REASON] [-P PRINTER] jobid=N printername=P | JOBID ...` ->
  `jobs refund` (PyKota's job filters other than jobid/printername are refused)

A PyKota call that does several things becomes several `pagetally` commands, run in
order until one fails. Not translated (refused with a message): pkusers' absolute
`--balance N` (use +N or -N). pykotme, warnpykota, pkinvoice and pkbanner are in
cli/aliases_tools.py.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import typer


def _pagetally(args: list[str], prog: str) -> None:
    from pagetally.cli.main import app

    typer.main.get_command(app).main(args=args, prog_name=prog)


def _pagetally_all(commands: list[list[str]], prog: str) -> None:
    """Run several commands in order; exit with the first failure's code."""
    from pagetally.cli.main import app

    group = typer.main.get_command(app)
    for args in commands:
        code = group.main(args=args, prog_name=prog, standalone_mode=False)
        if code:
            sys.exit(code)
    sys.exit(0)


def _commas(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


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


def pkusers_args(argv: Sequence[str]) -> list[list[str]]:
    ap = argparse.ArgumentParser(prog="pkusers", description="PyKota's users manager.")
    ap.add_argument("-g", "--groups", action="store_true")
    ap.add_argument("-a", "--add", action="store_true")
    ap.add_argument("-d", "--delete", action="store_true")
    ap.add_argument("-L", "--list", action="store_true")
    ap.add_argument("-s", "--skipexisting", action="store_true")
    ap.add_argument("-l", "--limitby")
    ap.add_argument("-b", "--balance")
    ap.add_argument("-C", "--comment", default="")
    ap.add_argument("-o", "--overcharge")
    ap.add_argument("-D", "--description")
    ap.add_argument("-i", "--ingroups")
    ap.add_argument("-r", "--remove", action="store_true")
    ap.add_argument("names", nargs="*")
    ns = ap.parse_args(list(argv))
    noun = "groups" if ns.groups else "users"
    names = ns.names or ["*"]
    if ns.delete:
        return [[noun, "delete", *names]]
    if ns.list:
        return [[noun, "list", *ns.names]]
    out: list[list[str]] = []
    edits: list[str] = []
    if ns.limitby:
        edits += ["--limit-by", ns.limitby]
    if ns.description is not None:
        edits += ["--description", ns.description]
    if ns.overcharge is not None and not ns.groups:
        edits += ["--overcharge", ns.overcharge]
    if ns.add:
        out.append([noun, "add", *names, "--skip-existing", *edits])
        edits = [] if ns.skipexisting else edits
    if edits:
        out.append([noun, "edit", *names, *edits])
    if ns.balance is not None and not ns.groups:
        value = ns.balance.strip()
        if value[:1] not in "+-" or value[:1] == "":
            raise SystemExit("pkusers: an absolute --balance is not translated: give +N or -N")
        kind = "credit" if value[0] == "+" else "debit"
        out.append(["payments", kind, *names, value[1:], "--note", ns.comment])
    for group in _commas(ns.ingroups):
        out.append(["groups", "remove-members" if ns.remove else "add-members", group, *names])
    return out or [[noun, "list", *ns.names]]


def pkprinters_args(argv: Sequence[str]) -> list[list[str]]:
    ap = argparse.ArgumentParser(prog="pkprinters", description="PyKota's printers manager.")
    ap.add_argument("-a", "--add", action="store_true")
    ap.add_argument("-d", "--delete", action="store_true")
    ap.add_argument("-l", "--list", action="store_true")
    ap.add_argument("-s", "--skipexisting", action="store_true")
    ap.add_argument("-c", "--charge")
    ap.add_argument("-m", "--maxjobsize")
    ap.add_argument("-p", "--passthrough", action="store_true")
    ap.add_argument("-n", "--nopassthrough", action="store_true")
    ap.add_argument("-D", "--description")
    ap.add_argument("-g", "--groups")
    ap.add_argument("-r", "--remove", action="store_true")
    ap.add_argument("names", nargs="*")
    ns = ap.parse_args(list(argv))
    names = ns.names or ["*"]
    if ns.delete:
        return [["printers", "delete", *names]]
    if ns.list:
        return [["printers", "list", *ns.names]]
    edits: list[str] = []
    if ns.charge:
        page, _, job = ns.charge.partition(",")
        edits += ["--price-per-page", page.strip()]
        if job.strip():
            edits += ["--price-per-job", job.strip()]
    if ns.maxjobsize:
        edits += ["--max-job-size", ns.maxjobsize]
    if ns.description is not None:
        edits += ["--description", ns.description]
    if ns.passthrough or ns.nopassthrough:
        edits += ["--passthrough" if ns.passthrough else "--no-passthrough"]
    out: list[list[str]] = []
    if ns.add:
        out.append(["printers", "add", *names, "--skip-existing"])
        if ns.skipexisting:
            edits = []
    if edits:
        out.append(["printers", "edit", *names, *edits])
    for group in _commas(ns.groups):
        verb = "remove-from-group" if ns.remove else "add-to-group"
        out.append(["printers", verb, group, *names])
    return out or [["printers", "list", *ns.names]]


def pkbcodes_args(argv: Sequence[str]) -> list[list[str]]:
    ap = argparse.ArgumentParser(prog="pkbcodes", description="PyKota's billing codes manager.")
    ap.add_argument("-a", "--add", action="store_true")
    ap.add_argument("-d", "--delete", action="store_true")
    ap.add_argument("-l", "--list", action="store_true")
    ap.add_argument("-s", "--skipexisting", action="store_true")
    ap.add_argument("-r", "--reset", action="store_true")
    ap.add_argument("-D", "--description")
    ap.add_argument("names", nargs="*")
    ns = ap.parse_args(list(argv))
    names = ns.names or ["*"]
    if ns.delete:
        return [["billing-codes", "delete", *names]]
    if ns.list:
        return [["billing-codes", "list", *ns.names]]
    edits = ["--description", ns.description] if ns.description is not None else []
    if ns.reset:
        edits += ["--balance", "0"]
    out: list[list[str]] = []
    if ns.add:
        out.append(["billing-codes", "add", *names, "--skip-existing"])
        if ns.skipexisting:
            edits = []
    if edits:
        out.append(["billing-codes", "edit", *names, *edits])
    return out or [["billing-codes", "list", *ns.names]]


def pkusers() -> None:
    _pagetally_all(pkusers_args(sys.argv[1:]), "pkusers")


def pkprinters() -> None:
    _pagetally_all(pkprinters_args(sys.argv[1:]), "pkprinters")


def pkbcodes() -> None:
    _pagetally_all(pkbcodes_args(sys.argv[1:]), "pkbcodes")


def pkrefund_args(argv: Sequence[str]) -> list[str]:
    """PyKota's pkrefund names jobs by filters; `jobid=` and `printername=` (or
    bare JOBIDs, as `jobs refund` reads them) translate, other filters do not: a
    refund by user or date could give back far more than meant."""
    ap = argparse.ArgumentParser(prog="pkrefund", description="PyKota's jobs refunder.")
    ap.add_argument("-f", "--force", action="store_true")
    ap.add_argument("-r", "--reason", default="")
    ap.add_argument("-P", "--printer")
    ap.add_argument("-o", "--output", help="PDF receipts to this file ('-': stdout).")
    ap.add_argument("filters", nargs="*")
    ns = ap.parse_args(list(argv))
    printer = ns.printer
    ids: list[str] = []
    for item in ns.filters:
        key, eq, value = item.partition("=")
        if not eq:
            ids.append(item)
        elif key.strip().lower() == "jobid":
            ids.append(value.strip())
        elif key.strip().lower() == "printername":
            printer = value.strip()
        else:
            raise SystemExit(
                f"pkrefund: filter {item} is not translated: name jobs by jobid= and "
                "printername=, or by their history row id"
            )
    if not ids:
        raise SystemExit("pkrefund: name the jobs to refund (jobid=N printername=P)")
    out = ["jobs", "refund", *ids]
    if printer:
        out += ["--printer", printer]
    if ns.reason:
        out += ["--reason", ns.reason]
    if ns.output:
        out += ["--receipt", ns.output]
    return out + (["--force"] if ns.force else [])


def pkrefund() -> None:
    _pagetally(pkrefund_args(sys.argv[1:]), "pkrefund")
