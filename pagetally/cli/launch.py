"""The `pagetally` executable's entry point: `pagetally count` without Click.

A script that counts files one process each (as PyKota's pkpgcounter was used)
pays the start-up of every process: building the Click application costs more
than counting a small job. So `pagetally count ARGS` goes straight to the count
(`count.fast_main`); everything else, and any `count` arguments the fast path
does not take as they are (help, errors, root options), goes to the full
command line, `pagetally.cli.main.run`, which says the same as always. Likewise
a pure help request (`pagetally`, `pagetally [NOUN [SUB]] --help`) is answered
from the help text Typer rendered at build time (`fasthelp`), without Typer.
"""

from __future__ import annotations

import sys


def run() -> None:
    """The `pagetally` executable."""
    import pagetally.cli

    pagetally.cli.ONE_COMMAND_PROCESS = True
    if sys.argv[1:2] == ["count"] and not {"--help", "-h"} & set(sys.argv[2:]):
        # (help is fasthelp's: the count's module imports the parsers' package)
        from pagetally.cli.count import fast_main

        code = fast_main(sys.argv[2:])
        if code is not None:
            sys.stdout.flush()
            raise SystemExit(code)
    from pagetally.cli.fasthelp import respond

    code = respond(sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    from pagetally.cli.main import run as full

    full()
