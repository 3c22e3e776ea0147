"""What every printer-counter source shares: a reading, the accounter protocol, errors.

A `HardwareAccounter` answers one question, `read()`: the printer's life page
counter now and what state the printer says it is in. Waiting for the printer to
be idle and its counter stable is not the accounter's job: `session.py` does it,
the same way for every source, with an injected clock so it is tested without
sleeping.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pagetally.errors import DeviceError


class PrinterState(enum.StrEnum):
    """The printer's state, reduced to what accounting needs."""

    IDLE = "idle"  # ready, standby or power save: nothing is being printed
    PRINTING = "printing"  # printing or warming up to print
    ERROR = "error"  # needs a person (paper out, jam, door open, offline, ...)
    BUSY = "busy"  # anything else (self test, processing, unknown codes)
    UNKNOWN = "unknown"  # the source does not report a state


@dataclass(frozen=True, slots=True)
class Reading:
    """One answer from a printer. `detail` says why, for logs (e.g. 'No Paper')."""

    counter: int | None
    state: PrinterState
    detail: str = ""


@runtime_checkable
class HardwareAccounter(Protocol):
    """A source of a printer's life page counter (SNMP, PJL, external command).

    `name` identifies the printer in messages. `reports_status` is False for
    sources that only give a number (external command): the session then reads
    once before and once after the job, without waiting for idle.
    `read()` raises `DeviceError` when the printer does not answer; the session
    treats that as transient, except `CounterNotSupported`.
    """

    @property
    def name(self) -> str: ...

    @property
    def reports_status(self) -> bool: ...

    def read(self) -> Reading: ...


class Clock(Protocol):
    """Time as the session sees it; tests inject a fake one that never sleeps."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


# --- errors (all DeviceError, so an edge renders them as a device failure) --------


class CounterUnavailable(DeviceError):
    """The printer did not answer (for longer than allowed)."""

    def __init__(self, message: str, *, last_counter: int | None = None) -> None:
        super().__init__(message)
        self.last_counter = last_counter


class CounterNotSupported(CounterUnavailable):
    """The printer answers but has no page counter (e.g. no prtMarkerLifeCount)."""


class PrinterStalled(DeviceError):
    """The printer stayed in an error state (paper out, jam...) or busy too long.

    `last_counter` is the last counter value read, so that a caller may charge
    what was printed so far if its policy says so.
    """

    def __init__(self, message: str, *, last_counter: int | None = None) -> None:
        super().__init__(message)
        self.last_counter = last_counter


class CounterInconsistent(DeviceError):
    """Two counter values cannot be explained by printing (printer replaced, reset)."""

    def __init__(self, message: str, *, before: int, after: int) -> None:
        super().__init__(message)
        self.before = before
        self.after = after
