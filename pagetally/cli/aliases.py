"""PyKota's classic command names as thin aliases, for sites migrating their cron
jobs: each translates its PyKota options into `pagetally` command lines and runs
them, in order, until one fails. Every alias takes PyKota's -v/--version and
-A/--arguments FILE, and PageTally's --config PATH (else $PAGETALLY_CONFIG, else
/etc/pagetally/pagetally.conf).

- `dumpykota [-d TYPE] [-f FORMAT] [-o FILE] [-O ORDER] [-s] [filter ...]` -> `dump`
- `repykota [-g] [-P PRINTERS] [-i GROUPS] [name ...]` -> `report`
- `edpykota [-a [-s]] [-d] [-L] [-g] [-P PRINTERS] [-S N] [-H N] [-n] [-I N] [-m N]
  [-r|-R|-U [+-]N] name ...` -> `quotas set/reset/delete/list`, as PyKota ran it:
  without --add only existing entries change; a limit given alone sets the other
- `pkusers [-g] [-a [-s]|-d|-L] [-l LIMIT] [-b [+-]N] [-e EMAIL|@DOMAIN] [-o F]
  [-i G1,G2 [-r]] name[/email] ...` -> `users`, `groups`, `payments`
- `pkprinters [-a|-d|-l] [-c PAGE[,JOB]] [-m N] [-p|-n] [-g PG1,PG2 [-r]] [-C] ...`
  -> `printers` (and `setup cups` for --cups)
- `pkbcodes [-a|-d|-l] [-D TEXT] [-r] code ...` -> `billing-codes`
- `pkrefund [-f] [-r REASON] filter ...` -> `jobs refund --filter ...`

Not here: pknotify, pkturnkey. pykotme, warnpykota, pkinvoice and pkbanner are in
cli/aliases_tools.py.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pagetally import __version__
from pagetally.cli.argfiles import ArgumentFileError, expand_argument_files


def _pagetally(args: list[str], prog: str) -> None:
    # Typer only once a command runs: an alias's --help is argparse's (start-up).
    import typer

    import pagetally.cli
    from pagetally.cli.main import app

    pagetally.cli.ONE_COMMAND_PROCESS = True

    typer.main.get_command(app).main(args=args, prog_name=prog)


def _pagetally_all(commands: list[list[str]], prog: str) -> None:
    """Run several commands in order; exit with the first failure's code."""
    import typer

    import pagetally.cli
    from pagetally.cli.main import app

    pagetally.cli.ONE_COMMAND_PROCESS = True

    group = typer.main.get_command(app)
    for args in commands:
        code = group.main(args=args, prog_name=prog, standalone_mode=False)
        if code:
            sys.exit(code)
    sys.exit(0)


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An alias's parser with the options every PyKota tool had: -v/--version,
    -A/--arguments (expanded before parsing) and PageTally's --config."""
    ap = argparse.ArgumentParser(prog=prog, description=description)
    ap.add_argument(
        "-v", "--version", action="version", version=f"{prog} (PageTally {__version__})"
    )
    ap.add_argument(
        "-A",
        "--arguments",
        metavar="FILE",
        help="Read more options and arguments from FILE, one a line.",
    )
    ap.add_argument("--config", metavar="PATH", help="PageTally's configuration file.")
    return ap


#: Options whose value may start with '-' (dumpykota -O -username): glued to it
#: before argparse, which would take the value for an option.
_DASH_VALUES = {"-O": "--orderby", "--orderby": "--orderby"}


def _parse(ap: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    try:
        expanded = expand_argument_files(argv)
    except ArgumentFileError as exc:
        ap.error(str(exc))
    glued: list[str] = []
    i = 0
    while i < len(expanded):
        item = expanded[i]
        if (
            item in _DASH_VALUES
            and i + 1 < len(expanded)
            and any(a.dest == "orderby" for a in ap._actions)
        ):
            glued.append(f"{_DASH_VALUES[item]}={expanded[i + 1]}")
            i += 2
            continue
        glued.append(item)
        i += 1
    return ap.parse_args(glued)


def _configured(ns: argparse.Namespace, commands: list[list[str]]) -> list[list[str]]:
    """Each command with the alias's --config in front of it."""
    if not ns.config:
        return commands
    return [["--config", ns.config, *c] for c in commands]


def _commas(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _printers(value: str | None) -> list[str]:
    """PyKota's comma-separated printer list, as repeated --printer options."""
    out: list[str] = []
    for name in (value or "").split(","):
        if name.strip():
            out += ["--printer", name.strip()]
    return out


def _main(prog: str, translate: Callable[[Sequence[str]], list[list[str]]]) -> None:
    _pagetally_all(translate(sys.argv[1:]), prog)


def dumpykota_args(argv: Sequence[str]) -> list[list[str]]:
    ap = _parser("dumpykota", "PyKota's data dumper.")
    ap.add_argument("-d", "--data", default="history")
    ap.add_argument("-f", "--format", default="csv")
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("-O", "--orderby")
    ap.add_argument("-s", "--sum", action="store_true")
    ap.add_argument("filters", nargs="*")
    ns = _parse(ap, argv)
    extra = (["--orderby", ns.orderby] if ns.orderby else []) + (["--sum"] if ns.sum else [])
    return _configured(
        ns, [["dump", ns.data, *ns.filters, "--format", ns.format, "--output", ns.output, *extra]]
    )


def repykota_args(argv: Sequence[str]) -> list[list[str]]:
    ap = _parser("repykota", "PyKota's quota report.")
    ap.add_argument("-g", "--groups", action="store_true")
    ap.add_argument("-u", "--users", action="store_true")
    ap.add_argument("-P", "--printer")
    ap.add_argument("-i", "--ingroups", help="Only users of these groups (comma-separated).")
    ap.add_argument("names", nargs="*")
    ns = _parse(ap, argv)
    ingroups = [x for g in _commas(ns.ingroups) for x in ("--in-group", g)]
    return _configured(
        ns,
        [
            [
                "report",
                *(["--group"] if ns.groups else []),
                *_printers(ns.printer),
                *ingroups,
                *ns.names,
            ]
        ],
    )


def _edpykota_limits(ns: argparse.Namespace) -> tuple[str | None, str | None]:
    """PyKota's rule: a limit given alone sets the other to the same value; a hard
    limit below the soft one swaps them (each said on stderr, as PyKota did)."""
    soft, hard = ns.softlimit, ns.hardlimit
    if ns.noquota:
        return None, None
    if soft is not None and hard is not None:
        try:
            if int(hard) < int(soft):
                print(
                    f"edpykota: hard limit {hard} is less than soft limit {soft}, "
                    "values will be exchanged",
                    file=sys.stderr,
                )
                soft, hard = hard, soft
        except ValueError:
            pass  # pagetally says what is wrong with the number
    elif soft is not None:
        print(f"edpykota: undefined hard limit set to soft limit ({soft})", file=sys.stderr)
        hard = soft
    elif hard is not None:
        print(f"edpykota: undefined soft limit set to hard limit ({hard})", file=sys.stderr)
        soft = hard
    return soft, hard


def edpykota_args(argv: Sequence[str]) -> list[list[str]]:
    """edpykota as PyKota ran it: without --add only existing entries change;
    --add creates the missing ones (and changes the others unless --skipexisting)."""
    ap = _parser("edpykota", "PyKota's quota editor.")
    ap.add_argument("-g", "--groups", action="store_true")
    ap.add_argument("-P", "--printer", default="*")
    ap.add_argument("-S", "--softlimit")
    ap.add_argument("-H", "--hardlimit")
    ap.add_argument("-I", "--increase")
    ap.add_argument("-n", "--noquota", action="store_true")
    ap.add_argument("-m", "--maxjobsize")
    ap.add_argument("-a", "--add", action="store_true")
    ap.add_argument("-d", "--delete", action="store_true")
    ap.add_argument("-r", "--reset", action="store_true")
    ap.add_argument("-R", "--hardreset", action="store_true")
    ap.add_argument("-U", "--used")
    ap.add_argument("-s", "--skipexisting", action="store_true")
    ap.add_argument("-L", "-l", "--list", action="store_true")
    ap.add_argument("names", nargs="*")
    ns = _parse(ap, argv)
    group = ["--group"] if ns.groups else []
    names = ns.names or ["*"]
    printers = _printers(ns.printer)
    edits = (ns.softlimit, ns.hardlimit, ns.increase, ns.maxjobsize, ns.used)
    changes = any(e is not None for e in edits) or ns.noquota or ns.reset or ns.hardreset
    if (ns.list or ns.delete) and (changes or ns.add or ns.skipexisting):
        raise SystemExit(
            "edpykota: error: incompatible options: --list and --delete take no other action"
        )
    if ns.list:
        return _configured(ns, [["quotas", "list", *group, *printers, *names]])
    if ns.delete:
        return _configured(ns, [["quotas", "delete", *group, *printers, *names]])
    limits = _edpykota_limit_options(ns)
    out: list[list[str]] = []
    if ns.add:
        mode = ["--skip-existing"] if ns.skipexisting else []
        out.append(["quotas", "set", *group, *printers, *limits, *mode, *names])
    elif limits:
        out.append(["quotas", "set", *group, *printers, *limits, "--only-existing", *names])
    if ns.reset or ns.hardreset or ns.used is not None:
        used = ns.used.strip() if ns.used is not None else "0"
        life = ["--lifetime"] if ns.hardreset or ns.used is not None else []
        out.append(["quotas", "reset", *group, *printers, f"--used={used}", *life, *names])
    return _configured(ns, out or [["quotas", "list", *group, *printers, *names]])


def _edpykota_limit_options(ns: argparse.Namespace) -> list[str]:
    """edpykota's -S/-H, -n, -I and -m as `quotas set` options."""
    soft, hard = _edpykota_limits(ns)
    limits: list[str] = []
    if soft is not None:
        limits += ["--soft", soft, "--hard", str(hard)]
    if ns.noquota:
        limits.append("--no-limits")
    if ns.increase is not None:
        limits.append(f"--increase={ns.increase}")
    if ns.maxjobsize is not None:
        mjs = ns.maxjobsize.strip()
        limits += ["--no-max-job-size"] if mjs.lower() == "unlimited" else ["--max-job-size", mjs]
    return limits


def dumpykota() -> None:
    _main("dumpykota", dumpykota_args)


def repykota() -> None:
    _main("repykota", repykota_args)


def edpykota() -> None:
    _main("edpykota", edpykota_args)


def _user_and_email(item: str, email: str | None) -> tuple[str, str | None]:
    """pkusers' `name/email` form and `--email @domain` (the user's name prepended)."""
    name, slash, own = item.partition("/")
    if slash and own:
        return name, own
    if email and email.startswith("@"):
        return name, name + email
    return name, email


def pkusers_args(argv: Sequence[str]) -> list[list[str]]:
    ap = _parser("pkusers", "PyKota's users manager.")
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
    ap.add_argument("-e", "--email")
    ap.add_argument("-i", "--ingroups")
    ap.add_argument("-r", "--remove", action="store_true")
    ap.add_argument("names", nargs="*")
    ns = _parse(ap, argv)
    noun = "groups" if ns.groups else "users"
    pairs = [_user_and_email(n, ns.email) for n in ns.names]
    plain = [n for n, _ in pairs]
    names = plain or ["*"]
    if ns.delete:
        return _configured(ns, [[noun, "delete", *names]])
    if ns.list:
        return _configured(ns, [[noun, "list", *plain]])
    out: list[list[str]] = []
    edits: list[str] = []
    if ns.limitby:
        edits += ["--limit-by", ns.limitby]
    if ns.description is not None:
        edits += ["--description", ns.description]
    if ns.overcharge is not None and not ns.groups:
        edits.append(f"--overcharge={ns.overcharge}")
    if ns.add:
        out.append([noun, "add", *names, "--skip-existing", *edits])
        edits = [] if ns.skipexisting else edits
    if edits:
        out.append([noun, "edit", *names, *edits])
    if not ns.groups:
        out += _emails(ns.email, pairs, skip=bool(ns.add and ns.skipexisting))
    if ns.balance is not None and not ns.groups:
        value = ns.balance.strip()
        if value[:1] in ("+", "-"):
            kind = "credit" if value[0] == "+" else "debit"
            out.append(["payments", kind, *names, value[1:], "--note", ns.comment])
        else:  # PyKota: an absolute balance; the difference is recorded as a payment
            out.append(["payments", "set-balance", *names, value, "--note", ns.comment])
    for group in _commas(ns.ingroups):
        out.append(["groups", "remove-members" if ns.remove else "add-members", group, *names])
    return _configured(ns, out or [[noun, "list", *plain]])


def _emails(email: str | None, pairs: list[tuple[str, str | None]], skip: bool) -> list[list[str]]:
    """The e-mail edits: one per user given as name/email, and `--email` for
    the others (for every user when no name is given: PyKota's example)."""
    out: list[list[str]] = []
    if email and not pairs and not skip:
        if email.startswith("@"):
            out.append(["users", "edit", "*", "--email-domain", email[1:]])
        else:
            out.append(["users", "edit", "*", "--email", email])
    for name, mail in pairs:
        if mail and not skip:
            out.append(["users", "edit", name, "--email", mail])
    return out


def pkprinters_args(argv: Sequence[str]) -> list[list[str]]:
    ap = _parser("pkprinters", "PyKota's printers manager.")
    ap.add_argument("-a", "--add", action="store_true")
    ap.add_argument("-d", "--delete", action="store_true")
    ap.add_argument("-l", "--list", action="store_true")
    ap.add_argument("-s", "--skipexisting", action="store_true")
    ap.add_argument("-c", "--charge")
    ap.add_argument(
        "-C",
        "--cups",
        action="store_true",
        help="Also route the printers' CUPS queues through PageTally.",
    )
    ap.add_argument("-m", "--maxjobsize")
    ap.add_argument("-p", "--passthrough", action="store_true")
    ap.add_argument("-n", "--nopassthrough", action="store_true")
    ap.add_argument("-D", "--description")
    ap.add_argument("-g", "--groups")
    ap.add_argument("-r", "--remove", action="store_true")
    ap.add_argument("names", nargs="*")
    ns = _parse(ap, argv)
    names = ns.names or ["*"]
    if ns.delete:
        return _configured(ns, [["printers", "delete", *names]])
    if ns.list:
        return _configured(ns, [["printers", "list", *ns.names]])
    edits: list[str] = []
    if ns.charge:
        page, _, job = ns.charge.partition(",")
        edits.append(f"--price-per-page={page.strip()}")
        if job.strip():
            edits.append(f"--price-per-job={job.strip()}")
    if ns.maxjobsize:
        mjs = ns.maxjobsize.strip()
        edits += ["--no-max-job-size"] if mjs.lower() == "unlimited" else ["--max-job-size", mjs]
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
    if ns.cups:
        out.append(["setup", "cups", *names])
    return _configured(ns, out or [["printers", "list", *ns.names]])


def pkbcodes_args(argv: Sequence[str]) -> list[list[str]]:
    """pkbcodes: `-D TEXT code` alone creates the code (PyKota's first example) or
    describes an existing one."""
    ap = _parser("pkbcodes", "PyKota's billing codes manager.")
    ap.add_argument("-a", "--add", action="store_true")
    ap.add_argument("-d", "--delete", action="store_true")
    ap.add_argument("-l", "--list", action="store_true")
    ap.add_argument("-s", "--skipexisting", action="store_true")
    ap.add_argument("-r", "--reset", action="store_true")
    ap.add_argument("-D", "--description")
    ap.add_argument("names", nargs="*")
    ns = _parse(ap, argv)
    names = ns.names or ["*"]
    if ns.delete:
        return _configured(ns, [["billing-codes", "delete", *names]])
    if ns.list:
        return _configured(ns, [["billing-codes", "list", *ns.names]])
    edits = ["--description", ns.description] if ns.description is not None else []
    if ns.reset:
        edits += ["--balance", "0"]
    out: list[list[str]] = []
    exact = [n for n in ns.names if not any(c in n for c in "*?[")]
    if ns.add or (ns.description is not None and exact and exact == ns.names):
        out.append(["billing-codes", "add", *names, "--skip-existing"])
        if ns.skipexisting:
            edits = []
    if edits:
        out.append(["billing-codes", "edit", *names, *edits])
    return _configured(ns, out or [["billing-codes", "list", *ns.names]])


def pkusers() -> None:
    _main("pkusers", pkusers_args)


def pkprinters() -> None:
    _main("pkprinters", pkprinters_args)


def pkbcodes() -> None:
    _main("pkbcodes", pkbcodes_args)


def pkrefund_args(argv: Sequence[str]) -> list[list[str]]:
    """PyKota's pkrefund names jobs by filters (jobid=, printername=, username=,
    hostname=, billingcode=, start=, end=); PageTally refunds every job of the
    history that matches them all, asking before each unless --force."""
    ap = _parser("pkrefund", "PyKota's jobs refunder.")
    ap.add_argument("-f", "--force", action="store_true")
    ap.add_argument("-r", "--reason", default="")
    ap.add_argument("-P", "--printer")
    ap.add_argument("-o", "--output", help="PDF receipts to this file ('-': stdout).")
    ap.add_argument("filters", nargs="*")
    ns = _parse(ap, argv)
    ids: list[str] = []
    filters: list[str] = []
    for item in ns.filters:
        key, eq, value = item.partition("=")
        if not eq:
            ids.append(item)
        else:
            filters.append(f"{key.strip().lower()}={value.strip()}")
    if ns.printer and filters:
        filters.append(f"printername={ns.printer}")
    if not ids and not filters:
        raise SystemExit("pkrefund: name the jobs to refund (jobid=N printername=P ...)")
    out = ["jobs", "refund", *ids, *[x for f in filters for x in ("--filter", f)]]
    if ns.printer and ids:
        out += ["--printer", ns.printer]
    if ns.reason:
        out += ["--reason", ns.reason]
    if ns.output:
        out += ["--receipt", ns.output]
    return _configured(ns, [out + (["--force"] if ns.force else [])])


def pkrefund() -> None:
    _main("pkrefund", pkrefund_args)
