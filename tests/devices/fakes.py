"""A fake clock and a scripted printer for the pure accounting logic (no sleeping)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pagetally.devices import PrinterState, Reading
from pagetally.errors import DeviceError

IDLE = PrinterState.IDLE
PRINTING = PrinterState.PRINTING
ERROR = PrinterState.ERROR
BUSY = PrinterState.BUSY


@dataclass
class FakeClock:
    """Time advances only when the code under test sleeps."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


Step = Reading | DeviceError


class TimelinePrinter:
    """A printer whose answer is a function of the fake clock's time.

    `timeline(t)` returns a Reading, or a DeviceError to raise (no answer).
    """

    def __init__(
        self,
        clock: FakeClock,
        timeline: Callable[[float], Step],
        *,
        reports_status: bool = True,
    ) -> None:
        self.clock = clock
        self.timeline = timeline
        self.reports_status = reports_status
        self.reads: list[float] = []

    @property
    def name(self) -> str:
        return "sim"

    def read(self) -> Reading:
        self.reads.append(self.clock.now)
        step = self.timeline(self.clock.now)
        if isinstance(step, DeviceError):
            raise step
        return step


def phases(*spec: tuple[float, Step]) -> Callable[[float], Step]:
    """A timeline from (start time, answer) pairs: each answer holds from its start."""

    def at(t: float) -> Step:
        current = spec[0][1]
        for start, step in spec:
            if t >= start:
                current = step
        return current

    return at
