"""How a printer's jobs are counted: PyKota's `accounter` directive, and the
hardware and IPP ways of counting around the real backend.

`software()` (default): pages from the job data (pdl), times copies still to be
made. `hardware(snmp[:community[:port]] | pjl[:port] | command args)`: the
printer's life counter read before and after the job, under a lock per physical
printer (a job waiting for it says so in CUPS).
`ipp`: the printer's own count for this job, as CUPS' ipp backend reports it on
its stderr (`PAGE: total N`, from job-impressions-completed) — no idle wait, no
lock. `ink(colorspace[,dpi])`: software pages, priced by ink coverage.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pagetally.core.directives import Accounter, parse_accounter
from pagetally.errors import ConfigError

__all__ = ["Accounter", "Counted", "HardwareCounting", "parse_accounter"]

if TYPE_CHECKING:
    from pagetally.devices.lock import PrinterIdentity, Resolver


@dataclass(frozen=True, slots=True)
class Counted:
    """What the printer says it printed for this job, or None when not known."""

    pages: int | None
    before: int | None = None  # life counter before the job (hardware)
    note: str = ""


class HardwareCounting:
    """Reads the life counter before and after the real backend, holding the
    printer's lock all along so another queue's job cannot mix in. The lock is
    the physical printer's (`physicalprinter`, else the addresses the device
    URI's host resolves to: devices/lock.py), not the queue's nor the URI's."""

    def __init__(
        self,
        spec: str,
        device_uri: str,
        lock_dir: Path,
        settings: Callable[[str], object],
        log: Callable[[str], None],
        *,
        resolver: Resolver | None = None,
    ) -> None:
        from pagetally.devices import Timing
        from pagetally.devices.factory import accounter_from_directive, host_from_device_uri
        from pagetally.devices.snmp import parse_error_mask

        host = host_from_device_uri(device_uri)
        try:
            mask = parse_error_mask(str(settings("snmperrormask")))
        except ValueError as e:
            raise ConfigError(str(e), directive="snmperrormask") from None
        self.accounter = accounter_from_directive(spec, host, error_mask=mask)
        self.host = host
        self.device_uri = device_uri
        self.physical = settings("physicalprinter")
        self.resolver = resolver
        self.lock_dir = lock_dir
        self.log = log
        self.timing = Timing(
            stabilization_loops=int(str(settings("statusstabilizationloops"))),
            stabilization_delay=float(str(settings("statusstabilizationdelay"))),
            no_printing_max_delay=float(str(settings("noprintingmaxdelay"))),
            skip_initial_wait=bool(settings("skipinitialwait")),
            error_max_delay=float(str(settings("errormaxdelay"))),
            unreachable_max_delay=float(str(settings("unreachablemaxdelay"))),
        )
        self.before: int | None = None

    def identity(self) -> PrinterIdentity:
        """The physical printer, resolved now (bounded in time); a fallback to
        the host name alone is logged, since it may not match other queues."""
        from pagetally.devices.lock import printer_identity, system_resolver

        ident = printer_identity(
            self.host,
            device_uri=self.device_uri,
            explicit=str(self.physical) if self.physical else None,
            resolver=self.resolver or system_resolver,
        )
        if ident.fallback:
            self.log(
                f"PageTally: {ident.fallback}; the printer's lock is keyed by "
                f"the name {ident.keys[0]!r}"
            )
        return ident

    def lock(self) -> AbstractContextManager[None]:
        from pagetally.devices.lock import printer_lock

        ident = self.identity()
        return printer_lock(
            ident.keys, self.lock_dir, timeout=3600, on_wait=self.log, name=ident.name
        )

    def read_before(self) -> int:
        from pagetally.devices import counter_before

        self.before = counter_before(self.accounter, self.timing, log=self.log)
        return self.before

    def read_after(self, job_sent: bool) -> Counted:
        from pagetally.devices import PrinterStalled, counter_after, pages_printed

        assert self.before is not None
        try:
            count = counter_after(
                self.accounter, self.before, self.timing, job_sent=job_sent, log=self.log
            )
        except PrinterStalled as e:
            last = getattr(e, "last_counter", None)
            if last is None:
                raise
            pages = pages_printed(self.before, last)
            return Counted(pages, self.before, f"printer stalled: charged {pages} printed")
        return Counted(count.pages, count.before, "; ".join(count.notes))


def no_lock() -> AbstractContextManager[None]:
    return nullcontext()
