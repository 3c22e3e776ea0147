"""Writes `help.txt`, the help of every command as Typer renders it, which
`fasthelp` serves without importing Typer (see there for why and the format).

    python -m pagetally.cli.helpfile          # rewrite pagetally/cli/help.txt
    python -m pagetally.cli.helpfile --check  # exit 1 when it is out of date

Run it after changing any command, option or help text (or COMMANDS);
tests/cli/test_helpfile.py fails until it is.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from pagetally.cli.fasthelp import HELP_FILE

#: Click's width when the terminal is at least 80 columns wide (or not a terminal).
WIDTH = 78


def _walk(cmd: Any, ctx: Any) -> Iterator[tuple[Any, Any]]:
    """Every command under `cmd`, hidden ones too (their help is asked for as well)."""
    from pagetally.cli import typer_click as click

    yield cmd, ctx
    if getattr(cmd, "commands", None) is None:
        return
    for name in cmd.list_commands(ctx):
        sub = cmd.get_command(ctx, name)
        if sub is not None:
            sub_ctx = click.Context(sub, info_name=name, parent=ctx, **sub.context_settings)
            yield from _walk(sub, sub_ctx)


def _bare_status(cmd: Any) -> str:
    """The exit status of the command run without arguments when that prints its
    help (`PageTallyGroup.main`: 2, a usage error), else ""."""
    from pagetally.cli.exitcodes import ExitCode

    if getattr(cmd, "commands", None) is not None and cmd.no_args_is_help:
        return str(int(ExitCode.USAGE))
    return ""


def render() -> str:
    """The whole file: every command's help as `pagetally ... --help` prints it."""
    import typer

    from pagetally.cli import typer_click as click
    from pagetally.cli.main import app

    root = typer.main.get_command(app)
    ctx = click.Context(root, info_name="pagetally", terminal_width=WIDTH, **root.context_settings)
    blocks = []
    for cmd, cctx in _walk(root, ctx):
        options = " ".join(sorted(cmd.get_help_option_names(cctx)))
        text = cmd.get_help(cctx) + "\n"
        assert "\f" not in text, cctx.command_path
        blocks.append(f"\f{cctx.command_path}\t{options}\t{_bare_status(cmd)}\n{text}")
    return "".join(blocks)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in args:
        with open(HELP_FILE, encoding="utf-8") as fh:
            if fh.read() == text:
                return 0
        print(f"{HELP_FILE} is out of date: run python -m pagetally.cli.helpfile", file=sys.stderr)
        return 1
    with open(HELP_FILE, "w", encoding="utf-8") as fh:
        fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
