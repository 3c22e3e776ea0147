"""Talking to printers: their own page counters (SNMP, PJL, external command, IPP).

The only layer that opens sockets to printers. Imports `pagetally.core` and
`pagetally.errors` only; pysnmp (message layer) is imported on first use (~70 ms).
Every failure is a `pagetally.errors.DeviceError` (subclasses below), with a
message for a person.

Hardware (life-counter) accounting — the backend's use, PyKota's procedure::

    from pagetally.devices import Timing, CounterQuirks, counter_before, counter_after
    from pagetally.devices.snmp import SnmpAccounter, SnmpTarget  # or:
    from pagetally.devices.pjl import PjlAccounter            # PjlAccounter(host, 9100)
    from pagetally.devices.external import ExternalAccounter  # (argv, printer=host)

    acc = SnmpAccounter(SnmpTarget("10.0.0.5", community="public"), error_mask=0x4FCC)
    timing = Timing(stabilization_loops=5, stabilization_delay=4.0,
                    no_printing_max_delay=60, skip_initial_wait=False)
    before = counter_before(acc, timing, log=print)      # waits: idle + stable counter
    ... run the real backend (hold the per-printer lock around all this) ...
    count = counter_after(acc, before, timing, CounterQuirks(), job_sent=True, log=print)
    count.pages, count.before, count.after, count.started, count.notes

- `counter_before` / `counter_after` (session.py): the waits. They take a `Clock`
  (default the real one) and a `log` callable for INFO lines; `notes` repeats
  what was logged. See session.py for exactly what they wait for; in short:
  paper out / jams never make a job free (the no-printing delay does not run
  while the printer reports an error), an error lasting `error_max_delay` raises
  `PrinterStalled(last_counter=...)`, no answer for `unreachable_max_delay`
  raises `CounterUnavailable`.
- `pages_printed(before, after, quirks)` / `count_pages` (counter.py): pure
  arithmetic with HP NVRAM (+10 on a step back under 10) and wrap-around at
  999,999 / 2**24-1 / 2**32-1; what cannot be explained raises
  `CounterInconsistent`.
- `HardwareAccounter` (base.py): the protocol (`name`, `reports_status`,
  `read() -> Reading(counter, state, detail)`) that SnmpAccounter,
  PjlAccounter and ExternalAccounter implement. Config directive names map
  one-to-one onto `Timing` fields (statusstabilizationloops,
  statusstabilizationdelay, noprintingmaxdelay, skipinitialwait, errormaxdelay,
  unreachablemaxdelay, maxdelay), snmperrormask onto `snmp.parse_error_mask`.

From configuration (PyKota's `hardware(snmp[:community])`, `hardware(pjl[:port])`,
`hardware(command args {printer})`) and the real device URI::

    from pagetally.devices.factory import accounter_from_directive, host_from_device_uri
    acc = accounter_from_directive("snmp:public", host_from_device_uri("socket://10.0.0.5:9100"))

Two queues on one physical printer must not overlap their readings: hold
`pagetally.devices.lock.printer_lock(host, lock_dir, timeout=..., on_wait=log)`
from before `counter_before` until after `counter_after` (`on_wait` is told once
when another queue holds it). Without it, a printer that buffers jobs and says
idle lets both queues read the same counter before either job prints, and each
is charged the other's pages (tests/cups/test_hardware.py proves both ways).

The printer's own count for one job over IPP (no lock, no idle wait)::

    from pagetally.devices.ipp import IppClient
    client = IppClient("ipp://printer/ipp/print", timeout=10)
    counts = client.wait_job(job_id, timeout=300)  # or client.job_counts(job_id) now
    counts.impressions, counts.media_sheets, counts.pages        # None if not offered
    counts.colour_impressions, counts.mono_impressions, counts.two_sided_impressions
    client.get_printer_attributes(["printer-state", "marker-names"])

What CUPS' own backend reported (`PAGE:` lines on its stderr) is read by
cups/status.py's `parse_page_line`: CUPS' conventions live in cups/.

Test fixtures simulating printers (snmpsim, a PJL printer, ippeveprinter) for
other layers' tests: tests/fixtures_devices.py.
"""

from pagetally.devices.base import (
    Clock,
    CounterInconsistent,
    CounterNotSupported,
    CounterUnavailable,
    HardwareAccounter,
    PrinterStalled,
    PrinterState,
    Reading,
    SystemClock,
)
from pagetally.devices.counter import (
    DEFAULT_QUIRKS,
    CounterDelta,
    CounterQuirks,
    count_pages,
    pages_printed,
)
from pagetally.devices.session import HardwareCount, Timing, counter_after, counter_before

__all__ = [
    "DEFAULT_QUIRKS",
    "Clock",
    "CounterDelta",
    "CounterInconsistent",
    "CounterNotSupported",
    "CounterQuirks",
    "CounterUnavailable",
    "HardwareAccounter",
    "HardwareCount",
    "PrinterStalled",
    "PrinterState",
    "Reading",
    "SystemClock",
    "Timing",
    "count_pages",
    "counter_after",
    "counter_before",
    "pages_printed",
]
