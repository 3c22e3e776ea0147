"""The backend's logging during a job: every record one cupsd `DEBUG:` line
(message, exception type and text), whatever `logger` says; the traceback of
a crash goes to the system log only."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import TextIO


class OneLine(logging.Formatter):
    """A log record as one cupsd `DEBUG:` line: its message and its exception's
    type and text, never a traceback (that goes to the system log only)."""

    def format(self, record: logging.LogRecord) -> str:
        from pagetally.cups.status import clean

        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            text = f"{text} ({type(error).__name__}: {error})"
        return f"DEBUG: {record.name}: {clean(text)}"


@contextlib.contextmanager
def one_line_logging(stream: TextIO) -> Iterator[None]:
    """Whatever logs during the job, and however logging is set up (`logger:
    stderr`, the runner's, none: Python's last resort), reaches cupsd's log as
    one line per record: a traceback there would be the whole job's story."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLine())
    handler.setLevel(logging.WARNING)
    ours = logging.getLogger("pagetally")
    saved = (logging.lastResort, ours.propagate)
    logging.lastResort = handler
    ours.addHandler(handler)
    ours.propagate = False  # a root handler writing to stderr would add the traceback
    try:
        yield
    finally:
        ours.removeHandler(handler)
        logging.lastResort, ours.propagate = saved


def log_crash(argv: Sequence[str]) -> None:
    """The traceback of the exception being handled, to the system log."""
    import logging.handlers

    handler: logging.Handler
    try:  # the traceback, for the administrator; cupsd gets the ERROR line only
        handler = logging.handlers.SysLogHandler(address="/dev/log")
    except OSError:
        handler = logging.NullHandler()
    crash = logging.getLogger("pagetally-crash")
    crash.propagate = False
    crash.addHandler(handler)
    try:
        crash.exception("pagetally backend crashed; argv=%r", list(argv[:5]))
    finally:
        crash.removeHandler(handler)
        handler.close()
