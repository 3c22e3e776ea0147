"""`pagetally [NOUN [SUB]] --help` without Typer or Click: the help text, read.

Importing Typer (with its vendored Click) costs 60-95 ms of CPU, more than the
interpreter's own start; a script or a person asking for help pays it for text
that never changes between releases. So the help of every command is rendered
once, by Typer itself, into `help.txt` beside this module (`python -m
pagetally.cli.helpfile` writes it; tests/cli/test_helpfile.py regenerates it and
compares it with Typer's live output, so it cannot drift), and `launch.run`
serves a pure help request from that file. Stdlib only, and little of it.

A pure help request is `pagetally`, `pagetally -h|--help`, `pagetally PATH...
-h|--help` (PATH a command of the file, the help option one that command takes)
or `pagetally NOUN` alone where Typer shows the group's help; `pagetally
--version` (or -v) is answered here too. Anything else, and a terminal narrower
than 80 columns, goes to Typer as before.

Width: Click wraps help at min(terminal columns, 80) - 2; the file holds it at 78
columns, what Click prints on any terminal at least 80 wide and whenever the
output is not a terminal (Click's fallback is 80 columns). Narrower terminals get
Typer's rendering, so the text is always the one Typer would print.

The file: blocks, each `\\f` PATH TAB HELP-OPTIONS TAB BARE-EXIT NEWLINE TEXT,
where PATH is the command path ("pagetally users add"), HELP-OPTIONS its help
option names (space-separated), BARE-EXIT the exit status of the command given
no arguments when that shows its help (else empty), and TEXT exactly what is
printed. Click never prints a form feed in help (it ends a docstring's help).
"""

from __future__ import annotations

import os
import sys

HELP_FILE = os.path.join(os.path.dirname(__file__), "help.txt")
#: Click's help width on a terminal this wide or wider (and when not a terminal).
MIN_COLUMNS = 80


def _columns() -> int:
    """The terminal's width as Click sees it (`shutil.get_terminal_size`, without
    importing shutil and its compression modules)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or MIN_COLUMNS


def lookup(text: str, args: list[str]) -> tuple[str, int] | None:
    """(help text, exit status) for `pagetally ARGS` from the file's `text`, or
    None when ARGS are not a pure help request the file answers."""
    words, status = args, -1
    if args and args[-1].startswith("-"):
        words, status = args[:-1], 0
    if any(not w or w.startswith("-") or "\t" in w or "\n" in w for w in words):
        return None
    path = " ".join(["pagetally", *words])
    start = text.find(f"\f{path}\t")
    if start < 0:
        return None
    head_end = text.find("\n", start)
    _, options, bare = text[start + 1 : head_end].split("\t")
    end = text.find("\f", head_end)
    body = text[head_end + 1 : end if end >= 0 else len(text)]
    if status == 0:
        return (body, 0) if args[-1] in options.split() else None
    return (body, int(bare)) if bare else None


def respond(args: list[str]) -> int | None:
    """Print the help `pagetally ARGS` asks for and return the exit status, or
    None (nothing printed) when Typer must answer."""
    if args in (["--version"], ["-v"]):  # as main._show_version prints it
        from pagetally import __version__

        found: tuple[str, int] | None = (f"pagetally {__version__}\n", 0)
    elif _columns() < MIN_COLUMNS:
        return None
    else:
        try:
            with open(HELP_FILE, encoding="utf-8") as fh:
                found = lookup(fh.read(), args)
        except OSError:
            return None
    if found is None:
        return None
    body, status = found
    try:
        sys.stdout.write(body)
        sys.stdout.flush()
    except BrokenPipeError:  # `pagetally --help | head -1`, as the full CLI does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status
