"""What the backend says to cupsd: exit codes and stderr message lines.

Exit codes are CUPS' backend conventions (cups/backend.h). Message lines are read
by cupsd: `INFO:`, `NOTICE:`, `WARNING:` and `ERROR:` set the PRINTER's
printer-state-message (what anyone sees in `lpstat -p -l` and on the web page),
`PAGE:` counts pages, `ATTR:` sets a few printer attributes (none of the job's).

What cupsd 2.4.2 does with them (scheduler/job.c, update_job and finalize_job;
checked against a running cupsd, see docs/backend.md "What lpstat shows"):
- every such line replaces the printer's state message; it is copied to the
  job's job-printer-state-message (`lpstat -l -o`: "Status:") when its level is
  at least the job's level so far (INFO < WARNING < ERROR);
- when the job ends, a job whose highest level was INFO loses its message (why a
  printed job used to show an empty "Status:"); WARNING or ERROR keeps it;
- when the job ends, the printer's message is cleared unless an ERROR line was
  sent: an `ERROR:` stays on the printer, for every user to read.
So what belongs to one person (a refusal's reason with a balance, a job's price)
goes out as `Messages.job`: a WARNING line (kept on the job) and at once an empty
INFO line that clears it from the printer.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO


class BackendExit(enum.IntEnum):
    """CUPS' backend exit codes (cups/backend.h). Which one the backend uses for
    what is `EXIT_FOR`, the one table."""

    OK = 0  # job done
    FAILED = 1  # job failed; cupsd applies the queue's error policy
    AUTH_REQUIRED = 2
    HOLD = 3  # hold the job
    STOP = 4  # stop the queue
    CANCEL = 5  # cancel the job (a refused job: the queue must not stop for it)
    RETRY = 6  # retry the job later
    RETRY_CURRENT = 7  # retry the job now


class Outcome(enum.Enum):
    """How a run of the backend ended, in PageTally's terms (the real backend's
    own verdict on a printed job is passed on: `real_backend_exit`)."""

    DISCOVERY = "discovery"  # no arguments: cupsd asked which devices exist
    SETTLED = "settled"  # charged by an earlier attempt (not printed again), or now
    REFUSED = "refused"  # the rules, printauth or a cancel before printing said no
    CONFIG_BROKEN = "config_broken"  # no accounting possible: queue stopped, job kept
    JOB_ERROR = "job_error"  # a PageTallyError about this job (its data, its options)
    CRASHED = "crashed"  # anything unexpected: one line to cupsd, details to syslog
    UNRECORDABLE_HOLD = "unrecordable_hold"  # no record/spool on disk: onjournalerror hold
    UNRECORDABLE_STOP = "unrecordable_stop"  # no record/spool on disk: onjournalerror stop
    COUNTER_UNREADABLE = "counter_unreadable"  # onaccountererror stop
    BACKEND_KILLED = "backend_killed"  # the real backend died of a signal, job not sent


#: The one mapping of the backend's outcomes to CUPS exit codes (tests/cups/
#: test_exit_codes.py holds it whole and says why each is what it is).
EXIT_FOR: dict[Outcome, BackendExit] = {
    Outcome.DISCOVERY: BackendExit.OK,
    Outcome.SETTLED: BackendExit.OK,
    Outcome.REFUSED: BackendExit.CANCEL,
    Outcome.CONFIG_BROKEN: BackendExit.STOP,
    Outcome.JOB_ERROR: BackendExit.FAILED,
    Outcome.CRASHED: BackendExit.FAILED,
    Outcome.UNRECORDABLE_HOLD: BackendExit.HOLD,
    Outcome.UNRECORDABLE_STOP: BackendExit.STOP,
    Outcome.COUNTER_UNREADABLE: BackendExit.STOP,
    Outcome.BACKEND_KILLED: BackendExit.FAILED,
}


def exit_for(outcome: Outcome) -> BackendExit:
    return EXIT_FOR[outcome]


def real_backend_exit(exit_code: int, *, delivered: bool) -> int:
    """The exit of a job the real backend ran: its own code (a CUPS code too),
    0 when it was killed after it had sent the whole job (printed), and
    BACKEND_KILLED's when a signal ended it before that."""
    if delivered:
        return exit_for(Outcome.SETTLED)
    if exit_code < 0:
        return exit_for(Outcome.BACKEND_KILLED)
    return exit_code


def clean(text: str, limit: int = 1000) -> str:
    """One line, printable, bounded: client text (titles, user names) cannot
    inject further message lines into cupsd's channel."""
    flat = "".join(ch if ch.isprintable() else " " for ch in text)
    return flat[:limit]


class Messages:
    """Writes cupsd message lines to a stream (stderr in production)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def _line(self, prefix: str, text: str) -> None:
        self.stream.write(f"{prefix}: {clean(text)}\n")
        self.stream.flush()

    def info(self, text: str) -> None:
        self._line("INFO", text)

    def error(self, text: str) -> None:
        self._line("ERROR", text)

    def warning(self, text: str) -> None:
        self._line("WARNING", text)

    def debug(self, text: str) -> None:
        self._line("DEBUG", text)

    def job(self, text: str) -> None:
        """Tell the job's owner and admins (the job's "Status:" in `lpstat -l`,
        kept after the job ends), not everyone who looks at the printer: a
        WARNING line, then an empty INFO line clearing the printer's state
        message. One write, so cupsd (single-threaded) reads both lines together
        and no client request is answered in between."""
        self.stream.write(f"WARNING: {clean(text)}\nINFO: \n")
        self.stream.flush()

    def page(self, total: int) -> None:
        self._line("PAGE", f"total {total}")

    def attr(self, name: str, value: str) -> None:
        self._line("ATTR", f"{name}={value}")

    def relay(self, raw: str) -> None:
        """Pass a line from the real backend through unchanged (it is cupsd's)."""
        self.stream.write(raw if raw.endswith("\n") else raw + "\n")
        self.stream.flush()


# --- PAGE: lines, read from a real backend's stderr (the one parser) -----------


@dataclass(frozen=True, slots=True)
class PageLine:
    """One `PAGE:` line: a total (`total=True`, `count` pages so far, as CUPS' ipp
    backend reports the printer's job-impressions-completed) or one page's copies."""

    total: bool
    count: int
    page: int | None = None


def _digits(word: str) -> bool:
    return word.isascii() and word.isdigit()


def parse_page_line(line: str | bytes) -> PageLine | None:
    """What a `PAGE: total N` or `PAGE: page copies` line says, as cupsd reads it
    (the `PAGE:` prefix exactly, `total` in any case); None for any other line."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    if not line.startswith("PAGE:"):
        return None
    words = line[5:].split()
    if len(words) != 2 or not _digits(words[1]):
        return None
    if words[0].lower() == "total":
        return PageLine(True, int(words[1]))
    if _digits(words[0]):
        return PageLine(False, int(words[1]), int(words[0]))
    return None


def pages_from_stderr(lines: Iterable[str | bytes]) -> int | None:
    """Pages the PAGE: lines report (None if there were none), as cupsd counts
    them: copies of page lines add up, a total line replaces the count so far."""
    count: int | None = None
    for line in lines:
        parsed = parse_page_line(line)
        if parsed is not None:
            count = parsed.count if parsed.total else (count or 0) + parsed.count
    return count
