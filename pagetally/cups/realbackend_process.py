"""The real backend's process (`$CUPS_SERVERBIN/backend/<scheme>`), run once:
what step 5 (cups/printing.py: printing with the counters around it, retries)
and the deny banners (cups/refusal.py) start.

Same argv (argv[0] is the real device URI, as cupsd sets it), DEVICE_URI without
our prefix, the job on standard input (or the file in argv for raw queues). Its
stderr lines go on to cupsd unchanged; `PAGE:` lines are also counted, since
CUPS' own ipp backend reports the printer's page count that way.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import FrameType
from typing import TYPE_CHECKING

from pagetally.cups.status import parse_page_line
from pagetally.cups.ticket import JobTicket

if TYPE_CHECKING:
    from pagetally.cups.keeper import Owner
from pagetally.errors import PageTallyError
from pagetally.proc import owned_by_parent


class RealBackendMissing(PageTallyError):
    """The backend for the real device URI's scheme is not installed."""


@dataclass(frozen=True, slots=True)
class BackendRun:
    exit_code: int
    page_total: int | None  # from `PAGE: total N` lines, when the backend sent any
    page_lines: int  # `PAGE: n copies` lines seen (older backends count this way)
    cancelled: bool = False  # cupsd sent SIGTERM (job cancelled) while it ran
    # killed by a signal nobody here sent, after it had read the whole job from
    # its standard input: a backend that writes straight to the device (see
    # DELIVERING) had handed the printer everything
    delivered: bool = False

    @property
    def printed(self) -> bool:
        """The printer has the whole job (as far as can be known here)."""
        return (self.exit_code == 0 and not self.cancelled) or self.delivered


#: Backends that write what they read straight to the device: one killed after
#: reading its whole standard input had sent the printer the whole job. (ipp, lpd
#: and the like spool it first, so reading says nothing about printing.)
DELIVERING = frozenset({"socket", "usb", "parallel", "serial"})


def backend_path(ticket: JobTicket) -> str:
    scheme = ticket.scheme
    if not scheme or "/" in scheme or scheme.startswith("."):
        raise RealBackendMissing(f"bad device URI scheme {scheme!r}")
    path = os.path.join(ticket.serverbin, "backend", scheme)
    if not os.access(path, os.X_OK):
        raise RealBackendMissing(f"no CUPS backend for {scheme!r} at {path}")
    return path


BACK_FD, SIDE_FD = 3, 4  # CUPS_BC_FD and CUPS_SC_FD: cupsd opens them for backends


@contextmanager
def _channels(inherit: bool) -> Iterator[Callable[[], None] | None]:
    """The back channel (fd 3) and side channel (fd 4) for the real backend.

    Run by cupsd, we pass on the ones cupsd gave us. Run by hand or in tests,
    there are none, and backends such as `socket` wait for ever on a missing side
    channel: the child then gets /dev/null and one end of a quiet socket pair.
    """
    if inherit:
        yield None
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    ours, theirs = socket.socketpair()
    # above 4, so that neither dup2 below overwrites the other's source
    back = fcntl.fcntl(devnull, fcntl.F_DUPFD, 10)
    side = fcntl.fcntl(theirs.fileno(), fcntl.F_DUPFD, 10)
    os.close(devnull)

    def setup() -> None:  # in the child, before exec
        os.dup2(back, BACK_FD)
        os.dup2(side, SIDE_FD)

    try:
        yield setup
    finally:
        os.close(back)
        os.close(side)
        ours.close()
        theirs.close()


def run_real_backend(
    ticket: JobTicket,
    data_path: str,
    relay: Callable[[str], None],
    *,
    inherit_channels: bool = True,
    owner: Owner | None = None,
) -> BackendRun:
    """Run the real backend to completion, relaying its stderr line by line.

    `inherit_channels`: pass on fds 3 and 4 from cupsd (False when not run by
    cupsd: substitutes are made, see `_channels`). `owner`: the job's attempt
    (its lock, held by the real backend too, so that a retry waits for it; its
    record, marked once the printer has the job, even if this process is
    killed meanwhile: see keeper.py — the real backend is started and waited
    for by a keeper process, and dies with it).
    A raw queue's single copy to a backend that writes straight to the device
    goes on standard input rather than by name, so that how far the backend
    read is known if it is killed."""
    from pagetally.cups import keeper

    path = backend_path(ticket)
    cancel_with = None
    if ticket.file and ticket.copies == 1 and ticket.scheme in DELIVERING:
        ticket = replace(ticket, file=None)
        cancel_with = signal.SIGKILL  # see keeper.Launch.cancel_with
    env = dict(ticket.env)
    env["DEVICE_URI"] = ticket.device_uri
    argv = [
        ticket.device_uri,
        ticket.job_id,
        ticket.user,
        ticket.title,
        str(ticket.copies),
        _join_options(ticket.options),
    ]
    argv += [ticket.file] if ticket.file else []
    cancelled = False
    with open(data_path, "rb") as stdin, _channels(inherit_channels) as setup:
        kept = keeper.start(
            keeper.Launch(
                path,
                argv,
                env,
                None if ticket.file else stdin.fileno(),
                delivering=ticket.scheme in DELIVERING,
                owner=owner or keeper.Owner(),
                setup=setup,
                cancel_with=cancel_with,
            ),
            owned_by_parent,
        )

        def forward(signum: int, _frame: FrameType | None) -> None:
            # cupsd cancels a job with SIGTERM: pass it on, then charge what printed
            nonlocal cancelled
            cancelled = True
            with contextlib.suppress(OSError):
                os.kill(kept.keeper, signum)
            if callable(previous):  # the job's own note of the cancel (cups/cancel.py)
                previous(signum, _frame)

        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, forward) if in_main else None
        try:
            page_total, page_lines = _relay(kept.stderr, relay)
            result = keeper.finish(kept)
        finally:
            if in_main:
                signal.signal(signal.SIGTERM, previous)
    return BackendRun(
        result.exit_code,
        page_total,
        page_lines,
        cancelled or result.cancelled,
        result.delivered and not cancelled,
    )


def _relay(fd: int, relay: Callable[[str], None]) -> tuple[int | None, int]:
    """Pass the real backend's stderr (`fd`, closed at its end) on line by line;
    (the last `PAGE: total N`, the sum of `PAGE: n copies` lines)."""
    page_total: int | None = None
    page_lines = 0
    with os.fdopen(fd, "rb") as stderr:
        for raw in stderr:
            line = raw.decode("utf-8", "replace")
            relay(line)
            page = parse_page_line(line)
            if page is not None and page.total:
                page_total = page.count
            elif page is not None:
                page_lines += page.count
    return page_total, page_lines


def _join_options(options: dict[str, str]) -> str:
    """Re-quote options the way cupsd writes them (values with spaces quoted)."""
    parts = []
    for name, value in options.items():
        if any(c.isspace() or c in "'\"\\" for c in value):
            value = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        parts.append(f"{name}={value}")
    return " ".join(parts)
