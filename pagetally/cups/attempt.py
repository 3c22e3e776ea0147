"""Printed means charged: one attempt at printing a job, owned from before the
first byte goes to the printer until its charge is settled.

CUPS may run a job's backend several times (a failure, `retry-job`, a restart,
a backend killed), and any process on the way may die. Each attempt therefore

- takes the job's lock (`<directory>/journal/attempts/<key>.lock`, flock) for its
  whole life; the real backend inherits it, so a retry of the job waits until
  the previous attempt and everything it started have ended, never printing
  beside it;
- looks whether the job was charged already (by a previous attempt): then it
  printed then, and is not printed again;
- writes its record (`<key>.printing`) before the real backend starts: a job
  whose record cannot be written (a full disk) is not printed at all;
- renames the record `<key>.printed` as soon as the real backend has delivered
  the job, so that an attempt killed between delivery and charge is charged by
  the next one (CUPS' retry) instead of printed again;
- removes the record once the charge is in the store or the journal.

A record left behind names an attempt that was killed: CUPS' retry settles it
(charge a `printed` one; print again after a `printing` one, which never
finished sending the job). No record is written through fsync: it guards
against a process being killed, which loses nothing written; a power cut
stops the printer too.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pagetally.core import codec
from pagetally.core.models import ChargeRequest, JobFacts

if TYPE_CHECKING:
    from pagetally.cups.keeper import Owner

PRINTING, PRINTED = "printing", "printed"


def job_key(facts: JobFacts) -> str:
    """The job's identity (printer, job id, host, job UUID) as a file name."""
    ident = "\x1f".join([facts.printer, facts.job_id, facts.host or "", facts.job_uuid])
    return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Left:
    """The record a killed attempt left: how far it got, and its charge."""

    state: str  # PRINTING or PRINTED
    request: ChargeRequest


class Attempt:
    """This process's attempt at one job (see the module's docstring)."""

    def __init__(self, directory: str | Path, facts: JobFacts) -> None:
        self.directory = Path(directory)
        self.key = job_key(facts)
        self.lock_fd: int | None = None
        self.state: str | None = None

    @classmethod
    def under(cls, spool_directory: str | Path, facts: JobFacts) -> Attempt:
        from pagetally.storage.journal import Journal

        return cls(Journal.under(spool_directory).attempts, facts)

    def _path(self, state: str) -> Path:
        return self.directory / f"{self.key}.{state}"

    def acquire(self, on_wait: Callable[[str], None]) -> None:
        """Take the job's lock, waiting for a previous attempt still running.
        OSError when the lock cannot be made (a full or read-only disk).

        The lock file is removed by the attempt that ends: one that took the
        lock on a file removed meanwhile takes it again on the new file.
        An unsafe journal folder (UnsafeFolder, an OSError) is refused first."""
        from pagetally.storage.journal import check_folder

        check_folder(self.directory.parent)
        check_folder(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path("lock")
        told = False
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if not told:
                        on_wait("PageTally: waiting for the previous attempt at this job to end")
                        told = True
                    fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = os.stat(path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
            except BaseException:
                os.close(fd)
                raise
            if same:
                self.lock_fd = fd
                return
            os.close(fd)

    def left(self) -> Left | None:
        """What a killed previous attempt left, if anything (the lock is ours)."""
        for state in (PRINTED, PRINTING):
            path = self._path(state)
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
            try:
                return Left(state, codec.loads(ChargeRequest, text))
            except (ValueError, TypeError, KeyError):  # cut short: it never printed
                path.unlink(missing_ok=True)
        return None

    def begin(self, request: ChargeRequest) -> None:
        """The record of this attempt, written before anything is printed; OSError
        (ENOSPC, EROFS, EDQUOT...) means the job must not print. A partial file
        is never left: the temporary one is removed on failure."""
        self.forget()
        for stale in self.directory.glob(f"{self.key}.*.tmp"):  # a killed begin's
            stale.unlink(missing_ok=True)
        data = codec.dumps(request).encode()
        tmp = self.directory / f"{self.key}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, self._path(PRINTING))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.state = PRINTING

    def owner(self, config_path: str | None) -> Owner:
        """What the real backend's keeper needs (cups/keeper.py): the lock, the
        rename that says the printer has the job, and how to settle the job
        when this process was killed (`pagetally.cups.settle`)."""
        import sys

        from pagetally.cups.keeper import Owner

        settle = (
            sys.executable,
            "-m",
            "pagetally.cups.settle",
            *([config_path] if config_path else []),
        )
        return Owner(
            keep_fds=() if self.lock_fd is None else (self.lock_fd,),
            marker=(str(self._path(PRINTING)), str(self._path(PRINTED))),
            settle=settle,
        )

    def printed(self) -> None:
        """The real backend delivered the job: from now on a retry charges it
        rather than printing it again. A rename: no space needed."""
        if self.state == PRINTING:
            with contextlib.suppress(OSError):  # the keeper may have done it already
                os.replace(self._path(PRINTING), self._path(PRINTED))
            self.state = PRINTED

    def forget(self) -> None:
        """No record (left or ours) any more: the job is settled."""
        for state in (PRINTED, PRINTING):
            with contextlib.suppress(OSError):
                self._path(state).unlink()
        self.state = None

    def release(self) -> None:
        """End the attempt: the lock file goes, then the lock."""
        if self.lock_fd is not None:
            with contextlib.suppress(OSError):
                self._path("lock").unlink()
            with contextlib.suppress(OSError):
                os.close(self.lock_fd)
            self.lock_fd = None
