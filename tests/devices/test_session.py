"""The waits before and after a job, against a simulated printer and a fake clock."""

from __future__ import annotations

import pytest

from pagetally.devices import (
    CounterInconsistent,
    CounterNotSupported,
    CounterUnavailable,
    PrinterStalled,
    PrinterState,
    Reading,
    Timing,
    counter_after,
    counter_before,
)
from pagetally.errors import DeviceError
from tests.devices.fakes import BUSY, ERROR, IDLE, PRINTING, FakeClock, TimelinePrinter, phases

T = Timing()  # PyKota's defaults: 5 loops, 4.0 s, noprintingmaxdelay 60


def r(counter: int | None, state: PrinterState = IDLE, detail: str = "") -> Reading:
    return Reading(counter, state, detail)


# --- before the job ---------------------------------------------------------------


def test_before_needs_five_stable_idle_readings_four_seconds_apart() -> None:
    clock = FakeClock()
    printer = TimelinePrinter(clock, phases((0, r(1000))))
    assert counter_before(printer, T, clock=clock) == 1000
    assert printer.reads == [0, 4, 8, 12, 16]


def test_before_skip_initial_wait_takes_the_first_idle_reading() -> None:
    clock = FakeClock()
    printer = TimelinePrinter(clock, phases((0, r(1000))))
    assert counter_before(printer, Timing(skip_initial_wait=True), clock=clock) == 1000
    assert printer.reads == [0]


def test_before_waits_for_a_previous_job_to_finish() -> None:
    clock = FakeClock()
    timeline = phases((0, r(990, PRINTING)), (10, r(995, PRINTING)), (20, r(1000)))
    printer = TimelinePrinter(clock, timeline)
    assert counter_before(printer, T, clock=clock) == 1000
    assert printer.reads[-5:] == [20, 24, 28, 32, 36]


def test_before_printer_claiming_idle_while_counter_moves_is_not_stable() -> None:
    clock = FakeClock()
    # Says idle throughout, but prints one page every 4 s until t=30.
    printer = TimelinePrinter(clock, lambda t: r(1000 + min(int(t // 4), 8)))
    notes: list[str] = []
    assert counter_before(printer, T, clock=clock, log=notes.append) == 1008
    assert clock.now >= 32 + 16
    assert any("says idle but its counter moved" in n for n in notes)


# --- after the job ------------------------------------------------------------------


def test_after_counts_pages_of_a_normal_job() -> None:
    clock = FakeClock()
    timeline = phases((0, r(1000)), (8, r(1001, PRINTING)), (12, r(1003, PRINTING)), (16, r(1003)))
    count = counter_after(TimelinePrinter(clock, timeline), 1000, T, clock=clock)
    assert (count.before, count.after, count.pages, count.started) == (1000, 1003, 3, True)
    assert count.notes == ()


def test_after_printer_that_never_starts_costs_nothing_after_noprintingmaxdelay() -> None:
    clock = FakeClock()
    count = counter_after(TimelinePrinter(clock, phases((0, r(1000)))), 1000, T, clock=clock)
    assert count.pages == 0
    assert not count.started
    assert any("did not start printing within 60 s" in n for n in count.notes)
    assert 60 <= clock.now <= 60 + 5 * 4 + 4


def test_after_paper_out_for_ten_minutes_does_not_make_the_job_free() -> None:
    clock = FakeClock()
    timeline = phases(
        (0, r(1000, ERROR, "No Paper")),
        (600, r(1000)),  # paper put back: idle a moment
        (608, r(1001, PRINTING)),
        (620, r(1004)),
    )
    notes: list[str] = []
    count = counter_after(TimelinePrinter(clock, timeline), 1000, T, clock=clock, log=notes.append)
    assert count.pages == 4
    assert count.started
    assert any("No Paper" in n for n in notes)


def test_after_error_that_clears_restarts_the_no_printing_delay() -> None:
    clock = FakeClock()
    # Idle 40 s, jammed 100 s, idle 40 s, then prints: never 60 quiet seconds in a row.
    timeline = phases(
        (0, r(1000)), (40, r(1000, ERROR, "Jammed")), (140, r(1000)), (180, r(1002)), (184, r(1002))
    )
    count = counter_after(TimelinePrinter(clock, timeline), 1000, T, clock=clock)
    assert count.pages == 2


def test_after_error_lasting_longer_than_errormaxdelay_fails_clearly() -> None:
    clock = FakeClock()
    timeline = phases((0, r(1001, PRINTING)), (8, r(1002, ERROR, "No Paper")))
    printer = TimelinePrinter(clock, timeline)
    with pytest.raises(PrinterStalled) as info:
        counter_after(printer, 1000, Timing(error_max_delay=900), clock=clock)
    assert "No Paper" in str(info.value)
    assert "900 s" in str(info.value)
    assert info.value.last_counter == 1002
    assert 8 + 900 <= clock.now < 8 + 900 + 8


def test_after_error_max_delay_zero_waits_for_ever() -> None:
    clock = FakeClock()
    timeline = phases(
        (0, r(1000, ERROR, "Door Open")), (20_000, r(1001, PRINTING)), (20_010, r(1001))
    )
    count = counter_after(
        TimelinePrinter(clock, timeline), 1000, Timing(error_max_delay=0), clock=clock
    )
    assert count.pages == 1


def test_after_printer_claiming_idle_while_printing() -> None:
    clock = FakeClock()
    # Never says 'printing': counter moves 1 page per 4 s from t=4 to t=24, idle all along.
    printer = TimelinePrinter(clock, lambda t: r(1000 + max(0, min(int(t // 4), 6))))
    count = counter_after(printer, 1000, T, clock=clock)
    assert count.pages == 6
    assert count.started
    assert any("says idle but its counter moved" in n for n in count.notes)


def test_after_hp_nvram_step_back_is_noted() -> None:
    clock = FakeClock()
    timeline = phases((0, r(1000, PRINTING)), (8, r(1003)))
    count = counter_after(TimelinePrinter(clock, timeline), 1005, T, clock=clock)
    assert count.pages == 8
    assert any("NVRAM" in n for n in count.notes)


def test_after_counter_replaced_is_inconsistent() -> None:
    clock = FakeClock()
    timeline = phases((0, r(10, PRINTING)), (8, r(12)))
    with pytest.raises(CounterInconsistent):
        counter_after(TimelinePrinter(clock, timeline), 50_000, T, clock=clock)


def test_after_job_not_sent_does_not_wait_for_printing() -> None:
    clock = FakeClock()
    count = counter_after(
        TimelinePrinter(clock, phases((0, r(1000)))), 1000, T, job_sent=False, clock=clock
    )
    assert count.pages == 0 and not count.started
    assert clock.now == 16


def test_after_busy_state_is_not_idle() -> None:
    clock = FakeClock()
    timeline = phases((0, r(1000, BUSY)), (30, r(1002, BUSY)), (50, r(1002)))
    count = counter_after(TimelinePrinter(clock, timeline), 1000, T, clock=clock)
    assert count.pages == 2
    assert clock.now >= 50 + 16


def test_printer_without_state_is_judged_by_its_counter() -> None:
    clock = FakeClock()
    unknown = PrinterState.UNKNOWN
    idle = TimelinePrinter(clock, phases((0, r(1000, unknown))))
    assert counter_before(idle, T, clock=clock) == 1000
    assert clock.now == 16
    clock.now = 0
    timeline = phases((0, r(1000, unknown)), (10, r(1002, unknown)), (14, r(1005, unknown)))
    count = counter_after(TimelinePrinter(clock, timeline), 1000, T, clock=clock)
    assert (count.after, count.pages) == (1005, 5)
    assert 14 + 16 <= clock.now <= 14 + 20
    clock.now = 100
    stuck = counter_after(TimelinePrinter(clock, phases((0, r(7, unknown)))), 7, T, clock=clock)
    assert stuck.pages == 0 and not stuck.started


# --- a printer that does not answer --------------------------------------------------


def test_transient_failures_are_retried() -> None:
    clock = FakeClock()
    timeline = phases((0, DeviceError("timeout")), (20, r(1000)))
    notes: list[str] = []
    assert (
        counter_before(TimelinePrinter(clock, timeline), T, clock=clock, log=notes.append) == 1000
    )
    assert any("did not answer" in n for n in notes)


def test_printer_gone_for_too_long_raises() -> None:
    clock = FakeClock()
    timeline = phases((0, r(1000, PRINTING)), (8, DeviceError("No SNMP response")))
    with pytest.raises(CounterUnavailable) as info:
        counter_after(
            TimelinePrinter(clock, timeline), 999, Timing(unreachable_max_delay=60), clock=clock
        )
    assert "No SNMP response" in str(info.value)
    assert info.value.last_counter == 1000


def test_counter_not_supported_fails_at_once() -> None:
    clock = FakeClock()
    printer = TimelinePrinter(clock, phases((0, CounterNotSupported("no prtMarkerLifeCount"))))
    with pytest.raises(CounterNotSupported):
        counter_before(printer, T, clock=clock)
    assert printer.reads == [0]


def test_max_delay_bounds_the_whole_wait() -> None:
    clock = FakeClock()
    printer = TimelinePrinter(clock, phases((0, r(1000, PRINTING))))
    with pytest.raises(PrinterStalled) as info:
        counter_before(printer, Timing(max_delay=300), clock=clock)
    assert "maxdelay" in str(info.value)
    assert 300 <= clock.now < 304


# --- sources without status (external command) ------------------------------------


def test_source_without_status_is_read_once_each_side() -> None:
    clock = FakeClock()
    printer = TimelinePrinter(
        clock, lambda t: r(1000 if t < 1 else 1007, BUSY), reports_status=False
    )
    assert counter_before(printer, T, clock=clock) == 1000
    clock.now = 100
    count = counter_after(printer, 1000, T, clock=clock)
    assert count.pages == 7 and count.started
    assert printer.reads == [0, 100]


def test_timing_validates() -> None:
    with pytest.raises(ValueError):
        Timing(stabilization_loops=0)


# --- a printer that says idle while printing, with a window shorter than a page -----


def lying(pages: int, first: float, every: float) -> TimelinePrinter:
    """Says idle all along; its first page at `first` s, then one every `every` s."""
    clock = FakeClock()

    def at(t: float) -> Reading:
        done = 0 if t < first else min(pages, 1 + int(round((t - first) / every, 6)))
        return r(1000 + done)

    return TimelinePrinter(clock, at)


def test_lying_printer_with_one_loop_is_counted_whole() -> None:
    """One loop (no window at all): the printer's pace, learnt from its counter,
    keeps the wait going until the last page (PjlSim showed 3 of 16 pages)."""
    printer = lying(16, 0.25, 0.25)
    clock = printer.clock
    timing = Timing(stabilization_loops=1, stabilization_delay=0.05)
    count = counter_after(printer, 1000, timing, clock=clock)
    assert (count.after, count.pages, count.started) == (1016, 16, True)
    assert 4.0 + 0.5 <= clock.now <= 4.0 + 0.5 + 0.1  # still for 2 x 0.25 s after the last
    assert len([n for n in count.notes if "says idle but its counter moved" in n]) == 1


def test_lying_printer_warm_up_counts_only_until_the_pace_is_known() -> None:
    printer = lying(5, 3.0, 0.25)  # 3 s of warm-up, then a page every 0.25 s
    clock = printer.clock
    timing = Timing(stabilization_loops=2, stabilization_delay=0.1)
    count = counter_after(printer, 1000, timing, clock=clock)
    assert count.pages == 5
    assert clock.now <= 4.0 + 0.5 + 0.2  # not 2 x 3 s after the last page


def test_lying_printer_with_a_long_enough_window_waits_no_longer() -> None:
    printer = lying(3, 4.0, 4.0)  # a page every 4 s; PyKota's window is 16 s
    clock = printer.clock
    count = counter_after(printer, 1000, T, clock=clock)
    assert count.pages == 3
    assert clock.now == 12 + 16


def test_lying_printer_pace_ignores_a_paper_out_pause() -> None:
    """Ten minutes without paper between pages 2 and 3 is not the printer's pace:
    once the paper is back, it is still judged by its page gap (0.25 s)."""
    clock = FakeClock()

    def at(t: float) -> Reading:
        if t < 0.5:
            return r(1000 + int(round(t / 0.25, 6)))
        if t < 600.5:
            return r(1002, ERROR, "LOAD PAPER")
        return r(1002 + min(3, 1 + int(round((t - 600.75) / 0.25, 6))) if t >= 600.75 else 1002)

    printer = TimelinePrinter(clock, at)
    timing = Timing(stabilization_loops=1, stabilization_delay=0.05)
    count = counter_after(printer, 1000, timing, clock=clock)
    assert count.pages == 5
    assert clock.now <= 601.25 + 0.5 + 0.1
