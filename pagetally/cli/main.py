"""`pagetally`: the admin command line. One module per noun, registered here.

Entry point `run()`; in tests, `typer.testing.CliRunner().invoke(app, args, obj=Env(...))`.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer

from pagetally.cli.app import PageTallyGroup
from pagetally.cli.env import get_env

app = typer.Typer(
    cls=PageTallyGroup,
    name="pagetally",
    help="PageTally: print accounting and quotas for CUPS (successor of PyKota).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
) -> None:
    """PageTally: print accounting and quotas for CUPS (successor of PyKota)."""
    env = get_env(ctx)
    if config:
        env.config_path = config


#: The nouns, in the order `--help` lists them: (module, command name).
NOUNS = (
    ("users", "users"),
    ("groups", "groups"),
    ("printers", "printers"),
    ("quotas", "quotas"),
    ("billingcodes", "billing-codes"),
    ("payments", "payments"),
    ("jobs", "jobs"),
    ("allowances", "allowances"),
    ("db", "db"),
    ("journal", "journal"),
    ("setup", "setup"),
)
#: Single commands: modules exposing register(app).
COMMANDS = ("report", "history", "dump", "count", "warn", "docs", "serve", "importpykota")


def _register() -> None:
    for module, name in NOUNS:
        mod = _load(module)
        if mod is not None:
            app.add_typer(mod.app, name=name)
    for module in COMMANDS:
        mod = _load(module)
        if mod is not None:
            mod.register(app)


def _load(module: str) -> Any:
    try:
        return importlib.import_module(f"pagetally.cli.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"pagetally.cli.{module}":
            raise
        return None


_register()


def run() -> None:
    """The `pagetally` executable."""
    typer.main.get_command(app)(prog_name="pagetally")


if __name__ == "__main__":
    run()
