"""cupsd cancels a job by sending its backend SIGTERM, then SIGKILL after
JobKillDelay (30 s by default). Dying at once would lose the charge of a job
whose data already reached the printer (hardware accounting still waits for the
counter after the real backend ends), so the backend notes the cancel instead:
before printing, the job is not printed; during and after, what was printed is
charged and the job is recorded as cancelled.
"""

from __future__ import annotations

import signal
import threading


class CancelWatch:
    """A SIGTERM noted, for the whole job (while the real backend runs,
    realbackend_process forwards it there and then restores this handler)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._previous: signal.Handlers | int | object = None
        self._installed = False

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._noted)
            self._installed = True

    def _noted(self, signum: int, frame: object) -> None:
        self._event.set()
        if callable(self._previous):  # the job runner's child notes it too
            self._previous(signum, frame)

    def restore(self) -> None:
        """Put back the handler found (the backend process exits anyway; tests and
        the job runner's children do not)."""
        if self._installed:
            previous = self._previous if self._previous is not None else signal.SIG_DFL
            signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]
            self._installed = False

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
