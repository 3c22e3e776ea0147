"""The command line's exit codes, and the one place errors become exit codes.

Scripts test these: 0 success; 1 a refused job (`jobs add`) or a generic failure;
2 bad arguments or input; 3 configuration; 4 the store failed or is unreachable;
5 something named does not exist; 6 it already exists; 7 a write with read-only
credentials; 8 a job file cannot be analysed; 9 a printer did not answer;
70 an unexpected internal error; 130 interrupted.
"""

from __future__ import annotations

import enum

from pagetally.errors import PageTallyError


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    CONFIG = 3
    STORAGE = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    READ_ONLY = 7
    PDL = 8
    DEVICE = 9
    INTERNAL = 70
    INTERRUPTED = 130


#: `pagetally jobs add`: the job was refused (the rules said deny).
DENIED = ExitCode.ERROR


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code for an error: its class's `exit_code` in the PageTally
    hierarchy; INTERRUPTED for Ctrl-C; INTERNAL for anything unexpected."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(exc, PageTallyError):
        try:
            return ExitCode(exc.exit_code)
        except ValueError:
            return ExitCode.ERROR
    return ExitCode.INTERNAL
