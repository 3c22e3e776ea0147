"""Reading a printer's counter before and after a job: waiting, stability, verdict.

The procedure is PyKota's, with its directive names and defaults, made explicit
and bounded:

Before the job (`counter_before`): read until the printer reports idle with the
same counter `statusstabilizationloops` times in a row, `statusstabilizationdelay`
seconds apart (with `skipinitialwait`, the first idle reading is enough).

After the job (`counter_after`):
1. wait until the printer has started: it reports printing/warming up, or its
   counter moved away from the value before the job (a printer that claims to be
   idle while printing). If it stays quietly idle, without any error, for
   `noprintingmaxdelay` seconds (0: wait for ever), the printer is taken not to
   print this job: the stable counter is read and the job costs what the counter
   says (usually 0), with a note saying so.
2. wait until it is idle again with a stable counter, as before the job. An idle
   reading whose counter differs from the previous one restarts the count: a
   printer claiming idle while its counter moves is still printing. The
   window, (loops - 1) x delay (16 s with the defaults), should be longer than
   the printer takes per page; once a printer is caught saying idle (or nothing)
   while its counter moves, its counter must also stay still for twice the
   longest gap seen between two moves (the first page's gap counted from when
   the job was sent or an error cleared, until a gap between pages is seen;
   time in an error state is no gap), at most
   `LYING_QUIET_CAP` seconds: a window shorter than a page (e.g. 1 loop) would
   otherwise take such a printer as done after its first page.

Paper out and other error states (the printer says it needs a person) never make
a job free: while the printer reports an error, the no-printing delay does not
run (it restarts from zero when the error clears), and the session keeps waiting
up to `errormaxdelay` seconds of continuous error (0: for ever), then raises
`PrinterStalled` with the last counter read, for the caller's error policy.
A printer that does not answer for `unreachablemaxdelay` seconds raises
`CounterUnavailable`. `maxdelay` (0: none) bounds each whole wait.

A printer that reports no state at all (state UNKNOWN) is judged by its counter
alone: stable for the stabilisation window means idle.

Every decision that is not the plain case is recorded in `notes` (and passed to
the optional `log` callable) so the backend can show it in CUPS' log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pagetally.devices.base import (
    Clock,
    CounterNotSupported,
    CounterUnavailable,
    HardwareAccounter,
    PrinterStalled,
    PrinterState,
    Reading,
    SystemClock,
)
from pagetally.devices.counter import DEFAULT_QUIRKS, CounterQuirks, count_pages
from pagetally.errors import DeviceError

Log = Callable[[str], None]

# States in which a stable counter means the printer is done. UNKNOWN: a printer
# that reports no state at all (no Host Resources MIB) is judged by its counter.
_RESTING = frozenset({PrinterState.IDLE, PrinterState.UNKNOWN})
LYING_QUIET_CAP = 120.0  # seconds: bound on the stillness asked of a lying printer


@dataclass(frozen=True, slots=True)
class Timing:
    """How long and how often to poll a printer (PyKota's directives and defaults)."""

    stabilization_loops: int = 5  # statusstabilizationloops
    stabilization_delay: float = 4.0  # statusstabilizationdelay (seconds)
    no_printing_max_delay: float = 60.0  # noprintingmaxdelay; 0 = wait for ever
    skip_initial_wait: bool = False  # skipinitialwait (before the job only)
    error_max_delay: float = 3600.0  # errormaxdelay: continuous error state; 0 = for ever
    unreachable_max_delay: float = 120.0  # unreachablemaxdelay: no answer at all
    max_delay: float = 0.0  # maxdelay: bound on each whole wait; 0 = none

    def __post_init__(self) -> None:
        if self.stabilization_loops < 1:
            raise ValueError("statusstabilizationloops must be at least 1")
        if self.stabilization_delay < 0:
            raise ValueError("statusstabilizationdelay must not be negative")


@dataclass(frozen=True, slots=True)
class HardwareCount:
    """What a hardware accounter says a job cost."""

    before: int
    after: int
    pages: int
    started: bool  # the printer was seen printing or its counter moved
    notes: tuple[str, ...] = field(default=())


class _Poller:
    """One wait: reads the accounter, tracks error/unreachable timers, sleeps."""

    def __init__(
        self, acc: HardwareAccounter, timing: Timing, clock: Clock, log: Log | None
    ) -> None:
        self.acc = acc
        self.timing = timing
        self.clock = clock
        self.log = log
        self.notes: list[str] = []
        self.start = clock.monotonic()
        self.error_since: float | None = None
        self.fail_since: float | None = None
        self.last_counter: int | None = None
        # the printer's pace, learnt from its counter (for printers that lie idle)
        self.lying = False  # caught saying idle (or nothing) while its counter moved
        self.moved_at: float | None = None  # when the counter was last seen moving
        self.first_gap = 0.0  # job sent -> first move seen (includes warm-up)
        self.page_gap = 0.0  # longest gap seen between two moves
        self.in_error = False

    def job_sent(self, before: int) -> None:
        """Count the first page's gap from now, against the counter before the job."""
        self.moved_at = self.clock.monotonic()
        self.last_counter = before

    def quiet_needed(self) -> float:
        """How long a lying printer's counter must stay still to be done (0: not lying)."""
        if not self.lying:
            return 0.0
        return min(2 * (self.page_gap or self.first_gap), LYING_QUIET_CAP)

    def _track(self, reading: Reading, now: float) -> None:
        previous, counter = self.last_counter, reading.counter
        if counter is not None:
            self.last_counter = counter
        if reading.state is PrinterState.ERROR:
            self.in_error = True  # a gap across an error says nothing of the pace
            return
        if self.in_error:
            self.in_error = False
            self.moved_at = now  # the next page's gap counts from here
        if counter is None or previous is None or counter == previous:
            return
        if reading.state in _RESTING:
            self.lying = True
        if self.moved_at is not None:
            if self.first_gap == 0.0:
                self.first_gap = now - self.moved_at
            else:
                self.page_gap = max(self.page_gap, now - self.moved_at)
        self.moved_at = now

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
            if self.log is not None:
                self.log(text)

    def sleep(self) -> None:
        self.clock.sleep(self.timing.stabilization_delay)

    def read(self) -> Reading | None:
        """One reading, or None after a transient failure; raises when out of time."""
        now = self.clock.monotonic()
        t = self.timing
        if t.max_delay and now - self.start >= t.max_delay:
            raise PrinterStalled(
                f"printer {self.acc.name} not ready after {t.max_delay:.0f} s (maxdelay)",
                last_counter=self.last_counter,
            )
        try:
            reading = self.acc.read()
        except CounterNotSupported:
            raise
        except DeviceError as exc:
            if self.fail_since is None:
                self.fail_since = now
            if now - self.fail_since >= t.unreachable_max_delay:
                raise CounterUnavailable(
                    f"printer {self.acc.name} did not answer for "
                    f"{now - self.fail_since:.0f} s: {exc}",
                    last_counter=self.last_counter,
                ) from exc
            self.note(f"printer {self.acc.name} did not answer ({exc}); retrying")
            return None
        self.fail_since = None
        self._track(reading, now)
        if reading.state is PrinterState.ERROR:
            if self.error_since is None:
                self.error_since = now
                self.note(f"printer {self.acc.name} reports an error: {reading.detail}; waiting")
            if t.error_max_delay and now - self.error_since >= t.error_max_delay:
                raise PrinterStalled(
                    f"printer {self.acc.name} reported an error ({reading.detail}) for "
                    f"{now - self.error_since:.0f} s (errormaxdelay {t.error_max_delay:.0f} s)",
                    last_counter=self.last_counter,
                )
        else:
            self.error_since = None
        return reading


def _wait_stable_idle(poller: _Poller, *, allow_skip: bool) -> int:
    """Read until idle with the same counter `stabilization_loops` times in a row
    (and, for a printer caught lying, for `quiet_needed()` seconds)."""
    t = poller.timing
    run = 0
    previous: int | None = None
    still_since = 0.0
    while True:
        reading = poller.read()
        if reading is not None and reading.state in _RESTING and (reading.counter is not None):
            if allow_skip and t.skip_initial_wait:
                return reading.counter
            if run and reading.counter != previous:
                _note_lie(poller, previous, reading.counter, ": still printing")
                run = 0
            if run == 0:
                still_since = poller.clock.monotonic()
            run += 1
            previous = reading.counter
            still = poller.clock.monotonic() - still_since
            if run >= t.stabilization_loops and still >= poller.quiet_needed():
                return reading.counter
        else:
            run = 0
        poller.sleep()


def _note_lie(poller: _Poller, previous: int | None, counter: int, tail: str = "") -> None:
    """Say once per wait that the printer claims idle while its counter moves."""
    if not any("says idle but its counter moved" in n for n in poller.notes):
        poller.note(
            f"printer {poller.acc.name} says idle but its counter moved "
            f"({previous} -> {counter}){tail}"
        )


def _wait_started(poller: _Poller, before: int) -> bool:
    """Wait until the job has visibly started; False if the printer never did."""
    t = poller.timing
    quiet_since: float | None = None
    while True:
        reading = poller.read()
        now = poller.clock.monotonic()
        if reading is not None:
            if reading.state is PrinterState.PRINTING:
                return True
            if reading.counter is not None and reading.counter != before:
                if reading.state is PrinterState.IDLE:
                    _note_lie(poller, before, reading.counter)
                return True
            if reading.state is PrinterState.ERROR:
                quiet_since = None
            else:
                if quiet_since is None:
                    quiet_since = now
                if (
                    t.no_printing_max_delay
                    and reading.state in _RESTING
                    and now - quiet_since >= t.no_printing_max_delay
                ):
                    poller.note(
                        f"printer {poller.acc.name} did not start printing within "
                        f"{t.no_printing_max_delay:.0f} s (noprintingmaxdelay): the job "
                        "was probably not printed"
                    )
                    return False
        poller.sleep()


def counter_before(
    acc: HardwareAccounter,
    timing: Timing = Timing(),
    *,
    clock: Clock | None = None,
    log: Log | None = None,
) -> int:
    """The printer's stable life counter before a job (waits for idle)."""
    poller = _Poller(acc, timing, clock or SystemClock(), log)
    if not acc.reports_status:
        return _read_plain(poller)
    return _wait_stable_idle(poller, allow_skip=True)


def counter_after(
    acc: HardwareAccounter,
    before: int,
    timing: Timing = Timing(),
    quirks: CounterQuirks = DEFAULT_QUIRKS,
    *,
    job_sent: bool = True,
    clock: Clock | None = None,
    log: Log | None = None,
) -> HardwareCount:
    """What the job cost: wait for it to start (if `job_sent`), then for a stable idle.

    `job_sent` False (job refused or cancelled before reaching the printer) skips
    waiting for printing, as PyKota did. Raises `PrinterStalled`,
    `CounterUnavailable` or `CounterInconsistent` (all `DeviceError`).
    """
    poller = _Poller(acc, timing, clock or SystemClock(), log)
    if not acc.reports_status:
        after = _read_plain(poller)
        started = after != before
    else:
        poller.job_sent(before)
        started = _wait_started(poller, before) if job_sent else False
        after = _wait_stable_idle(poller, allow_skip=False)
        started = started or after != before
    delta = count_pages(before, after, quirks)
    if delta.quirk:
        poller.note(f"printer {acc.name}: {delta.quirk}")
    return HardwareCount(before, after, delta.pages, started, tuple(poller.notes))


def _read_plain(poller: _Poller) -> int:
    """A source without status: read until it gives a number (bounded by timers)."""
    while True:
        reading = poller.read()
        if reading is not None and reading.counter is not None:
            return reading.counter
        poller.sleep()
