"""Step 5 of a job: the real backend, with the counters around it — nothing
(software), the printer's own report of the job (ipp), or the printer's life
counter read before and after under a per-printer lock (hardware)."""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pagetally.cups.accounting import Accounter, Counted, HardwareCounting
from pagetally.cups.counting import BackendErrorPolicy, parse_backend_error
from pagetally.cups.realbackend_process import BackendRun, run_real_backend
from pagetally.cups.status import BackendExit, Messages, Outcome, exit_for
from pagetally.cups.ticket import JobTicket
from pagetally.errors import DeviceError

if TYPE_CHECKING:
    from pagetally.config import Config
    from pagetally.cups.keeper import Owner


def send(
    ticket: JobTicket,
    data_path: str,
    msgs: Messages,
    *,
    inherit_channels: bool,
    on_stdin: bool,
    owner: Owner | None = None,
) -> BackendRun:
    """The real backend once, its stderr relayed to cupsd. `on_stdin`: the data is
    ours (banners + job, or a deny banner), not cupsd's spool file, so it goes on
    standard input and argv names no file."""
    if on_stdin:
        ticket = dataclasses.replace(ticket, file=None)
    return run_real_backend(
        ticket, data_path, msgs.relay, inherit_channels=inherit_channels, owner=owner
    )


def send_with_retries(
    attempt: Callable[[], BackendRun],
    policy: BackendErrorPolicy,
    msgs: Messages,
    wait: Callable[[float], bool] | None = None,
) -> BackendRun:
    """`onbackenderror: retry:N:S`: run the real backend again, N more times (0: until
    it works) S seconds apart, while it fails. A cancel (SIGTERM) during the wait
    ends the retries: the last run is returned marked cancelled. `wait(seconds)`
    returns True when cancelled meanwhile (injected by tests)."""
    run = attempt()
    tries = 0
    while (
        not run.printed
        and not run.cancelled
        and policy.retries is not None
        and (policy.retries == 0 or tries < policy.retries)
    ):
        tries += 1
        msgs.info(
            f"PageTally: the real backend failed (exit {run.exit_code}); "
            f"retry {tries} in {policy.delay} s (onbackenderror)"
        )
        if (wait or _wait_unless_cancelled)(policy.delay):
            return dataclasses.replace(run, cancelled=True)
        run = attempt()
    return run


def _wait_unless_cancelled(seconds: float) -> bool:
    """Sleep, but wake up and say so when cupsd cancels the job (SIGTERM)."""
    cancelled = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return cancelled.wait(seconds)
    previous = signal.signal(signal.SIGTERM, lambda *_: cancelled.set())
    try:
        return cancelled.wait(seconds)
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def print_job(
    ticket: JobTicket,
    data_path: str,
    accounter: Accounter,
    config: Config,
    msgs: Messages,
    *,
    inherit_channels: bool,
    composed: bool,
    owner: Owner | None = None,
) -> tuple[BackendRun, Counted] | BackendExit:
    """The real backend, with the printer's counters read around it (hardware) or
    its own report taken (ipp). A counter that cannot be read before the job stops
    the queue (onaccountererror: stop) or falls back to the software count
    (continue); after the job, the software count is used. `composed`: data_path
    holds banners and job, written by us. `owner`: the job's attempt
    (see realbackend_process.run_real_backend)."""
    printer = ticket.printer
    policy = parse_backend_error(config.get_str("onbackenderror", printer))

    def device() -> BackendRun:
        return send_with_retries(
            lambda: send(
                ticket,
                data_path,
                msgs,
                inherit_channels=inherit_channels,
                on_stdin=composed,
                owner=owner,
            ),
            policy,
            msgs,
        )

    if accounter.kind == "ipp":
        run = device()
        if run.page_total:
            return run, Counted(run.page_total, note="pages as counted by the printer")
        return run, Counted(
            None, note="the printer reported no page count: charged the software count"
        )
    if accounter.kind != "hardware":
        return device(), Counted(None)
    hw = HardwareCounting(
        accounter.arg,
        ticket.device_uri,
        Path(config.get_str("directory")) / "locks",
        lambda name: config.get(name, printer),
        msgs.info,
    )
    with hw.lock():
        try:
            hw.read_before()
        except DeviceError as e:
            if config.get_str("onaccountererror", printer) == "stop":
                msgs.error(
                    f"PageTally: cannot read the printer's counter: {e}; queue stopped, job kept"
                )
                return exit_for(Outcome.COUNTER_UNREADABLE)
            msgs.error(
                f"PageTally: cannot read the printer's counter: {e}; charging the software count"
            )
            return device(), Counted(None)
        run = device()
        try:
            return run, hw.read_after(job_sent=run.printed)
        except DeviceError as e:
            return run, Counted(
                None,
                hw.before,
                f"cannot read the printer's counter "
                f"after the job ({e}): charged the software count",
            )
