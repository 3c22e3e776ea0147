"""`pagetally`: the admin command line. One module per noun, registered here.

Entry point `run()`; in tests, `typer.testing.CliRunner().invoke(app, args, obj=Env(...))`.

Start-up is paid by every script that calls `pagetally` (or an alias) per user or
per file, so the root imports no command module: `COMMANDS` lists each command's
name, module and one-line help, a command's module is imported (and its Click
command built) only when that command is run or its help shown, and help is
Click's plain text, not Rich's (whose Markdown import alone costs ~100 ms), and
plain parameter values skip Typer's Pydantic converters (`_fastparams`).
tests/cli/test_startup.py holds COMMANDS equal to the commands themselves.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pagetally.cli import _fastparams
from pagetally.cli.app import PageTallyGroup
from pagetally.cli.env import get_env

if TYPE_CHECKING:
    from typer._click import Command, Context, HelpFormatter


@dataclass(frozen=True, slots=True)
class Entry:
    """A command of the root: where it lives and what the root's help says of it.
    `noun`: the module's `app` is a group of subcommands; else the module's
    `register(app)` adds one command."""

    module: str
    help: str
    noun: bool = False
    hidden: bool = False


#: The root's commands, in the order `--help` and docs/cli.md list them.
COMMANDS: dict[str, Entry] = {
    "report": Entry("report", "Usage, limits, balance and grace per printer (PyKota's repykota)."),
    "history": Entry("history", "Show the job history, oldest first (with --limit: the newest N)."),
    "dump": Entry(
        "dump", "Dump the store's data (PyKota's dumpykota) for scripts and other tools."
    ),
    "count": Entry("count", "Count the pages of print jobs (format detected by content)."),
    "warn": Entry(
        "warn", "Mail every user (or group) over a soft limit or low on balance (warnpykota)."
    ),
    "quote": Entry(
        "quote",
        "Price files on each printer the user may print to, counted and "
        "priced as the backend would (PyKota's pykotme).",
    ),
    "invoice": Entry(
        "invoice", "Make PDF invoices of the jobs users were charged for (PyKota's pkinvoice)."
    ),
    "banner": Entry(
        "banner",
        "Write the accounting banner page (user, balance, pages) as PDF (PyKota's pkbanner).",
    ),
    "import-pykota": Entry(
        "importpykota",
        "Import a PyKota store: users, groups and members, "
        "printers and printer groups, quotas with counters and grace "
        "dates, balances, payments, billing codes and the whole job "
        "history.",
    ),
    "sync": Entry(
        "sync",
        "Sync users and groups from the system or an LDAP/AD directory "
        "(new ones added, leavers reported or disabled, never deleted).",
    ),
    "docs": Entry(
        "docs", "Print the command-line reference (docs/cli.md) as Markdown.", hidden=True
    ),
    "serve": Entry("serve", "Serve the store to CUPS backends on a Unix socket, until SIGTERM."),
    "web": Entry("web", "Serve the web interface (pages for users and admins) until interrupted."),
    "web-password": Entry(
        "web", "Set (or --clear) a user's web password (webauth: local), stored as an argon2 hash."
    ),
    "users": Entry("users", "Users: add, edit, delete, list, credit.", noun=True),
    "groups": Entry("groups", "Groups of users: add, edit, delete, list, members.", noun=True),
    "printers": Entry(
        "printers", "Printers and printer groups: add, edit, delete, list, add-to-group.", noun=True
    ),
    "quotas": Entry("quotas", "Page quotas: set, reset, delete, list.", noun=True),
    "billing-codes": Entry("billingcodes", "Billing codes: add, edit, delete, list.", noun=True),
    "payments": Entry("payments", "Payments: credit, refund, debit, list.", noun=True),
    "jobs": Entry("jobs", "Jobs: record one by hand, refund charged ones.", noun=True),
    "allowances": Entry("allowances", "Scheduled allowances: add, list, delete, run.", noun=True),
    "tokens": Entry("tokens", "API tokens for scripts: add, list, revoke.", noun=True),
    "db": Entry("db", "The database: its roles, and creating or upgrading its schema.", noun=True),
    "journal": Entry(
        "journal", "The local journal of charges made while the store was down.", noun=True
    ),
    "setup": Entry("setup", "Install PageTally into the print system.", noun=True),
}

#: Commands built so far (a module is imported and its command built once).
_built: dict[str, Command | None] = {}


def build(name: str) -> Command | None:
    """The Click command `name`, its module imported now; None when the module is
    not installed (an optional part)."""
    if name in _built:
        return _built[name]
    entry = COMMANDS[name]
    try:
        mod = importlib.import_module(f"pagetally.cli.{entry.module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"pagetally.cli.{entry.module}":
            raise
        _built[name] = None
        return None
    # Built under a root of its own, as add_typer()/register() on the real root
    # would: the same Click objects, names and help.
    holder = typer.Typer(add_completion=False, rich_markup_mode=None)
    holder.callback()(_nothing)
    if entry.noun:
        holder.add_typer(mod.app, name=name)
    else:
        mod.register(holder)
    group: Any = typer.main.get_command(holder)
    command: Command = group.commands[name]
    _plain_help(command)
    _fastparams.install(command)
    _built[name] = command
    return command


def _nothing() -> None:
    """The holder's callback (a callback makes it a group even with one command)."""


def _plain_help(command: Any) -> None:
    """Click's plain help for `command` and everything under it (see the top)."""
    command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


class _LazyCommands(MutableMapping[str, "Command"]):
    """A group's `commands` that holds COMMANDS by name and builds each on first
    use; commands added the usual way (tests, plug-ins) are kept as given."""

    def __init__(self, given: MutableMapping[str, Command]) -> None:
        self._given = dict(given)

    def __getitem__(self, name: str) -> Command:
        if name in self._given:
            return self._given[name]
        command = build(name) if name in COMMANDS else None
        if command is None:
            raise KeyError(name)
        return command

    def __setitem__(self, name: str, command: Command) -> None:
        self._given[name] = command

    def __delitem__(self, name: str) -> None:
        del self._given[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (n for n in self._given if n not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(1 for n in self._given if n not in COMMANDS)


class LazyGroup(PageTallyGroup):
    """The root group: lists COMMANDS without importing them; builds one on use."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(self.commands)
        _fastparams.install(self, subcommands=False)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The command list from COMMANDS' one-line helps: no module imported."""
        from typer._click.utils import make_default_short_help

        rows = [(n, e.help) for n, e in COMMANDS.items() if not e.hidden]
        limit = formatter.width - 6 - max(len(n) for n, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl([(n, make_default_short_help(h, limit)) for n, h in rows])


app = typer.Typer(
    cls=LazyGroup,
    rich_markup_mode=None,
    name="pagetally",
    help="PageTally: print accounting and quotas for CUPS (successor of PyKota).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from pagetally import __version__

        print(f"pagetally {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-C",
            metavar="PATH",
            help="Configuration file (else $PAGETALLY_CONFIG, else /etc/pagetally/pagetally.conf).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-v",
            is_eager=True,
            callback=_show_version,
            help="Print the version and exit.",
        ),
    ] = False,
    arguments: Annotated[
        str | None,
        typer.Option(
            "--arguments",
            "-A",
            metavar="FILE",
            help="Read more options and arguments from FILE, one a line (PyKota's -A).",
        ),
    ] = None,
) -> None:
    """PageTally: print accounting and quotas for CUPS (successor of PyKota)."""
    env = get_env(ctx)
    if config:
        env.config_path = config


def run() -> None:
    """The `pagetally` executable."""
    import pagetally.cli

    pagetally.cli.ONE_COMMAND_PROCESS = True
    typer.main.get_command(app)(prog_name="pagetally")


if __name__ == "__main__":
    run()
