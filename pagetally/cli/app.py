"""The root command group: where every error becomes one line and an exit code.

`PageTallyGroup.main` is the single place errors are rendered: a PageTallyError,
a usage mistake or anything unexpected prints one line on stderr (never a
traceback) and exits with `exit_code_for(...)` (see `exitcodes`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from typer.core import TyperGroup

from pagetally.cli import typer_click as click
from pagetally.cli.exitcodes import ExitCode, exit_code_for
from pagetally.errors import InvalidInput, PageTallyError


def _tidy_help() -> None:
    """Help that reads as the command behaves: Typer labels flags `<bool>` and
    repeatable values `<list[str]>` (Python, not usage). Flags get no label and
    a repeatable value its element's (`<str>`; `...` or "repeatable" says the rest).
    Patched once here, on Typer's parameter class: the one place help types come from."""
    from typer import core

    original = core._TyperParameter.display_type

    def display_type(self: Any, ctx: Any) -> str:
        if getattr(self, "is_flag", False) or getattr(self, "count", False):
            return ""
        label = str(original(self, ctx))
        if label.startswith("<list[") and label.endswith("]>"):
            label = "<" + label[len("<list[") : -2] + ">"
        return label

    if not getattr(original, "_pagetally", False):
        display_type._pagetally = True  # type: ignore[attr-defined]
        core._TyperParameter.display_type = display_type  # type: ignore[method-assign]


_tidy_help()


def check_utf8(args: Sequence[str]) -> None:
    """Every argument must be UTF-8 text: names are stored, mailed and shown as
    such. Python hands undecodable bytes over as surrogates; refuse them here,
    once, naming the argument (its bytes escaped)."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
            raise InvalidInput(
                f"argument '{shown}' is not UTF-8 text: names and values must be UTF-8"
            ) from None


def one_line(text: str) -> str:
    return " ".join(str(text).split())


class PageTallyGroup(TyperGroup):
    """Typer's group, with PageTally's error rendering and exit codes."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        name = prog_name or "pagetally"
        try:
            from pagetally.cli.argfiles import expand_argument_files

            args = expand_argument_files(sys.argv[1:] if args is None else args)
            check_utf8(args)
            rv = super().main(
                args,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
            code = int(rv) if isinstance(rv, int) else ExitCode.OK
        except click.Exit as exc:
            code = exc.exit_code
        except click.UsageError as exc:
            if isinstance(exc, click.NoArgsIsHelpError):  # no arguments: the help
                print(exc.format_message(), file=sys.stdout)
                return self._finish(ExitCode.USAGE, standalone_mode)
            if not exc.format_message().strip():  # the help was shown
                return self._finish(ExitCode.USAGE, standalone_mode)
            where = exc.ctx.command_path if exc.ctx is not None else name
            hint = f" (see '{where} --help')"
            print(f"{where}: error: {one_line(exc.format_message())}{hint}", file=sys.stderr)
            code = ExitCode.USAGE
        except click.ClickException as exc:
            print(f"{name}: error: {one_line(exc.format_message())}", file=sys.stderr)
            code = exc.exit_code
        except click.Abort:
            print(f"{name}: aborted", file=sys.stderr)
            code = ExitCode.ERROR
        except PageTallyError as exc:
            print(f"{name}: error: {one_line(str(exc))}", file=sys.stderr)
            code = exit_code_for(exc)
        except BrokenPipeError:  # `pagetally history | head`: the reader left; not an error
            with contextlib.suppress(OSError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            code = ExitCode.ERROR
        except KeyboardInterrupt as exc:
            print(f"{name}: interrupted", file=sys.stderr)
            code = exit_code_for(exc)
        except Exception as exc:
            detail = one_line(str(exc)) or type(exc).__name__
            print(
                f"{name}: internal error: {type(exc).__name__}: {detail} (please report this)",
                file=sys.stderr,
            )
            code = exit_code_for(exc)
        return self._finish(code, standalone_mode)

    @staticmethod
    def _finish(code: int, standalone_mode: bool) -> int:
        if standalone_mode:
            sys.exit(code)
        return code
